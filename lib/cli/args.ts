/**
 * A small declarative command-line flag parser.
 *
 * A command declares its flags once, as data:
 *
 *     const trainFlags = [
 *       { name: 'steps', type: 'int', default: 500, min: 1, help: 'optimizer steps' },
 *       { name: 'lambda', type: 'float', default: 0.5, min: 0, help: 'weight of the alignment loss' },
 *       { name: 'dataset', type: 'enum', choices: ['mnist', 'shapes'], default: 'mnist', help: 'training data' },
 *       { name: 'resume', type: 'bool', help: 'continue from the last checkpoint' },
 *     ] as const satisfies readonly FlagSpec[];
 *     const { flags } = parseArgs(process.argv.slice(3), trainFlags, { command: 'train' });
 *     flags.steps; // number
 *
 * and gets parsing, checking and help text from that one list. Flags are written
 * `--name value`, `--name=value`; camelCase names become kebab-case flags (`batchSize` →
 * `--batch-size`); a bool flag is `--resume`, `--no-resume` or `--resume=false`; `--` ends
 * the flags. Every mistake throws a {@link UsageError} whose message names the flag, what
 * was expected and what arrived: `--lambda: expected a number ≥ 0, got -1`.
 */

interface FlagCommon {
  /** The key in the parsed result; the flag is its kebab-case form (`batchSize` → `--batch-size`). */
  name: string;
  /** One line for the help text. */
  help: string;
  /** Fail when the flag is absent and has no default. */
  required?: boolean;
}
/** A free-form string flag. */
export interface StringFlag extends FlagCommon {
  type: 'string';
  default?: string;
  /** Return a message to reject the value (it is prefixed with the flag), or undefined to accept it. */
  validate?: (value: string) => string | undefined;
}
/** A whole-number flag (`--steps 500`), optionally bounded by min/max (inclusive). */
export interface IntFlag extends FlagCommon {
  type: 'int';
  default?: number;
  min?: number;
  max?: number;
  /** Return a message to reject the value (it is prefixed with the flag), or undefined to accept it. */
  validate?: (value: number) => string | undefined;
}
/** A finite real-number flag (`--lr 3e-4`), optionally bounded by min/max (inclusive). */
export interface FloatFlag extends FlagCommon {
  type: 'float';
  default?: number;
  min?: number;
  max?: number;
  /** Return a message to reject the value (it is prefixed with the flag), or undefined to accept it. */
  validate?: (value: number) => string | undefined;
}
/** An on/off switch: `--name`, `--no-name`, `--name=true|false`. Absent means `default ?? false`. */
export interface BoolFlag extends FlagCommon {
  type: 'bool';
  default?: boolean;
}
/** One of a fixed list of strings. */
export interface EnumFlag extends FlagCommon {
  type: 'enum';
  choices: readonly string[];
  default?: string;
  /** Return a message to reject the value (it is prefixed with the flag), or undefined to accept it. */
  validate?: (value: string) => string | undefined;
}
/** The declaration of one flag. */
export type FlagSpec = StringFlag | IntFlag | FloatFlag | BoolFlag | EnumFlag;

/** The value type a flag parses to (an enum flag declared `as const` gives the union of its choices). */
export type FlagValue<F> = F extends { type: 'int' | 'float' }
  ? number
  : F extends { type: 'bool' }
    ? boolean
    : F extends { type: 'enum'; choices: readonly (infer C extends string)[] }
      ? C
      : string;

/** Whether a parsed flag always has a value (it has a default, is required, or is a bool). */
type AlwaysSet<F> = F extends { default: unknown } ? true : F extends { required: true } ? true : F extends { type: 'bool' } ? true : false;

/** The parsed flags of a spec list: one key per flag name, `undefined` only for optional flags without default. */
export type ParsedFlags<S extends readonly FlagSpec[]> = {
  [F in S[number] as F['name']]: AlwaysSet<F> extends true ? FlagValue<F> : FlagValue<F> | undefined;
};

/** What {@link parseArgs} returns. */
export interface ParsedArgs<S extends readonly FlagSpec[]> {
  /** Flag values by name, defaults filled in. */
  flags: ParsedFlags<S>;
  /** Arguments that are not flags (only when `positionals` was allowed), and everything after `--`. */
  positionals: string[];
  /** True when `-h` / `--help` was given: print {@link formatHelp} and exit (required flags are not checked). */
  help: boolean;
  /** The names of the flags given on the command line (the others hold their defaults); also {@link givenFlags}`(flags)`. */
  given: ReadonlySet<string>;
}

/** Which flags of a parsed result were typed, as opposed to filled in from defaults. */
const GIVEN = new WeakMap<object, ReadonlySet<string>>();

