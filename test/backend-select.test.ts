/** Backend selection: names, ARRA_BACKEND, the default, describeBackend, dispose. */
import t from 'tap';
import { backend, backendNames, createFastBackend, createGpujsBackend, defaultBackendName, describeBackend, resolveGpujsMode, setBackend } from '../lib';

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
  t.ok(['headlessgl', 'webgpu', 'webasm'].includes(resolveGpujsMode('auto')));
  const be = createGpujsBackend({ mode: 'webasm' });
  t.equal(be.mode, 'webasm');
  be.dispose!();
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
