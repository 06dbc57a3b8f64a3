/** The lab's local server (examples/lab/server.ts): isolation headers, what it serves and what it refuses. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { serveLab } from '../examples/lab/server';

t.test('headers, /src/ limits, runs/demo index', async (t) => {
  const demoDir = t.testdir({ 'arra-s0': { 'model.safetensors': 'x'.repeat(10) }, 'loss.svg': '<svg/>' });
  const server = await serveLab({ demoDir });
  t.teardown(() => server.close());
  const get = (p: string): Promise<Response> => fetch(new URL(p, server.url));

  const src = await get('src/models/arra.ts');
  t.equal(src.status, 200);
  t.equal(src.headers.get('cross-origin-opener-policy'), 'same-origin', 'COOP on every response');
  t.equal(src.headers.get('cross-origin-embedder-policy'), 'require-corp', 'COEP on every response');
  t.equal(await src.text(), fs.readFileSync(path.join(__dirname, '../models/arra.ts'), 'utf8'), 'source files are served as they are');

  for (const p of ['src/node_modules/tap/package.json', 'src/runs/x', 'src/%2e%2e/%2e%2e/etc/passwd', 'src/lib/../../../etc/passwd', 'runs/demo/..%2f..%2fpackage.json', 'src/.git/HEAD']) {
    const r = await get(p);
    t.equal(r.status, 404, `${p} is refused`);
    t.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
  }

  const index = await (await get('runs/demo/index.json')).json();
  t.same(index, { present: true, files: [{ path: 'arra-s0/model.safetensors', bytes: 10 }, { path: 'loss.svg', bytes: 6 }] });
  t.equal(await (await get('runs/demo/loss.svg')).text(), '<svg/>');
});

t.test('no runs/demo: the index says so with a 200 (not an error in the page console)', async (t) => {
  const server = await serveLab({ demoDir: path.join(t.testdir({}), 'absent') });
  t.teardown(() => server.close());
  const r = await fetch(new URL('runs/demo/index.json', server.url));
  t.equal(r.status, 200);
  t.same(await r.json(), { present: false, files: [] });
});

t.test('npm run lab: a bad argument is a usage error (exit 2) before anything is built', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const tsx = path.join(__dirname, '../node_modules/.bin/tsx');
  for (const [args, message] of [[['--bogus'], /unknown argument '--bogus'/], [['--port', 'x'], /--port expects an integer in 0\.\.65535, got 'x'/]] as const) {
    const r = spawnSync(tsx, [path.join(__dirname, '../examples/lab/server.ts'), ...args], { encoding: 'utf8' });
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, message);
    t.match(r.stderr, /usage: npm run lab -- \[--port N\] \[--no-build\]/);
  }
});

t.test('sweep: encoded traversal, malformed escapes and other methods neither escape the allow-list nor stop the server', async (t) => {
  const server = await serveLab({ demoDir: path.join(t.testdir({}), 'absent') });
  t.teardown(() => server.close());
  const http = await import('node:http');
  // fetch() normalises some paths itself; a raw request sends them as typed
  const raw = (p: string, method = 'GET'): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    const req = http.request(new URL(server.url), { path: p, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  for (const p of ['/src/lib/..%2f..%2fpackage-lock.json', '/src/lib%2f..%2fnode_modules%2ftap%2fpackage.json', '/src/lib/..%2F.git', '/src/docs/%2e%2e/node_modules/tap/package.json', '/src/lib/index.ts%00.md']) {
    const r = await raw(p);
    t.equal(r.status, 404, `${p} is refused`);
  }
  const bad = await raw('/src/%E0%A4%A');
  t.equal(bad.status, 400, 'a malformed %-escape is a bad request');
  t.match(bad.body, /not valid percent-encoding/);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const r = await raw('/src/README.md', method);
    t.equal(r.status, 405, `${method} is refused`);
  }
  const head = await raw('/src/README.md', 'HEAD');
  t.equal(head.status, 200, 'HEAD is answered');
  t.equal(head.body, '', 'HEAD has no body');
  const after = await raw('/src/README.md');
  t.equal(after.status, 200, 'the server still answers after the bad requests');
  t.match(after.body, /^# arra-ts/);
});