/**
 * The names of the flags that were given explicitly when `flags` was parsed by
 * {@link parseArgs} — a default and a typed value look the same otherwise. A flag object built
 * by hand (a test, a script) reports none.
 */
export function givenFlags(flags: object): ReadonlySet<string> {
  return GIVEN.get(flags) ?? new Set();
}

/** Options of {@link parseArgs}. */
export interface ParseOptions {
  /** The command's name, used in messages (`unknown flag --x for 'train'`). */
  command?: string;
  /** Accept arguments that are not flags (default false: they are a usage error). */
  positionals?: boolean;
}

/** A mistake on the command line. The CLI prints its message (and a hint to use --help) and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string, readonly flag?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Refuse flags that were given but do nothing in the chosen mode: `names` are flag names
 * (camelCase), `when` says why, e.g. `with --align off (the baseline has no alignment loss)`.
 * Only explicitly typed flags count ({@link givenFlags}); defaults never trigger it.
 */
export function rejectUnusedFlags(flags: object, names: readonly string[], when: string): void {
  const given = givenFlags(flags);
  const unused = names.filter((n) => given.has(n));
  if (unused.length > 0) {
    const list = unused.map((n) => `--${kebabCase(n)}`);
    throw new UsageError(`${list.join(', ')}: ${unused.length === 1 ? 'has' : 'have'} no effect ${when}; drop ${unused.length === 1 ? 'it' : 'them'}`, list[0]);
  }
}

/** `batchSize` → `batch-size`. */
export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** The flag as typed on the command line: `--batch-size`. */
export function flagText(spec: FlagSpec): string {
  return `--${kebabCase(spec.name)}`;
}

