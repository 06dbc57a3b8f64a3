/**
 * The files a command reads and writes, checked before it does any work: an input that is
 * missing or a folder where a file belongs, an output folder that cannot be created or
 * written, each a {@link UsageError} naming the flag, the path, what was expected and what
 * was found.
 *
 * Outputs are created here, at the start — not after minutes of training — with
 * {@link ensureDir} (one path component at a time: no unbounded loop on pseudo file systems
 * such as /proc) and probed with a test write. `created` collects the folders made, so that a
 * command that then fails can remove those it left empty.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDir, OutputPathError, probeWritable } from '../io/dirs';
import { UsageError } from './args';

/** What is at a path, in words: `nothing`, `a folder`, `a file of 12 bytes`. */
export function describePath(target: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return 'nothing';
  }
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFile()) return `a file of ${stat.size} bytes`;
  return 'neither a file nor a folder';
}

/**
 * An output location of a command: `dir` is a folder the command writes into (created now),
 * `file` a file it writes (its folder is created now; the file itself must not be a folder).
 */
export function prepareOutput(flag: string, target: string, kind: 'dir' | 'file', created?: string[]): void {
  const dir = kind === 'dir' ? target : path.dirname(path.resolve(target));
  if (kind === 'file' && fs.existsSync(target) && fs.statSync(target).isDirectory()) {
    throw new UsageError(`${flag}: expected a file to write, but ${target} is a folder`, flag);
  }
  try {
    ensureDir(dir, created);
    probeWritable(dir);
  } catch (err) {
    if (err instanceof OutputPathError) throw new UsageError(`${flag}: cannot write output to ${target}: ${err.problem}`, flag);
    throw err;
  }
}

/** An input file that must exist and be a regular file; `what` names the expected kind (`a VQ tokenizer checkpoint`). */
export function requireInputFile(flag: string, target: string, what: string): void {
  const found = describePath(target);
  if (found === 'nothing') throw new UsageError(`${flag}: no file at ${target} (expected ${what})`, flag);
  if (!found.startsWith('a file')) throw new UsageError(`${flag}: expected ${what}, but ${target} is ${found}`, flag);
}

/** An input folder that must exist; `what` names what it should hold. */
export function requireInputDir(flag: string, target: string, what: string): void {
  const found = describePath(target);
  if (found !== 'a folder') throw new UsageError(`${flag}: expected ${what}, but ${target} is ${found}`, flag);
}
