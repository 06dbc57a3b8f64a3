/**
 * A word-level tokenizer for short prompts.
 *
 * Text is lower-cased and split into words (letters/digits, keeping inner hyphens and
 * apostrophes: "t-shirt", "don't") and single punctuation marks. The vocabulary is built
 * from a corpus of prompts: the special tokens first (`<pad>` = 0, `<unk>` = 1), then words
 * by falling frequency, ties alphabetical, so the same corpus always gives the same ids.
 * A word outside the vocabulary becomes `<unk>` — never silently dropped — and is counted,
 * so a run can report which prompt words its model cannot see.
 *
 * The tokenizer is part of a model: save `toJSON()` next to the weights and restore with
 * `TextTokenizer.fromJSON`.
 */

/** Options for {@link TextTokenizer.fromCorpus}. */
export interface TokenizerOptions {
  /** Words seen fewer times are left out (default 1: keep all). */
  minCount?: number;
  /** Keep at most this many entries in all, specials included. */
  maxVocab?: number;
  /** Extra special tokens after `<pad>` and `<unk>` (e.g. `<bos>`, `<eos>`). */
  specials?: string[];
}

/** Options for {@link TextTokenizer.encode}. */
export interface EncodeOptions {
  /** Pad with `<pad>` or cut to exactly this many ids. */
  length?: number;
}

/** The saved form of a tokenizer. */
export interface TokenizerJSON {
  kind: 'word';
  version: 1;
  vocab: string[];
}

/** What {@link TextTokenizer.unknownReport} says. */
export interface UnknownReport {
  /** Unknown words encoded so far (with repeats). */
  total: number;
  /** Each unknown word and how often it came, most frequent first. */
  words: [string, number][];
  /** How many texts were cut to fit a fixed length. */
  truncated: number;
}

/** Split text into lower-case words and punctuation marks. */
export function tokenizeWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu) ?? [];
}

/** Word-level tokenizer with `<pad>` and `<unk>`; see the file comment. */
export class TextTokenizer {
  static readonly PAD = '<pad>';
  static readonly UNK = '<unk>';
  /** Id of `<pad>` (always 0). */
  readonly padId = 0;
  /** Id of `<unk>` (always 1). */
  readonly unkId = 1;
  /** Id → token. */
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;
  private readonly unknown = new Map<string, number>();
  private truncated = 0;

  /** Build from an explicit vocabulary, which must start with `<pad>`, `<unk>`. */
  constructor(vocab: readonly string[]) {
    if (vocab[0] !== TextTokenizer.PAD || vocab[1] !== TextTokenizer.UNK) {
      throw new Error(`TextTokenizer: vocabulary must start with ${TextTokenizer.PAD}, ${TextTokenizer.UNK}; got ${JSON.stringify(vocab.slice(0, 2))}`);
    }
    this.vocab = vocab.slice();
    this.ids = new Map();
    this.vocab.forEach((tok, i) => {
      if (this.ids.has(tok)) throw new Error(`TextTokenizer: token "${tok}" appears twice in the vocabulary (ids ${this.ids.get(tok)} and ${i})`);
      this.ids.set(tok, i);
    });
  }

  /** Build the vocabulary from a corpus of texts (see the file comment for the order). */
  static fromCorpus(texts: readonly string[], opts: TokenizerOptions = {}): TextTokenizer {
    const counts = new Map<string, number>();
    for (const text of texts) for (const w of tokenizeWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const specials = [TextTokenizer.PAD, TextTokenizer.UNK, ...(opts.specials ?? [])];
    const words = [...counts.entries()]
      .filter(([w, c]) => c >= (opts.minCount ?? 1) && !specials.includes(w))
      .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0))
      .map(([w]) => w);
    const vocab = [...specials, ...words];
    return new TextTokenizer(opts.maxVocab !== undefined ? vocab.slice(0, Math.max(opts.maxVocab, specials.length)) : vocab);
  }

  /** Number of tokens, specials included (the embedding table's row count). */
  get size(): number {
    return this.vocab.length;
  }

  /** Id of a token, or `<unk>`'s id. */
  idOf(token: string): number {
    return this.ids.get(token) ?? this.unkId;
  }

  /** Text → ids. Unknown words map to `<unk>` and are counted. With `length`, pads with `<pad>` or truncates (counted). */
  encode(text: string, opts: EncodeOptions = {}): Int32Array {
    const ids: number[] = [];
    for (const w of tokenizeWords(text)) {
      const id = this.ids.get(w);
      if (id === undefined) {
        this.unknown.set(w, (this.unknown.get(w) ?? 0) + 1);
        ids.push(this.unkId);
      } else ids.push(id);
    }
    if (opts.length === undefined) return Int32Array.from(ids);
    if (ids.length > opts.length) this.truncated++;
    const out = new Int32Array(opts.length).fill(this.padId);
    out.set(ids.slice(0, opts.length));
    return out;
  }

  /** Many texts → `ids` `[B·length]` row-major with shape `[B, length]` (for `embedding(weight, ids, shape)`). */
  encodeBatch(texts: readonly string[], length: number): { ids: Int32Array; shape: [number, number] } {
    const ids = new Int32Array(texts.length * length);
    texts.forEach((t, b) => ids.set(this.encode(t, { length }), b * length));
    return { ids, shape: [texts.length, length] };
  }

  /** Ids → text, words joined by spaces; `<pad>` is skipped unless `keepPad`. */
  decode(ids: ArrayLike<number>, opts: { keepPad?: boolean } = {}): string {
    const words: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === this.padId && !opts.keepPad) continue;
      const tok = this.vocab[id];
      if (tok === undefined) throw new Error(`TextTokenizer.decode: id ${id} is outside the vocabulary of ${this.size}`);
      words.push(tok);
    }
    return words.join(' ');
  }

  /** Which words were unknown so far, and how many texts were truncated. */
  unknownReport(): UnknownReport {
    const words = [...this.unknown.entries()].sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : 1));
    return { total: words.reduce((s, [, c]) => s + c, 0), words, truncated: this.truncated };
  }

  /** Forget the unknown-word and truncation counts. */
  resetUnknown(): void {
    this.unknown.clear();
    this.truncated = 0;
  }

  /** The saved form: the vocabulary in id order. */
  toJSON(): TokenizerJSON {
    return { kind: 'word', version: 1, vocab: this.vocab.slice() };
  }

  /** Restore a tokenizer saved with {@link TextTokenizer.toJSON}. */
  static fromJSON(json: TokenizerJSON): TextTokenizer {
    if (json.kind !== 'word' || json.version !== 1 || !Array.isArray(json.vocab)) {
      throw new Error(`TextTokenizer.fromJSON: expected { kind: 'word', version: 1, vocab: [...] }, got kind ${String(json.kind)} version ${String(json.version)}`);
    }
    return new TextTokenizer(json.vocab);
  }
}
