/** The shape of one `arra` subcommand: its flags as data, an optional cross-flag check, and run. */
import type { FlagSpec, ParsedFlags } from '../../lib/cli';

export interface Command<S extends readonly FlagSpec[]> {
  /** one line for `arra --help` */
  summary: string;
  flags: S;
  /** reject flag combinations (throw UsageError naming the flag) before anything is written */
  check?: (flags: ParsedFlags<S>) => void;
  run: (flags: ParsedFlags<S>) => Promise<void> | void;
}

/** Declare a command with its flag types inferred. */
export function command<const S extends readonly FlagSpec[]>(c: Command<S>): Command<S> {
  return c;
}
