/**
 * The judges of the conditioning modes: the attribute classifier behind caption accuracy
 * (models/encoder/attributes.ts) learns the shapes generator's labels in seconds and is
 * scored on held-out scenes; caption scoring, the unconditional class-distribution figures
 * and the nearest-word search have known answers on hand-made cases.
 */
import t from 'tap';
import { captionedShapes, drawScene, editDistance, nearestWords, type ShapeSpec } from '../lib';
import { trainAttributeClassifier } from '../examples/pipeline/attribute-trainer';
import { classDistributionScores } from '../examples/pipeline/class-scores';
import { captionScores, cellCrops, cellTargets, CELL, type CellPrediction } from '../models/encoder';
import { Tensor } from '../lib';

t.test('the attribute classifier reaches its stated accuracy on held-out shapes in seconds', async (t) => {
  const r = trainAttributeClassifier({ imageSize: 32, images: 800, epochs: 6 });
  const h = r.heldOut;
  t.comment(`held-out (${h.images} images, ${h.objects} objects, ${r.seconds.toFixed(1)} s): shape ${h.shape.toFixed(3)}, colour ${h.colour.toFixed(3)}, size ${h.size.toFixed(3)}, position ${h.position.toFixed(3)}, layout ${h.layout.toFixed(3)}, all ${h.allCorrect.toFixed(3)}`);
  t.ok(h.position >= 0.95, `position ≥ 95% (${(100 * h.position).toFixed(1)}%)`);
  t.ok(h.colour >= 0.95, `colour ≥ 95% (${(100 * h.colour).toFixed(1)}%)`);
  t.ok(h.size >= 0.95, `size ≥ 95% (${(100 * h.size).toFixed(1)}%)`);
  t.ok(h.layout >= 0.95, `layout (exactly the named cells are non-empty) ≥ 95% (${(100 * h.layout).toFixed(1)}%)`);
  t.ok(h.shape >= 0.8, `shape ≥ 80% (${(100 * h.shape).toFixed(1)}%; chance is 33%)`);
  t.ok(h.allCorrect >= 0.75, `all attributes of every object ≥ 75% of images (${(100 * h.allCorrect).toFixed(1)}%)`);
});

t.test('cell crops and targets: the shape lands in its own cell, the others stay black', async (t) => {
  const scene: ShapeSpec[] = [{ kind: 'square', color: 'red', size: 'large', cell: 5, cx: 26.7, cy: 16, half: 4.8 }];
  const img = new Tensor(drawScene(scene, 32), [1, 3, 32, 32]);
  const crops = cellCrops(img).values(); // [9, 3, 12, 12]
  const per = 3 * CELL * CELL;
  for (let c = 0; c < 9; c++) {
    let lit = 0;
    for (let i = 0; i < per; i++) lit += crops[c * per + i]!;
    if (c === 5) t.ok(lit > 20, `cell 5 holds the square (sum ${lit.toFixed(1)})`);
    else t.ok(lit < 1, `cell ${c} is (nearly) black (sum ${lit.toFixed(2)})`);
  }
  const tg = cellTargets([scene]);
  t.same(Array.from(tg.kind), [0, 0, 0, 0, 0, 2, 0, 0, 0], 'kind: 0 empty, 2 square');
  t.same(Array.from(tg.colour), [-1, -1, -1, -1, -1, 0, -1, -1, -1], 'colour only where a shape is');
  t.same(Array.from(tg.size), [-1, -1, -1, -1, -1, 1, -1, -1, -1]);
  const ds = captionedShapes(3, { size: 32, seed: 9 });
  t.equal(cellCrops(ds.images).shape[0], 27, 'nine crops per image');
});

t.test('caption scores on hand-made predictions', async (t) => {
  const scene: ShapeSpec[] = [
    { kind: 'circle', color: 'red', size: 'small', cell: 0, cx: 0, cy: 0, half: 1 },
    { kind: 'triangle', color: 'blue', size: 'large', cell: 8, cx: 0, cy: 0, half: 1 },
  ];
  const empty = (): CellPrediction[] => Array.from({ length: 9 }, () => ({ kind: 'empty' as const, colour: 'red', size: 'small' as const }));
  const right = empty();
  right[0] = { kind: 'circle', colour: 'red', size: 'small' };
  right[8] = { kind: 'triangle', colour: 'blue', size: 'large' };
  const wrongColour = right.slice();
  wrongColour[8] = { kind: 'triangle', colour: 'green', size: 'large' };
  const misplaced = empty();
  misplaced[0] = { kind: 'circle', colour: 'red', size: 'small' };
  misplaced[7] = { kind: 'triangle', colour: 'blue', size: 'large' }; // drawn one cell off
  const extra = right.slice();
  extra[4] = { kind: 'square', colour: 'white', size: 'small' }; // an object the caption never named
  t.match(captionScores([right], [scene]), { position: 1, shape: 1, colour: 1, size: 1, layout: 1, allCorrect: 1, objects: 2, images: 1 });
  t.match(captionScores([wrongColour], [scene]), { position: 1, shape: 1, colour: 0.5, size: 1, layout: 1, allCorrect: 0 });
  t.match(captionScores([misplaced], [scene]), { position: 0.5, shape: 0.5, colour: 0.5, size: 0.5, layout: 0, allCorrect: 0 }, 'a shape in the wrong cell scores on no attribute');
  t.match(captionScores([extra], [scene]), { position: 1, shape: 1, colour: 1, size: 1, layout: 0, allCorrect: 0 }, 'an extra object breaks the layout');
  t.match(captionScores([right, misplaced], [scene, scene]), { allCorrect: 0.5, images: 2, objects: 4 });
  t.throws(() => captionScores([right], []), /1 images but 0 scenes/);
});

t.test('class-distribution scores of unconditional samples have known answers', async (t) => {
  const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;
  const spread = classDistributionScores(Float64Array.of(1, 0, 0, 1), 2, 2);
  t.ok(near(spread.inceptionScore, 2) && near(spread.marginalEntropy, Math.log(2)) && spread.meanClassEntropy === 0, 'confident and spread: IS = C');
  t.match(spread, { meanConfidence: 1, coverage: 1 });
  const collapsed = classDistributionScores(Float64Array.of(1, 0, 1, 0), 2, 2);
  t.ok(near(collapsed.inceptionScore, 1), 'every sample the same class: IS = 1');
  t.equal(collapsed.coverage, 0.5, 'one class of two covered');
  const unsure = classDistributionScores(Float64Array.of(0.25, 0.25, 0.25, 0.25), 1, 4);
  t.ok(near(unsure.inceptionScore, 1) && near(unsure.meanClassEntropy, Math.log(4)) && near(unsure.meanConfidence, 0.25), 'uniform guesses: IS = 1, entropy log C');
  t.throws(() => classDistributionScores(Float64Array.of(1, 0, 0), 2, 2), /expected 2 × 2 probabilities/);
});

t.test('edit distance and nearest words', async (t) => {
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('same', 'same'), 0);
  t.equal(editDistance('circel', 'circle'), 2, 'a swap is two edits');
  t.same(nearestWords('circel', ['square', 'circle', 'centre', 'red'], 1), ['circle']);
  t.same(nearestWords('ab', ['b', 'a', 'zzz']), ['a', 'b', 'zzz'], 'ties alphabetical, then farther words');
  t.same(nearestWords('bleu', ['blue', 'red'], 1), ['blue']);
});
