/**
 * Reading model files as *data*: a small parser for JSON and the JSON-like JavaScript object
 * literals that bundlers emit (`{modelTopology:{sparse:!1, seed:null, rate:.5}}`).
 *
 * nsfwjs ships its Keras topology and its weight shards as browserify bundles
 * (`model.min.js`, `group1-shard1of1.min.js`) so that web pages can `<script>` them. We never
 * `require` or `eval` those files — loading a model must not run code from a model folder.
 * Instead we find the literal assigned to `exports=` in the text and parse it here. The grammar
 * accepted is JSON plus what minifiers produce: unquoted identifier keys, single-quoted strings,
 * `!0`/`!1` for true/false, numbers like `.5` or `-.08`, and `void 0` (undefined → null).
 * Anything else (a call, an operator, a variable) is a syntax error naming the file and offset.
 */

/** A parsed JSON-like value. */
export type LiteralValue = null | boolean | number | string | LiteralValue[] | { [key: string]: LiteralValue };

/** Thrown for text that is not a literal; `file` and `offset` locate the problem. */
export class LiteralSyntaxError extends Error {
  constructor(readonly file: string, readonly offset: number, what: string) {
    super(`${file}: ${what} at character ${offset}`);
    this.name = 'LiteralSyntaxError';
  }
}

/** Parse exactly one literal from `text` starting at `start`; returns the value and where it ended. */
export function parseLiteralAt(text: string, start: number, file: string): { value: LiteralValue; end: number } {
  const p = new LiteralParser(text, start, file);
  const value = p.value();
  return { value, end: p.pos };
}

/** Parse the whole of `text` as one literal (JSON or a JS object literal); trailing text is an error. */
export function parseLiteral(text: string, file: string): LiteralValue {
  const p = new LiteralParser(text, 0, file);
  const value = p.value();
  p.skipSpace();
  if (p.pos < text.length) throw new LiteralSyntaxError(file, p.pos, `unexpected ${describe(text, p.pos)} after the value`);
  return value;
}

/**
 * Find the literal a CommonJS/browserify bundle assigns with `exports=` and parse it without
 * running anything. `accept` picks the right one when a bundle has several `exports=`
 * (the UMD wrapper's `module.exports=e()` is skipped because `e()` is not a literal).
 */
export function extractExportedLiteral(text: string, file: string, accept: (v: LiteralValue) => boolean, what: string): LiteralValue {
  const pattern = /exports\s*=\s*(?=[{["'])/g;
  let firstError: Error | null = null;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    try {
      const { value } = parseLiteralAt(text, m.index + m[0].length, file);
      if (accept(value)) return value;
    } catch (e) {
      firstError ??= e as Error;
    }
  }
  const reason = firstError ? ` (first candidate failed: ${firstError.message})` : '';
  throw new Error(`${file}: no ${what} found — expected JSON, or a JS bundle with \`exports=<literal>\`${reason}`);
}

function describe(text: string, pos: number): string {
  return pos >= text.length ? 'end of text' : `'${text.slice(pos, pos + 12)}'`;
}

const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$]/;

class LiteralParser {
  constructor(private readonly text: string, public pos: number, private readonly file: string) {}

  private fail(what: string): never {
    throw new LiteralSyntaxError(this.file, this.pos, `${what}, found ${describe(this.text, this.pos)}`);
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  value(): LiteralValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"' || c === "'") return this.string();
    if (c === '!') return this.bang();
    if (c === '-' || c === '.' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (c !== undefined && IDENT_START.test(c)) {
      const word = this.identifier();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
      if (word === 'void') {
        this.skipSpace();
        if (this.text[this.pos] === '0') { this.pos++; return null; }
      }
      this.pos -= word.length;
      this.fail(`expected a value (only literals are read, never code)`);
    }
    this.fail('expected a value');
  }

  private object(): { [key: string]: LiteralValue } {
    this.pos++; // {
    const out: { [key: string]: LiteralValue } = {};
    this.skipSpace();
    if (this.text[this.pos] === '}') { this.pos++; return out; }
    for (;;) {
      this.skipSpace();
      const c = this.text[this.pos];
      let key: string;
      if (c === '"' || c === "'") key = this.string();
      else if (c !== undefined && IDENT_START.test(c)) key = this.identifier();
      else if (c !== undefined && c >= '0' && c <= '9') key = String(this.number());
      else this.fail('expected a property name');
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after property '${key}'`);
      this.pos++;
      // defineProperty: a key named "__proto__" must stay plain data
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const sep = this.text[this.pos];
      this.pos++;
      if (sep === '}') return out;
      if (sep !== ',') { this.pos--; this.fail("expected ',' or '}' in an object"); }
    }
  }

  private array(): LiteralValue[] {
    this.pos++; // [
    const out: LiteralValue[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') { this.pos++; return out; }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const sep = this.text[this.pos];
      this.pos++;
      if (sep === ']') return out;
      if (sep !== ',') { this.pos--; this.fail("expected ',' or ']' in an array"); }
    }
  }

  private string(): string {
    const t = this.text;
    const quote = t[this.pos]!;
    const start = ++this.pos;
    // Fast path: long base64 payloads have no escapes.
    const close = t.indexOf(quote, start);
    if (close < 0) { this.pos = start - 1; this.fail('unterminated string'); }
    const slash = t.indexOf('\\', start);
    if (slash < 0 || slash > close) {
      const s = t.slice(start, close);
      if (s.includes('\n')) this.fail('newline inside a string');
      this.pos = close + 1;
      return s;
    }
    let out = '';
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t[this.pos]!;
      if (c === quote) { this.pos++; return out; }
      if (c === '\n') this.fail('newline inside a string');
      if (c !== '\\') { out += c; this.pos++; continue; }
      const e = t[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          const hex = t.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        case undefined: this.fail('unterminated string'); break;
        default: out += e; // \" \' \\ \/
      }
    }
  }

  private bang(): boolean {
    // minifiers write true as !0 and false as !1
    const d = this.text[this.pos + 1];
    if (d === '0' || d === '1') { this.pos += 2; return d === '0'; }
    this.fail('expected !0 or !1');
  }

  private number(): number {
    const m = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 40));
    if (!m) this.fail('expected a number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private identifier(): string {
    const start = this.pos;
    while (this.pos < this.text.length && IDENT_PART.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }
}
