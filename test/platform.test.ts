/** lib/platform: the Node and browser implementations offer the same API; the browser stubs fail clearly. */
import t from 'tap';
import * as browser from '../lib/platform/browser';
import { unavailable } from '../lib/platform/browser-builtins';
import * as node from '../lib/platform';

t.test('node and browser implementations export the same names', async (t) => {
  t.same(Object.keys(browser).sort(), Object.keys(node).sort());
  t.equal(node.platformName, 'node');
  t.equal(browser.platformName, 'browser');
});

t.test('node: env reads process.env, threads default to the cores', async (t) => {
  process.env.ARRA_PLATFORM_PROBE = 'x1';
  t.teardown(() => { delete process.env.ARRA_PLATFORM_PROBE; });
  t.equal(node.env('ARRA_PLATFORM_PROBE'), 'x1');
  t.equal(node.env('ARRA_PLATFORM_UNSET_PROBE'), undefined);
  t.ok(Number.isInteger(node.defaultThreads()) && node.defaultThreads() >= 1);
});

t.test('node: a helper thread runs the given function on its data', async (t) => {
  const ctrl = new Int32Array(new SharedArrayBuffer(8));
  const helper = node.startHelperThread('function ({ ctrl }) { Atomics.store(ctrl, 0, 42); Atomics.notify(ctrl, 0); }', { ctrl });
  t.teardown(() => helper.terminate());
  Atomics.wait(ctrl, 0, 0, 5000);
  t.equal(Atomics.load(ctrl, 0), 42, 'the thread wrote into shared memory');
});

t.test('browser, not cross-origin isolated: no environment, one thread, helper threads refused with the reason', async (t) => {
  t.equal(browser.env('ARRA_BACKEND'), undefined);
  t.equal(browser.defaultThreads(), 1);
  t.throws(() => browser.startHelperThread('function () {}', {}), /need SharedArrayBuffer, which a page has only when cross-origin isolated .*create the backend with threads: 1/);
  t.equal(browser.canBlock(), true, 'no document here: this thread may Atomics.wait');
  t.equal(node.canBlock(), true, 'every Node thread may');
  // an isolated page (simulated): the browser's cores, and a window's thread may not block
  const g = globalThis as { crossOriginIsolated?: boolean; document?: unknown };
  g.crossOriginIsolated = true;
  g.document = {};
  try {
    t.equal(browser.defaultThreads(), Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1), 'isolated: navigator.hardwareConcurrency threads');
    t.equal(browser.canBlock(), false, 'a window thread may not Atomics.wait');
  } finally {
    delete g.crossOriginIsolated;
    delete g.document;
  }
  t.equal(browser.defaultThreads(), 1, 'and back to one when not isolated');
});

t.test('a stubbed Node API names itself when called or constructed', async (t) => {
  const readFileSync = unavailable('fs', 'readFileSync');
  t.equal(readFileSync.name, 'fs.readFileSync');
  t.throws(() => readFileSync('x'), /^fs\.readFileSync is not available in the browser: /);
  const Emitter = unavailable('events', 'EventEmitter') as unknown as new () => object;
  class Sub extends Emitter {}
  t.throws(() => new Sub(), /events\.EventEmitter is not available in the browser/, 'a class may extend it; constructing one fails');
});
