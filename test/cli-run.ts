/** Running the `arra` command line inside a test: main() with its output captured. */
import { main } from '../examples/cli';

/** What one `arra` run returned and printed. */
export interface CliRun {
  /** exit status main() returned (2 = usage error) */
  code: number;
  /** everything written to stdout, console.log included */
  out: string;
  /** everything written to stderr */
  err: string;
  /** wall-clock seconds the command took */
  seconds: number;
}

/** Run `arra <argv…>` in this process with stdout, stderr and console.log captured (restored afterwards, also on a throw). */
export async function runCli(argv: string[]): Promise<CliRun> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  const log = console.log;
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  console.log = (...args: unknown[]) => { out += `${args.join(' ')}\n`; };
  const t0 = performance.now();
  try {
    const code = await main(argv);
    return { code, out, err, seconds: (performance.now() - t0) / 1000 };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
    console.log = log;
  }
}