/** What a flag accepts, in words: `an integer ≥ 1`, `a number in [0, 1]`, `one of mnist, shapes`. */
export function describeFlag(spec: FlagSpec): string {
  switch (spec.type) {
    case 'string':
      return 'a string';
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${spec.choices.join(', ')}`;
    case 'int':
    case 'float': {
      const what = spec.type === 'int' ? 'an integer' : 'a number';
      const { min, max } = spec;
      if (min !== undefined && max !== undefined) return `${what} in [${min}, ${max}]`;
      if (min !== undefined) return `${what} ≥ ${min}`;
      if (max !== undefined) return `${what} ≤ ${max}`;
      return what;
    }
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate within edit distance 2 (or a third of the word), if any. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Turn the text of a value into the flag's type, checking range, choices and `validate`. */
function convert(spec: FlagSpec, text: string): string | number | boolean {
  const flag = flagText(spec);
  const fail = (): never => {
    throw new UsageError(`${flag}: expected ${describeFlag(spec)}, got ${JSON.stringify(text)}`, flag);
  };
  let value: string | number | boolean;
  switch (spec.type) {
    case 'bool':
      if (/^(true|1|yes)$/i.test(text)) value = true;
      else if (/^(false|0|no)$/i.test(text)) value = false;
      else return fail();
      return value;
    case 'string':
      value = text;
      break;
    case 'enum':
      if (!spec.choices.includes(text)) fail();
      value = text;
      break;
    case 'int':
    case 'float': {
      const isNumber = spec.type === 'int' ? /^[+-]?\d+$/.test(text) : /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text);
      const n = Number(text);
      if (!isNumber || !Number.isFinite(n) || (spec.type === 'int' && !Number.isSafeInteger(n))) fail();
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError(`${flag}: expected ${describeFlag(spec)}, got ${text}`, flag);
      }
      value = n;
      break;
    }
  }
  const problem = spec.validate?.(value as never);
  if (problem !== undefined) throw new UsageError(`${flag}: ${problem}, got ${JSON.stringify(value)}`, flag);
  return value;
}

/** Tokens like `-1`, `-0.5`, `-3e4` are values, not flags. */
const looksNumeric = (tok: string): boolean => /^-(\d|\.\d)/.test(tok);

/**
 * Parse `argv` (the arguments after the command name) against a list of flag specs.
 * Throws {@link UsageError} for an unknown flag (with a suggestion), a flag given twice, a
 * missing or malformed value, a value out of range or not among the choices, a missing
 * required flag, or an unexpected positional argument.
 */
export function parseArgs<const S extends readonly FlagSpec[]>(argv: readonly string[], spec: S, opts: ParseOptions = {}): ParsedArgs<S> {
  const where = opts.command ? ` for '${opts.command}'` : '';
  const byFlag = new Map<string, FlagSpec>();
  for (const s of spec) {
    const text = flagText(s);
    if (byFlag.has(text)) throw new Error(`parseArgs: two specs declare ${text}`);
    byFlag.set(text, s);
    if (s.name !== kebabCase(s.name)) byFlag.set(`--${s.name}`, s); // also accept the camelCase spelling
  }
  const values = new Map<string, string | number | boolean>();
  const positionals: string[] = [];
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (tok === '-h' || tok === '--help') {
      help = true;
      continue;
    }
    if (!tok.startsWith('-') || tok === '-' || looksNumeric(tok)) {
      if (!opts.positionals) throw new UsageError(`unexpected argument ${JSON.stringify(tok)}${where} (flags start with --; see --help)`);
      positionals.push(tok);
      continue;
    }
    const eq = tok.indexOf('=');
    const name = eq >= 0 ? tok.slice(0, eq) : tok;
    const inline = eq >= 0 ? tok.slice(eq + 1) : undefined;
    let s = byFlag.get(name);
    let negated = false;
    if (!s && name.startsWith('--no-')) {
      const positive = byFlag.get(`--${name.slice(5)}`);
      if (positive?.type === 'bool' && inline === undefined) {
        s = positive;
        negated = true;
      }
    }
    if (!s) {
      const suggestion = closestMatch(name, [...byFlag.keys()]);
      throw new UsageError(`unknown flag ${name}${where}${suggestion ? `; did you mean ${suggestion}?` : ''} (see --help)`, name);
    }
    const flag = flagText(s);
    if (values.has(s.name)) throw new UsageError(`${flag}: given more than once`, flag);
    if (s.type === 'bool') {
      values.set(s.name, inline === undefined ? !negated : convert(s, inline));
      continue;
    }
    let text = inline;
    if (text === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && !looksNumeric(next) && next !== '-')) {
        throw new UsageError(`${flag}: missing value (expected ${describeFlag(s)})`, flag);
      }
      text = next;
      i++;
    }
    values.set(s.name, convert(s, text));
  }

  const flags: Record<string, string | number | boolean | undefined> = {};
  for (const s of spec) {
    if (values.has(s.name)) flags[s.name] = values.get(s.name);
    else if (s.default !== undefined) flags[s.name] = s.default;
    else if (s.type === 'bool') flags[s.name] = false;
    else if (s.required && !help) throw new UsageError(`${flagText(s)}: required (${describeFlag(s)})${where}`, flagText(s));
    else flags[s.name] = undefined;
  }
  const given = new Set(values.keys());
  GIVEN.set(flags, given);
  return { flags: flags as ParsedFlags<S>, positionals, help, given };
}

/**
 * Split `argv` into a subcommand and its arguments: `['train', '--steps', '5']` →
 * `{ command: 'train', rest: ['--steps', '5'] }`. Throws {@link UsageError} when the
 * command is missing or unknown (with a suggestion).
 */
export function selectCommand<C extends string>(argv: readonly string[], commands: readonly C[]): { command: C; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first.startsWith('-')) {
    throw new UsageError(`missing command: expected one of ${commands.join(', ')}`);
  }
  if (!(commands as readonly string[]).includes(first)) {
    const suggestion = closestMatch(first, commands);
    throw new UsageError(`unknown command '${first}'${suggestion ? `; did you mean '${suggestion}'?` : ''} (commands: ${commands.join(', ')})`);
  }
  return { command: first as C, rest };
}

/** Options of {@link formatHelp}. */
export interface HelpOptions {
  /** Program name shown in the usage line (default `arra`). */
  program?: string;
  /** A paragraph under the usage line saying what the command does. */
  summary?: string;
  /** Text after `[flags]` in the usage line, e.g. `<prompt…>` for positionals. */
  usageTail?: string;
}

/**
 * Help text for a command: a usage line, the summary, then one line per flag with its
 * value type, help, default and accepted values, columns aligned.
 */
export function formatHelp(command: string, spec: readonly FlagSpec[], opts: HelpOptions = {}): string {
  const { program = 'arra', summary, usageTail } = opts;
  const rows = spec.map((s) => {
    const left = s.type === 'bool' ? flagText(s) : `${flagText(s)} <${s.type === 'enum' ? s.choices.join('|') : s.type}>`;
    const notes: string[] = [];
    if (s.default !== undefined) notes.push(`default ${JSON.stringify(s.default)}`);
    if (s.required) notes.push('required');
    if ((s.type === 'int' || s.type === 'float') && (s.min !== undefined || s.max !== undefined)) notes.push(describeFlag(s));
    return [left, notes.length ? `${s.help} (${notes.join('; ')})` : s.help] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([l]) => l.length));
  const lines = [`Usage: ${program} ${command} [flags]${usageTail ? ` ${usageTail}` : ''}`, ''];
  if (summary) lines.push(summary, '');
  lines.push('Flags:', ...rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`));
  return `${lines.join('\n')}\n`;
}
