/**
 * Training metrics as JSON Lines: one JSON object per line, appended as it happens
 * (`{"step":100,"loss":2.31,"lr":0.0003}`). The format survives crashes (every finished
 * line is a complete record), can be tailed while training runs, and is read by plotting
 * code, pandas (`read_json(lines=True)`) or `jq`.
 *
 * JSON has no NaN or ±Infinity, and a diverging loss is exactly what a log must not lose,
 * so non-finite numbers are written as the strings "NaN", "Infinity", "-Infinity" and
 * {@link readMetrics} turns those strings back into numbers.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir } from '../io/dirs';

/** One logged record. */
export type MetricsRecord = Record<string, unknown>;

const encodeNonFinite = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const decodeNonFinite = (_key: string, v: unknown): unknown => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v);

/** Options of {@link MetricsLogger}. */
export interface MetricsLoggerOptions {
  /** Start a fresh file instead of appending to an existing one (default false: append, for resumed runs). */
  truncate?: boolean;
  /**
   * When appending (a resumed run), first drop the records whose `step` is ≥ this: the steps a
   * crashed run logged after its last checkpoint, which the resumed run is about to redo.
   * Without this, metrics.jsonl would hold two records for those steps.
   */
  dropFromStep?: number;
}

/**
 * Appends records to a JSONL file. Each {@link MetricsLogger.log} is one `write` system call
 * of one complete line, so nothing sits in a buffer if the process dies. Parent directories
 * are created. When appending to a file whose last line was cut off by a crash, that torn
 * fragment is removed first so the file stays one-record-per-line.
 */
export class MetricsLogger {
  private fd: number | null;

  constructor(readonly path: string, opts: MetricsLoggerOptions = {}) {
    ensureDir(dirname(this.path));
    if (!opts.truncate) dropTornTail(this.path);
    if (!opts.truncate && opts.dropFromStep !== undefined) dropRecordsFrom(this.path, opts.dropFromStep);
    this.fd = fs.openSync(this.path, opts.truncate ? 'w' : 'a');
  }

  /** Append one record as a line of JSON. */
  log(record: MetricsRecord): void {
    if (this.fd === null) throw new Error(`MetricsLogger ${this.path}: log() after close()`);
    const line = `${JSON.stringify(record, encodeNonFinite)}\n`;
    fs.writeSync(this.fd, line);
  }

  /** Close the file (further log() calls throw). Safe to call twice. */
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Cut a trailing partial line (no final newline) left by a crash mid-write. */
function dropTornTail(file: string): void {
  if (!fs.existsSync(file)) return;
  const bytes = fs.readFileSync(file);
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return;
  fs.truncateSync(file, bytes.lastIndexOf(0x0a) + 1);
}

/** Keep only the lines whose record has `step` < `from` (lines without a numeric step are kept). */
function dropRecordsFrom(file: string, from: number): void {
  if (!fs.existsSync(file)) return;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const kept = lines.filter((line) => {
    try {
      const step = (JSON.parse(line) as MetricsRecord).step;
      return typeof step !== 'number' || step < from;
    } catch {
      return true; // not ours to judge: readMetrics reports it
    }
  });
  if (kept.length !== lines.length) fs.writeFileSync(file, kept.map((l) => `${l}\n`).join(''));
}

/**
 * Read a JSONL metrics file back into records (non-finite markers decoded). A final line
 * without its newline (a write cut short by a crash) is ignored; any other line that is not
 * a JSON object is an error naming `file:line`.
 */
export function readMetrics(file: string): MetricsRecord[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const complete = text.endsWith('\n') || text === '' ? lines.slice(0, -1) : lines;
  const records: MetricsRecord[] = [];
  complete.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line, decodeNonFinite);
    } catch (err) {
      if (i === complete.length - 1 && !text.endsWith('\n')) return; // torn final write
      throw new Error(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`${file}:${i + 1}: expected a JSON object per line, got ${line.slice(0, 40)}`);
    }
    records.push(value as MetricsRecord);
  });
  return records;
}
