/**
 * Levenshtein distance and "did you mean": how a prompt word the model has never seen is
 * answered with the known words closest to it.
 */

/**
 * Levenshtein distance: the fewest single-character insertions, deletions and substitutions
 * that turn `a` into `b`. Dynamic programme over prefixes, one row at a time:
 *   d[i][j] = min(d[i−1][j] + 1, d[i][j−1] + 1, d[i−1][j−1] + [a_i ≠ b_j]).
 */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j); // d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    const row = [i]; // d[i][0] = i
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The `k` entries of `vocab` nearest to `word` by edit distance (ties alphabetical). */
export function nearestWords(word: string, vocab: readonly string[], k = 3): string[] {
  return vocab
    .map((v) => ({ v, d: editDistance(word, v) }))
    .sort((x, y) => x.d - y.d || (x.v < y.v ? -1 : x.v > y.v ? 1 : 0))
    .slice(0, k)
    .map((x) => x.v);
}
