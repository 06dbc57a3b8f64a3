/**
 * The shape of one `arra` subcommand: its flags as data, an optional cross-flag check, the
 * files it reads and writes, and run.
 *
 * {@link command} wraps `run` so that, before any work, the flag check runs, every input is
 * checked (exists, is a file or folder as expected, is a checkpoint of the right kind) and every
 * output location is created and probed for writing. A mistake in any of them is a UsageError
 * naming the flag, whether `run` is called by the CLI or directly.
 */
import { resolve } from 'node:path';
import { prepareOutput, requireInputDir, UsageError, type FlagSpec, type ParsedFlags } from '../../lib/cli';
import { removeIfEmpty } from '../../lib/io';
import { requireCheckpoint, type CheckpointKind } from '../pipeline/checkpoints';
import { checkEncoderSpec } from '../pipeline/encoders';

/** One path a command touches, named by the flag that gave it. */
export type FileUse =
  /** a checkpoint that must exist and be of this kind */
  | { flag: string; path: string; checkpoint: CheckpointKind }
  /** an `--*-encoder` value: `convnet:<file>` must name a ConvNet checkpoint */
  | { flag: string; path: string; encoder: true }
  /** a folder that must exist; `holds` says what it should hold */
  | { flag: string; path: string; folder: string }
  /** an output: a folder written into, or a file written */
  | { flag: string; path: string; output: 'dir' | 'file' };

export interface Command<S extends readonly FlagSpec[]> {
  /** one line for `arra --help` */
  summary: string;
  flags: S;
  /** reject flag combinations (throw UsageError naming the flag) before anything is written */
  check?: (flags: ParsedFlags<S>) => void;
  /** the inputs and outputs of this invocation (undefined paths are skipped), checked before run */
  files?: (flags: ParsedFlags<S>) => (FileUse | undefined)[];
  run: (flags: ParsedFlags<S>) => Promise<void> | void;
}

/**
 * Check inputs first (nothing is created when one is wrong), then create and probe the
 * outputs; `created` receives the folders made.
 */
export function checkFiles(uses: readonly (FileUse | undefined)[], created?: string[]): void {
  const given = uses.filter((u): u is FileUse => u !== undefined && u.path !== undefined);
  // '' is no path: as an output folder it would be the current one, as a file a rename to '' after all the work
  // (an encoder spec says what it lacks itself: checkEncoderSpec)
  for (const u of given) if (!('encoder' in u) && u.path.trim() === '') throw new UsageError(`${u.flag}: expected a path, got ${JSON.stringify(u.path)}`, u.flag);
  for (const u of given) {
    if ('checkpoint' in u) requireCheckpoint(u.flag, u.path, u.checkpoint);
    else if ('encoder' in u) checkEncoderSpec(u.path, u.flag);
    else if ('folder' in u) requireInputDir(u.flag, u.path, u.folder);
  }
  // An output file that is also an input would be destroyed by the run that reads it.
  const inputs = given.filter((u) => !('output' in u)).map((u) => ({ flag: u.flag, at: resolve('encoder' in u ? u.path.replace(/^convnet:/, '') : u.path) }));
  for (const u of given) {
    if (!('output' in u) || u.output !== 'file') continue;
    const same = inputs.find((i) => i.at === resolve(u.path));
    if (same) throw new UsageError(`${u.flag}: ${u.path} is also the ${same.flag} input; writing it would destroy it (choose another ${u.flag})`, u.flag);
  }
  for (const u of given) if ('output' in u) prepareOutput(u.flag, u.path, u.output, created);
}

/**
 * Declare a command with its flag types inferred. Its run first checks the flags and files;
 * when it then fails, the output folders it created and left empty are removed again.
 */
export function command<const S extends readonly FlagSpec[]>(c: Command<S>): Command<S> {
  return {
    ...c,
    run: async (flags) => {
      c.check?.(flags);
      const created: string[] = [];
      try {
        checkFiles(c.files?.(flags) ?? [], created);
        await c.run(flags);
      } catch (err) {
        removeIfEmpty(created);
        throw err;
      }
    },
  };
}
