/**
 * Which code computed a cell: the checkout's commit, so that results.json says what to check
 * out to reproduce it (a grid's cells can be computed over several sessions, and the `fast`
 * backend's last bits change between some commits: docs/speed.md). `-dirty` when lib/, models/
 * or examples/ have uncommitted changes; null outside a git checkout (or without git).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

export function codeVersion(): string | null {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short=7', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'models', 'examples') !== '';
    return `${commit}${dirty ? '-dirty' : ''}`;
  } catch {
    return null;
  }
}
