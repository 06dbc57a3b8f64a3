/**
 * The PyTorch peer: bench/peers/torch_transformer.py run through `/usr/bin/python3` (Debian's
 * python3-torch), 2 threads, for the training step of the reference tiny transformer and for
 * the matmul and softmax shapes. When `import torch` fails the peer is skipped with a note.
 *
 * Debian's torch reports `BLAS_INFO=generic`: it links libblas.so.3, which the alternatives
 * system points at OpenBLAS only when libopenblas0-pthread is installed (otherwise the
 * reference BLAS runs its matmuls ~20× slower). The script reads /proc/self/maps to say
 * which library was really loaded, and the benchmark prints it.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { REFERENCE_TINY } from '../../models/reference-config';

/** The interpreter that has Debian's torch (a venv's python3 usually does not). */
export const TORCH_PYTHON = process.env.ARRA_TORCH_PYTHON || '/usr/bin/python3';
/** Threads torch may use: the same two cores our fast backend uses. */
export const TORCH_THREADS = 2;

/** Seconds, best and median. */
export interface PeerTiming { best: number; median: number; reps: number }

/** What one run of the script reports. */
export interface TorchReport {
  torch: string;
  threads: number;
  /** what `torch.__config__.show()` says (`generic` on Debian) */
  blasInfo: string;
  /** the BLAS shared objects mapped into the process */
  blasLibraries: string[];
  train: PeerTiming | null;
  matmul: ({ m: number; k: number; n: number } & PeerTiming)[];
  softmax: ({ rows: number; cols: number } & PeerTiming)[];
}

/** The request: how many training steps (0 = none) and which matmul / softmax shapes. */
export interface TorchRequest {
  steps: number;
  matmul?: [number, number, number][];
  matmulReps?: number;
  softmax?: [number, number][];
  softmaxReps?: number;
}

/** Run the PyTorch peer, or return a sentence saying why it was skipped. */
export function runTorch(req: TorchRequest): TorchReport | string {
  try {
    execFileSync(TORCH_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return `PyTorch peer skipped: \`${TORCH_PYTHON} -c "import torch"\` failed (Debian: apt-get install python3-torch libopenblas0-pthread)`;
  }
  const cfg = { threads: TORCH_THREADS, ...REFERENCE_TINY, matmul: [], softmax: [], matmulReps: 10, softmaxReps: 20, ...req };
  // OpenBLAS's core-type / L2 overrides some hosts export would pin it to a slower kernel.
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(TORCH_THREADS), OPENBLAS_NUM_THREADS: String(TORCH_THREADS) };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const text = execFileSync(TORCH_PYTHON, [path.join(__dirname, 'torch_transformer.py'), JSON.stringify(cfg)], { env, encoding: 'utf8' });
    return JSON.parse(text) as TorchReport;
  } catch (e) {
    return `PyTorch peer failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** One line for the bench output: version, threads and the BLAS really used. */
export function describeTorch(r: TorchReport): string {
  return `torch ${r.torch}, ${r.threads} threads, BLAS_INFO=${r.blasInfo}, loaded ${r.blasLibraries.map((l) => path.basename(l)).join(' ') || 'no BLAS library'}`;
}
