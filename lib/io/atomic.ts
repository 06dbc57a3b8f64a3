/**
 * Atomic file writes: a reader (or a crash) never sees half a file.
 *
 * The recipe is the usual one for POSIX file systems: write the bytes to a temporary file
 * next to the target (`<path>.tmp-<pid>`), `fsync` it so the data is on disk, then
 * `rename` it over the target. `rename` within one directory replaces the name in one step,
 * so the target is always either the complete old file or the complete new one. Finally the
 * directory itself is fsynced (best effort) so that the rename survives a power cut.
 *
 * Checkpoints, metrics summaries and images all go through {@link atomicWriteFile}. A process
 * killed between the write and the rename leaves its `<path>.tmp-<pid>`; the next write into
 * that folder removes such files when their process is gone ({@link removeStaleTempFiles}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDir, removeStaleTempFiles } from './dirs';

/** Options of {@link atomicWriteFile}. */
export interface AtomicWriteOptions {
  /**
   * The rename step, replaceable so that tests can simulate a crash between writing the
   * temporary file and renaming it (a hook that throws). Default: `fs.renameSync`.
   */
  rename?: (from: string, to: string) => void;
  /** Create missing parent directories first, one level at a time ({@link ensureDir}; default true). */
  mkdirs?: boolean;
}

/** The temporary name {@link atomicWriteFile} writes to before renaming: `<path>.tmp-<pid>`. */
export function tempPathFor(target: string): string {
  return `${target}.tmp-${process.pid}`;
}

/**
 * Write `data` to `target` atomically: temp file, fsync, rename, fsync of the directory.
 * On any failure the temporary file is removed and the error rethrown; the previous
 * content of `target` (if any) is untouched.
 */
export function atomicWriteFile(target: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): void {
  const { rename = fs.renameSync, mkdirs = true } = opts;
  const dir = path.dirname(path.resolve(target));
  if (mkdirs) ensureDir(dir);
  removeStaleTempFiles(dir); // left by a process killed between write and rename
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempPathFor(target);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      let written = 0;
      while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    rename(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectory(dir);
}

/** Make a rename in `dir` durable. Some platforms (Windows) cannot open directories: ignored there. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort: the data itself was already fsynced before the rename
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
