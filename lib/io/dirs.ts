/**
 * Folders that output goes into: created one level at a time, probed for writing, and swept
 * of temporary files that a killed process left behind.
 *
 * Why not `fs.mkdirSync(dir, { recursive: true })`: on Node 20 it never returns for a path
 * under a pseudo file system that answers `mkdir` with ENOENT even though the parent exists
 * (`/proc/x/y`: 100% CPU, forever). {@link ensureDir} walks the path from its root, one
 * component per iteration — at most as many iterations as the path has components — and
 * stops at the first component it cannot create, saying which one and why.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A folder that cannot be created or written; the message names the path and the reason. */
export class OutputPathError extends Error {
  constructor(readonly target: string, readonly problem: string) {
    super(`${target}: ${problem}`);
    this.name = 'OutputPathError';
  }
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Create `dir` and any missing parents (like `mkdir -p`), one component at a time.
 * Throws {@link OutputPathError} naming the first component that is not a folder or cannot
 * be created. Returns the absolute path. `created`, when given, receives each folder this
 * call created, outermost first (so a caller can undo them, see {@link removeIfEmpty}).
 */
export function ensureDir(dir: string, created?: string[]): string {
  const abs = path.resolve(dir);
  const { root } = path.parse(abs);
  const parts = abs.slice(root.length).split(path.sep).filter((p) => p !== '');
  let current = root;
  for (const part of parts) {
    // bounded: one iteration per path component, no retry
    current = path.join(current, part);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(current);
    } catch {
      stat = undefined;
    }
    if (stat) {
      if (!stat.isDirectory()) throw new OutputPathError(abs, `${current} exists and is not a folder`);
      continue;
    }
    try {
      fs.mkdirSync(current); // not recursive: exactly this one component
      created?.push(current);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && isFolder(current)) continue; // created concurrently
      throw new OutputPathError(abs, `cannot create ${current} (${e.code ?? e.message})`);
    }
  }
  return abs;
}

/** Remove these folders, innermost first, where they are still empty (what a failed command created and never used). */
export function removeIfEmpty(dirs: readonly string[]): void {
  for (const d of [...dirs].reverse()) {
    try {
      fs.rmdirSync(d); // fails, harmlessly, on a folder that holds something
    } catch {
      // not empty, or already gone
    }
  }
}

/**
 * Check that files can be created in the existing folder `dir`: create and remove a small
 * probe file. Throws {@link OutputPathError} when the folder is read-only or is not one.
 */
export function probeWritable(dir: string): void {
  const probe = path.join(dir, `.arra-write-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
  } catch (err) {
    throw new OutputPathError(path.resolve(dir), `cannot write files here (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/** Whether a process with this id is alive on this machine (EPERM: it is, but not ours). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The temporary files a write killed before its rename leaves: `<name>.tmp-<pid>`
 * (atomicWriteFile) and `<name>.<pid>.<hex>.tmp` (what the decoded-image cache, lib/data/cache.ts,
 * wrote before it too went through atomicWriteFile: such leftovers are still swept).
 */
const TEMP_NAMES = [/\.tmp-(\d+)$/, /\.(\d+)\.[0-9a-f]+\.tmp$/];

/**
 * Remove `<name>.tmp-<pid>` (and `<name>.<pid>.<hex>.tmp`) files in `dir` whose writing process is gone (killed between
 * writing and renaming). Files of live processes — another run writing into the same folder —
 * are kept. Returns the names removed. Best effort: an unreadable folder removes nothing.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAMES.map((re) => re.exec(name)).find((x) => x !== null);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // someone else removed or owns it: leave it
    }
  }
  return removed;
}
