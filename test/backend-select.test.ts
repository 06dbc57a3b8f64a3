/** Backend selection: names, ARRA_BACKEND, the default, describeBackend, dispose. */
import { GPU } from 'gpu.js';
import t from 'tap';
import {
  backend, backendNames, createFastBackend, createGpujsBackend, defaultBackendName, describeBackend, type GpujsBackend, matmul, registerBackend,
  resolveGpujsMode, setBackend, tensor,
} from '../lib';

t.test('the three backends are registered and selectable', async (t) => {
  t.same(['ref', 'fast', 'gpujs'].filter((n) => backendNames().includes(n)), ['ref', 'fast', 'gpujs']);
  for (const name of ['ref', 'fast', 'gpujs']) {
    setBackend(name);
    t.equal(backend().name, name, `backend() is ${name} after setBackend`);
    t.match(describeBackend(), new RegExp(`^backend ${name} \\(`), `describeBackend names ${name}`);
  }
  setBackend('fast');
  t.match(describeBackend(), /\d+ threads/, 'fast reports its thread count');
  setBackend('ref');
  t.throws(() => setBackend('tpu'), /unknown backend 'tpu', expected one of ref, fast, gpujs/);
});

t.test('ARRA_BACKEND picks the default, else fast', async (t) => {
  const saved = process.env.ARRA_BACKEND;
  t.teardown(() => { if (saved === undefined) delete process.env.ARRA_BACKEND; else process.env.ARRA_BACKEND = saved; });
  delete process.env.ARRA_BACKEND;
  t.equal(defaultBackendName(), 'fast');
  process.env.ARRA_BACKEND = 'gpujs';
  t.equal(defaultBackendName(), 'gpujs');
});

t.test('gpu.js mode: explicit modes pass through, auto resolves to a real mode', async (t) => {
  t.equal(resolveGpujsMode('webasm'), 'webasm');
  t.equal(resolveGpujsMode('cpu'), 'cpu');
  // auto follows a fixed order: a GL context first, then WebGPU, else WebAssembly
  const want = GPU.isHeadlessGLSupported ? 'headlessgl' : GPU.isWebGPUSupported ? 'webgpu' : 'webasm';
  t.equal(resolveGpujsMode('auto'), want, `auto → ${want} (headless-gl ${GPU.isHeadlessGLSupported}, WebGPU ${GPU.isWebGPUSupported})`);
  if (!GPU.isHeadlessGLSupported && !GPU.isWebGPUSupported) t.equal(resolveGpujsMode('auto'), 'webasm', 'no GPU here: webasm');
  const be = createGpujsBackend({ mode: 'webasm' });
  t.equal(be.mode, 'webasm');
  be.dispose!();
  const saved = process.env.ARRA_GPUJS_MODE;
  process.env.ARRA_GPUJS_MODE = 'cpu';
  try {
    const fromEnv = createGpujsBackend();
    t.equal(fromEnv.mode, 'cpu', 'ARRA_GPUJS_MODE picks the mode');
    fromEnv.dispose!();
  } finally {
    if (saved === undefined) delete process.env.ARRA_GPUJS_MODE; else process.env.ARRA_GPUJS_MODE = saved;
  }
});

t.test('fast backend: thread option, and dispose is safe twice and before use', async (t) => {
  const one = createFastBackend({ threads: 1 });
  t.equal(one.threads, 1);
  one.dispose!();
  one.dispose!();
  const two = createFastBackend({ threads: 2 });
  t.equal(two.threads, 2);
  two.dispose!();
  createFastBackend().dispose!();
});

t.test('setBackend disposes the instance it replaces, also under the same name', async (t) => {
  const disposed: number[] = [];
  let made = 0;
  registerBackend('counting', () => {
    const id = ++made;
    return { ...backend(), name: 'counting', dispose: () => { disposed.push(id); } };
  });
  setBackend('ref');
  setBackend('counting');
  setBackend('counting');
  t.same(disposed, [1], 'the first instance was disposed when the second replaced it');
  setBackend('ref');
  t.same(disposed, [1, 2], 'and the second when switching away');
  setBackend('ref');
  t.equal(backend().name, 'ref', 'the shared reference backend is kept (it has nothing to dispose)');
});

t.test('gpu.js kernel cache: bounded, least recently used evicted and destroyed, results unchanged', async (t) => {
  t.throws(() => createGpujsBackend({ mode: 'cpu', maxKernels: 2 }), /maxKernels must be an integer ≥ 3/);
  const be = createGpujsBackend({ mode: 'cpu', maxKernels: 4 }) as GpujsBackend;
  registerBackend('gpujs-small', () => be);
  setBackend('gpujs-small');
  try {
    // 10 matmul shapes [1,k]·[k,1]: a kernel each, through a cache of 4
    for (let k = 1; k <= 10; k++) {
      const a = tensor(Array.from({ length: k }, (_, i) => i + 1), [1, k]);
      const b = tensor(Array.from({ length: k }, () => 1), [k, 1]);
      t.equal(matmul(a, b).item(), (k * (k + 1)) / 2, `1·1 + … + ${k}·1`);
    }
    t.same(be.kernelCache, { size: 4, max: 4, compiled: 10, evicted: 6 }, 'never more than 4 kernels held');
    // a hit moves a kernel to the back: k = 7 survives the next three compiles, k = 8 does not
    const run = (k: number): number => matmul(tensor(new Array(k).fill(1), [1, k]), tensor(new Array(k).fill(1), [k, 1])).item();
    run(7);
    t.equal(be.kernelCache.compiled, 10, 'k = 7 was still cached');
    for (const k of [11, 12, 13]) run(k);
    const compiled = be.kernelCache.compiled;
    run(7);
    t.equal(be.kernelCache.compiled, compiled, 'k = 7, used recently, was kept');
    run(8);
    t.equal(be.kernelCache.compiled, compiled + 1, 'k = 8, least recently used, had been evicted and is compiled again');
  } finally {
    setBackend('ref'); // disposes the small gpu.js backend
  }
  t.equal(be.kernelCache.size, 0, 'dispose destroyed every cached kernel');
});
