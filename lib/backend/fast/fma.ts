/**
 * Does this host give the fast matmul a fused multiply-add?
 *
 * WebAssembly's fixed-width SIMD has no FMA: each step of a dot product is an `f32x4.mul`
 * rounded to float32 and an `f32x4.add` rounded again. On a CPU whose two floating-point
 * ports each take a multiply *or* an add (Intel since Skylake), that is half the flops a
 * cycle could do: 8 per cycle with 4 lanes, where a fused a·b + c does 16. Relaxed SIMD's
 * `f32x4.relaxed_madd` lets the engine emit the CPU's FMA (vfmadd231ps on x64 with FMA3,
 * fmla on arm64) — or, where there is none, a multiply and an add. So the result is one
 * rounding per step here, two there: which one this host does is measured, not assumed.
 *
 * The probe: x = 1 + 2⁻¹², c = −(1 + 2⁻¹¹). Exactly, x·x + c = 2⁻²⁴. Rounded first, x·x =
 * 1 + 2⁻¹¹ + 2⁻²⁴ is a tie between two float32 neighbours and goes to the even one,
 * 1 + 2⁻¹¹, so the separate multiply and add give 0. One rounding gives 2⁻²⁴.
 */
import { enableRelaxedSimd } from '../../platform';
import { wasm } from './wasm-api';
import { assembleModule, Code, I32 } from './wasm-emit';

/** What `f32x4.relaxed_madd` is on this host: unavailable, fused (one rounding) or split in two. */
export type RelaxedMadd = 'unavailable' | 'fused' | 'separate';

/** `probe(p)`: the four floats at p + 48 = relaxed_madd(a, b, c) of the vectors at p, p + 16, p + 32. */
function probeModule(): Uint8Array {
  const code = new Code();
  code.localGet(0);
  code.localGet(0).v128Load(0).localGet(0).v128Load(16).localGet(0).v128Load(32).f32x4RelaxedMadd();
  code.v128Store(48);
  return assembleModule([{ name: 'probe', params: [I32], locals: [], body: code }], { initialPages: 1, maxPages: 1, shared: false });
}

let measured: RelaxedMadd | undefined;

/**
 * Measure (once per process) what `f32x4.relaxed_madd` does here. In Node 20 it first switches
 * relaxed SIMD on (platform's `enableRelaxedSimd`); an engine that still refuses the
 * instruction gives `unavailable`.
 */
export function relaxedMadd(): RelaxedMadd {
  if (measured !== undefined) return measured;
  const bytes = probeModule();
  if (!wasm.validate(bytes)) enableRelaxedSimd();
  if (!wasm.validate(bytes)) return (measured = 'unavailable');
  const memory = new wasm.Memory({ initial: 1, maximum: 1, shared: false });
  const probe = new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports.probe as (p: number) => void;
  const f = new Float32Array(memory.buffer, 0, 16);
  const x = 1 + 2 ** -12;
  f.fill(x, 0, 8);
  f.fill(-(1 + 2 ** -11), 8, 12);
  probe(0);
  return (measured = f[12] === 2 ** -24 ? 'fused' : 'separate');
}
