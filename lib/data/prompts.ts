/**
 * Prompts for class-labelled data: turn "tench" into "a photo of a tench".
 *
 * A text-to-image model trained on class data needs text. CLIP's zero-shot recipe uses a
 * handful of templates per class ("a photo of a {}", "a drawing of a {}"); picking one at
 * random per image (seeded) gives the text side a little variety without inventing content.
 */
import { Rng } from '../random';
import type { ImageDataset } from './dataset';

/** Default templates; `{a}` becomes "a" or "an" to fit the name, `{name}` the class name. */
export const PROMPT_TEMPLATES = [
  'a photo of {a} {name}',
  '{a} {name}',
  'an image of {a} {name}',
  'a picture of {a} {name}',
  'a drawing of {a} {name}',
  'a close-up photo of {a} {name}',
  'a blurry photo of {a} {name}',
  'a photo of the {name}',
];

/** "an" before a vowel sound as spelled (a, e, i, o, u), else "a". Good enough for class names. */
export function article(name: string): 'a' | 'an' {
  return /^[aeiou]/i.test(name) ? 'an' : 'a';
}

/** Fill one template with a class name. */
export function fillTemplate(template: string, name: string): string {
  return template.replace(/\{a\}/g, article(name)).replace(/\{name\}/g, name);
}

/** One prompt per label: template chosen by the seeded generator, class name from `classNames`. */
export function promptsForLabels(labels: ArrayLike<number>, classNames: string[], seed: number, templates: string[] = PROMPT_TEMPLATES): string[] {
  if (templates.length === 0) throw new Error('promptsForLabels: no templates given');
  const rng = new Rng(seed);
  return Array.from(labels, (y, i) => {
    const name = classNames[y];
    if (name === undefined) throw new Error(`promptsForLabels: label ${y} of item ${i} has no class name (${classNames.length} classes)`);
    return fillTemplate(templates[rng.int(templates.length)]!, name);
  });
}

/** The same dataset (images shared, not copied) with a seeded template prompt per image. */
export function withPrompts(ds: ImageDataset, seed: number, templates: string[] = PROMPT_TEMPLATES): ImageDataset {
  return { ...ds, prompts: promptsForLabels(ds.labels, ds.classNames, seed, templates) };
}

/** Every prompt any template can make for these classes: the corpus to build a tokenizer's vocabulary from. */
export function promptCorpus(classNames: string[], templates: string[] = PROMPT_TEMPLATES): string[] {
  return classNames.flatMap((name) => templates.map((t) => fillTemplate(t, name)));
}
