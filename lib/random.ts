/**
 * Seeded random numbers.
 *
 * Algorithm: **mulberry32**, a 32-bit state generator (one add, two multiplies, three
 * xor-shifts per draw). It is tiny, fast and passes the usual statistical batteries well
 * enough for initialisation, shuffling and dropout masks. Normals use the Box–Muller
 * transform. Same seed → the same sequence, bit for bit, on every machine, because every
 * step is 32-bit integer arithmetic (`Math.imul`, `>>>`).
 *
 * There is one global generator (`manualSeed(n)` resets it) and any number of private
 * ones (`new Rng(seed)`), so a data loader can shuffle without disturbing model init.
 */
export class Rng {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  /** The generator's whole state, for checkpoints: restoring it resumes the sequence exactly. */
  getState(): { state: number; spareNormal: number | null } {
    return { state: this.state, spareNormal: this.spareNormal };
  }

  setState(s: { state: number; spareNormal: number | null }): void {
    this.state = s.state >>> 0;
    this.spareNormal = s.spareNormal;
  }

  /** Uniform in [0, 1), with 32 bits of resolution. */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal N(0, 1) by Box–Muller; draws come in pairs, the second is kept for the next call. */
  normal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform(); // log(0) would be -Infinity
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }
}

let globalRng = new Rng(0);

/** Reset the global generator: after `manualSeed(s)` every seeded draw repeats bit for bit. */
export function manualSeed(seed: number): void {
  globalRng = new Rng(seed);
}

/** The global generator, used when a function is not given its own. */
export function defaultRng(): Rng {
  return globalRng;
}

/** murmur3's 32-bit finaliser: a bijection on 32-bit integers that mixes every input bit into every output bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The seed of random stream `stream` (1, 2, …) of a run seeded `seed`.
 *
 * A run needs several independent streams (projector init, batch order, code revival…). Seeding
 * them `seed + 1`, `seed + 2` makes runs of neighbouring seeds share streams — seed 0's batch
 * order would be seed 2's initialisation — so the "independent" seeds of a multi-seed study
 * would not be. Hashing (seed, stream) gives streams that coincide with another run's only by a
 * 1-in-2³² accident. Stream 0 is the seed itself (what a model's own initialisation uses).
 */
export function streamSeed(seed: number, stream: number): number {
  if (stream === 0) return seed >>> 0;
  return fmix32((fmix32(seed >>> 0) + Math.imul(stream, 0x9e3779b9)) >>> 0);
}
