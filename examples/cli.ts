/**
 * `arra` — the command line. One subcommand per stage of the paper's pipeline:
 *
 *   arra train-vq       train the VQ image tokenizer
 *   arra train-encoder  train the in-project ConvNet (alignment target / FID network)
 *   arra features       precompute the frozen encoder's global features (cached)
 *   arra train          train the AR model: baseline (--align off) or ARRA
 *   arra sample         prompts (class names) → PNG grid
 *   arra eval           FID, prompt accuracy and a sample grid for a checkpoint
 *   arra explain        gradient attribution report (L_AR vs L_GVA) for a checkpoint
 *   arra demo           all of the above on MNIST, baseline vs ARRA, into runs/demo/report.md
 *   arra experiment     a grid of arms × seeds, paired by seed, with confidence intervals
 *
 * `arra <command> --help` lists each command's flags. A usage error (unknown flag, missing or
 * bad value) prints its message and exits with status 2, having written nothing.
 */
import { UsageError, formatHelp, parseArgs, selectCommand, type FlagSpec } from '../lib/cli';
import { COMMANDS, type Command } from './commands';

const NAMES = Object.keys(COMMANDS) as (keyof typeof COMMANDS)[];

function topHelp(): string {
  const width = Math.max(...NAMES.map((n) => n.length));
  return [
    'Usage: arra <command> [flags]    (arra <command> --help for its flags)',
    '',
    'Commands:',
    ...NAMES.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n].summary}`),
    '',
  ].join('\n');
}

/** Parse and run; returns the process exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(topHelp());
    return argv.length === 0 ? 2 : 0;
  }
  let command: Command<readonly FlagSpec[]>;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const { command: name, rest } = selectCommand(argv, NAMES);
    command = COMMANDS[name] as Command<readonly FlagSpec[]>;
    parsed = parseArgs(rest, command.flags, { command: name });
    if (parsed.help) {
      process.stdout.write(formatHelp(name, command.flags, { summary: command.summary }));
      return 0;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`arra: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    await command.run(parsed.flags);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`arra: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`arra ${argv[0]}: ${(err as Error).message}\n`);
    if (process.env.ARRA_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => { process.stderr.write(`${(err as Error).stack}\n`); process.exitCode = 1; },
  );
}
