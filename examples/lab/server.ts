/**
 * The lab's local server: the built page (examples/lab/dist), the repository's source and docs
 * read-only under /src/ (the panels link there), and a previous `arra demo` run under
 * /runs/demo/ when one exists. Every response carries the COOP/COEP headers that make the page
 * cross-origin isolated (SharedArrayBuffer). Nothing is fetched from elsewhere.
 *
 * `npm run lab` = build + serve: `tsx examples/lab/server.ts [--port 8731] [--no-build]`.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { buildLab, DIST } from './build';

const ROOT = path.resolve(__dirname, '../..');
/** Folders of the repository that /src/ may show (no node_modules, no runs). */
const SOURCE_DIRS = ['lib', 'models', 'examples', 'docs', 'test', 'bench'];
const SOURCE_FILES = ['README.md', 'package.json'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.bin': 'application/octet-stream', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.ts': 'text/plain; charset=utf-8', '.md': 'text/plain; charset=utf-8', '.jsonl': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** `file` when it lies inside `dir` (no `..` escape), else null. */
function inside(dir: string, rel: string): string | null {
  const file = path.resolve(dir, '.' + path.posix.normalize('/' + rel));
  return file === dir || file.startsWith(dir + path.sep) ? file : null;
}

/** Every file under runs/demo as { path, bytes }, or null when there is no such run (served as /runs/demo/index.json). */
function demoIndex(demoDir: string): { path: string; bytes: number }[] | null {
  if (!fs.existsSync(demoDir)) return null;
  const out: { path: string; bytes: number }[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else out.push({ path: path.relative(demoDir, full).split(path.sep).join('/'), bytes: fs.statSync(full).size });
    }
  };
  walk(demoDir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Where a request path maps on disk, or null (404). */
function resolveRequest(urlPath: string, demoDir: string): string | { json: unknown } | null {
  if (urlPath === '/' || urlPath === '') return path.join(DIST, 'index.html');
  if (urlPath === '/runs/demo/index.json') {
    // 200 either way: an absent run is a normal state, not an error in the page's console
    const files = demoIndex(demoDir);
    return { json: { present: files !== null, files: files ?? [] } };
  }
  if (urlPath.startsWith('/runs/demo/')) return inside(demoDir, urlPath.slice('/runs/demo/'.length));
  if (urlPath.startsWith('/src/')) {
    // the allow-list is checked on the normalised path: `lib/..%2fnode_modules/…` decodes to
    // `lib/../node_modules/…`, whose first segment is `lib` but whose file is not under lib/
    const rel = path.posix.normalize('/' + urlPath.slice('/src/'.length)).slice(1);
    const top = rel.split('/')[0]!;
    if (!SOURCE_DIRS.includes(top) && !SOURCE_FILES.includes(rel)) return null;
    return inside(ROOT, rel);
  }
  return inside(DIST, urlPath.slice(1));
}

/** A running lab server. */
export interface LabServer {
  url: string;
  close(): Promise<void>;
}

/** Serve on `port` (0 = any free port) on 127.0.0.1. */
export function serveLab(opts: { port?: number; demoDir?: string } = {}): Promise<LabServer> {
  const demoDir = path.resolve(opts.demoDir ?? path.join(ROOT, 'runs', 'demo'));
  const server = http.createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    // read-only: anything but GET/HEAD is refused (nothing here accepts a body)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' }).end(`method ${req.method} not allowed (the lab server is read-only)`);
      return;
    }
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      // a malformed %-escape must cost one 400, not the server (an exception here ends the process)
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`bad request path: ${JSON.stringify(req.url)} is not valid percent-encoding`);
      return;
    }
    const target = urlPath.includes('\0') ? null : resolveRequest(urlPath, demoDir);
    if (target && typeof target === 'object') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(target.json));
      return;
    }
    if (!target || !fs.existsSync(target) || !fs.statSync(target).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${urlPath}`);
      return;
    }
    const stream = fs.createReadStream(target);
    // a file removed or unreadable between the stat and the read: answer, do not crash
    stream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`cannot read ${urlPath}: ${err.message}`);
      else res.destroy(err);
    });
    stream.once('open', () => {
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(target)] ?? 'application/octet-stream' });
      if (req.method === 'HEAD') { stream.destroy(); res.end(); } else stream.pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** `--port N` (default 8731, 0 = any free port) and `--no-build`; anything else is a usage error (exit 2). */
function parseArgs(argv: string[]): { port: number; build: boolean } {
  const usage = (problem: string): never => {
    console.error(`lab: ${problem}\nusage: npm run lab -- [--port N] [--no-build]`);
    process.exit(2);
  };
  let port = 8731;
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--no-build') build = false;
    else if (a === '--port') {
      port = Number(argv[++i]);
      if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port expects an integer in 0..65535, got '${argv[i] ?? ''}'`);
    } else usage(`unknown argument '${a}'`);
  }
  return { port, build };
}

if (require.main === module) {
  const { port, build } = parseArgs(process.argv.slice(2));
  (async () => {
    if (build) await buildLab();
    const lab = await serveLab({ port });
    console.log(`ARRA lab: ${lab.url}  (Ctrl-C to stop)`);
  })().catch((e: unknown) => {
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
