/**
 * Report helpers: Markdown escaping keeps `<HYBNEXT>` visible and tables intact, the
 * "Reproduce with" line is derived from the parsed flags (so `--dataset folder --data-dir …`
 * survives), and the heat map states its range even when every value is the same.
 */
import t from 'tap';
import { heatmapSvg } from '../lib';
import { parseArgs } from '../lib/cli';
import { demoFlags } from '../examples/commands/demo';
import { evalFlags } from '../examples/commands/eval';
import { escapeMarkdown, reproduceCommand } from '../examples/pipeline/report';

t.test('escapeMarkdown', async (t) => {
  t.equal(escapeMarkdown('ARRA (<HYBNEXT>, λ=1)'), 'ARRA (&lt;HYBNEXT&gt;, λ=1)');
  t.equal(escapeMarkdown('a | b & c'), 'a \\| b &amp; c');
});

t.test('the reproduce line carries every flag that was given', async (t) => {
  const argv = ['--preset', 'tiny', '--dataset', 'folder', '--data-dir', '/data/my images', '--seeds', '2', '--out', 'runs/x'];
  const parsed = parseArgs(argv, demoFlags).flags as Record<string, unknown>;
  const line = reproduceCommand('demo', demoFlags, parsed);
  t.equal(line, "npx arra demo --preset tiny --dataset folder --data-dir '/data/my images' --seeds 2 --out runs/x");
  t.same(parseArgs(line.split(/ (?=--)/).slice(1).flatMap((w) => { const i = w.indexOf(' '); return [w.slice(0, i), w.slice(i + 1).replace(/^'|'$/g, '')]; }), demoFlags).flags, parsed, 'and parses back to the same flags');
  const ev = parseArgs(['--model', 'm.safetensors', '--vq', 'v', '--fid-encoder', 'convnet:f', '--classifier', 'c', '--dataset', 'folder', '--data-dir', 'd', '--top-k', '5'], evalFlags).flags as Record<string, unknown>;
  t.match(reproduceCommand('eval', evalFlags, ev), /^npx arra eval --dataset folder --data-dir d --model m\.safetensors --vq v --fid-encoder convnet:f --classifier c .*--top-k 5/);
});

t.test('heatmapSvg: title, axis labels, colour bar with the range; a constant map is widened, not blank', async (t) => {
  const { svg, min, max } = heatmapSvg([{ caption: 'mean', values: [0.92, 0.92, 0.92, 0.92] }], {
    height: 2, width: 2, title: 'cos per position', xLabel: 'column', yLabel: 'row', valueLabel: 'cos',
  });
  t.ok(Math.abs(min - 0.915) < 1e-9 && Math.abs(max - 0.925) < 1e-9, `range widened to [${min}, ${max}]`);
  t.match(svg, /<title>cos per position<\/title>/);
  t.match(svg, />column<\/text>/);
  t.match(svg, /rotate\(-90[^>]*>row<\/text>/);
  t.match(svg, />0\.9250<\/text>[\s\S]*>0\.9150<\/text>/, 'the colour bar is labelled with its range');
  const spread = heatmapSvg([{ caption: 'a', values: [0, 1, 2, 3] }], { height: 2, width: 2, title: 'x', xLabel: 'c', yLabel: 'r', valueLabel: 'v' });
  t.same([spread.min, spread.max], [0, 3], 'the data range by default');
  t.throws(() => heatmapSvg([{ caption: 'bad', values: [1, 2, 3] }], { height: 2, width: 2, title: '', xLabel: '', yLabel: '', valueLabel: '' }), /panel 'bad' has 3 values, expected 2×2 = 4/);
});
