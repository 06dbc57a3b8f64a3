/**
 * `--condition class|text|none` from the command line to the trainer and back
 * (models/prefix.ts has the prefixes themselves):
 *
 * - **class**: the label's class token (LlamaGen c2i), as before.
 * - **text**: every training image gets a prompt — the captions of `--dataset shapes`, or a
 *   seeded template with the class name for any dataset with class names ("a photo of a
 *   seven", lib/data/prompts.ts). A word-level tokenizer built from the prompts that can occur
 *   fixes the vocabulary and the prompt slot (the longest prompt); both go into the checkpoint.
 * - **none**: no condition at all; one constant prefix.
 */
import { editDistance, type ImageDataset, nearestWords, promptCorpus, promptsForLabels, TextTokenizer, tokenizeWords } from '../../lib';
import { UsageError } from '../../lib/cli';
import { CONDITION_MODES, type ConditionSpec } from '../../models/prefix';

export const conditionFlag = {
  name: 'condition', type: 'enum', choices: CONDITION_MODES, default: 'class',
  help: 'conditioning: class (class token), text (prompt tokens: shapes captions or "a photo of a <class>"), none (unconditional)',
} as const;

/** `arra sample` / `eval`: the mode is read from the checkpoint; naming it is an optional check. */
export const expectConditionFlag = {
  name: 'condition', type: 'enum', choices: CONDITION_MODES,
  help: 'optional check: the conditioning the checkpoint must have been trained with (it is read from the checkpoint)',
} as const;

/** A usage error when `--condition` names a mode other than the checkpoint's. */
export function checkConditionMatches(expected: string | undefined, actual: ConditionSpec, file: string): void {
  if (expected !== undefined && expected !== actual.mode) {
    throw new UsageError(`--condition: ${file} was trained with --condition ${actual.mode}, not ${expected}`, '--condition');
  }
}

/** The words of a prompt: lower-cased, punctuation dropped (tokenizer.ts splits it off). */
export function promptWords(text: string): string[] {
  return tokenizeWords(text).filter((w) => /[\p{L}\p{N}]/u.test(w));
}

/** The training prompts of a dataset: its own captions when it has them, else a seeded template per label. */
export function trainingPrompts(ds: ImageDataset, seed: number): string[] {
  return ds.prompts ?? promptsForLabels(ds.labels, ds.classNames, seed);
}

/**
 * A text conditioning for `train`: the tokenizer's vocabulary (from every prompt a template can
 * make plus the dataset's own captions), the prompt slot, and each training image's prompt as
 * word ids.
 */
export function textConditioning(train: ImageDataset, seed: number): { spec: ConditionSpec; prompts: Int32Array[]; texts: string[] } {
  const texts = trainingPrompts(train, seed);
  const corpus = train.prompts ? texts : [...promptCorpus(train.classNames), ...texts];
  const tokenizer = TextTokenizer.fromCorpus(corpus.map((t) => promptWords(t).join(' ')));
  const promptLen = Math.max(1, ...corpus.map((t) => promptWords(t).length));
  const spec: ConditionSpec = { mode: 'text', promptLen, vocab: tokenizer.toJSON().vocab };
  return { spec, prompts: encodePrompts(spec, texts, 'training prompts'), texts };
}

/**
 * Free text → word ids for a text-conditional checkpoint. Case and punctuation are ignored;
 * an unknown word or a prompt longer than the slot is a usage error naming `flag`, the word
 * and the known words nearest to it (edit distance).
 */
export function encodePrompts(spec: ConditionSpec, texts: readonly string[], flag: string): Int32Array[] {
  if (spec.mode !== 'text' || !spec.vocab || spec.promptLen === undefined) throw new Error(`encodePrompts: the model is not text-conditional (condition '${spec.mode}')`);
  const tokenizer = new TextTokenizer(spec.vocab);
  const known = spec.vocab.slice(2); // without <pad>, <unk>
  return texts.map((full) => {
    const words = promptWords(full);
    const text = full.length > 80 ? `${full.slice(0, 77)}…` : full; // as quoted in a message
    if (words.length === 0) throw new UsageError(`${flag}: the prompt '${text}' has no words`, flag);
    for (const w of words) {
      if (tokenizer.idOf(w) === tokenizer.unkId || w === TextTokenizer.PAD || w === TextTokenizer.UNK) {
        const near = nearestWords(w, known, 3);
        const d = near.length ? editDistance(w, near[0]!) : 0;
        throw new UsageError(`${flag}: unknown word '${w}' in '${text}'; nearest known words: ${near.join(', ')} (edit distance ${d}); the model knows ${known.length} words`, flag);
      }
    }
    if (words.length > spec.promptLen!) {
      throw new UsageError(`${flag}: the prompt '${text}' has ${words.length} words, the model's prompt slot holds ${spec.promptLen}`, flag);
    }
    return Int32Array.from(words, (w) => tokenizer.idOf(w));
  });
}
