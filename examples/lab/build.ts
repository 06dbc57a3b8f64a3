/**
 * Build the ARRA lab page with esbuild: examples/lab/main.ts → examples/lab/dist/lab.js, plus the
 * HTML, the CSS and a small MNIST subset (data.ts), all into examples/lab/dist/ (gitignored).
 *
 * The bundle is the library itself, unchanged. Two things make that possible in a browser:
 * - lib/platform/index.ts (Node: env vars, cores, worker threads) is swapped for
 *   lib/platform/browser.ts;
 * - Node built-ins and Node-only packages (fs, zlib, pngjs, …), which only the file-reading parts
 *   of lib/ use, become generated stubs whose every export throws "… is not available in the
 *   browser" when called (lib/platform/browser-builtins.ts).
 *
 * Run: `npx tsx examples/lab/build.ts` (or `npm run lab`, which builds and serves).
 */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { writeMnistSubset } from './data-file';

const LAB = __dirname;
const ROOT = path.resolve(LAB, '../..');
export const DIST = path.join(LAB, 'dist');

/** Packages that only run in Node; their importers in lib/ are file or terminal helpers. */
const NODE_ONLY_PACKAGES = ['pngjs', 'cli-progress'];

/** The stub module for a Node built-in or Node-only package: the real export names, each unavailable. */
function stubSource(name: string): string {
  const real = require(name) as Record<string, unknown>;
  const names = Object.keys(real).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default');
  const mod = JSON.stringify(name);
  return [
    `import { unavailable } from ${JSON.stringify(path.join(ROOT, 'lib/platform/browser-builtins.ts'))};`,
    ...names.map((k) => `export const ${k} = unavailable(${mod}, ${JSON.stringify(k)});`),
    `export default { ${names.join(', ')} };`,
  ].join('\n');
}

/** Swap lib/platform for its browser implementation and stub what a browser lacks. */
const browserPlatform: esbuild.Plugin = {
  name: 'arra-browser-platform',
  setup(build) {
    const nodeNames = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), ...NODE_ONLY_PACKAGES]);
    build.onResolve({ filter: /.*/ }, (args) => {
      if (nodeNames.has(args.path)) return { path: args.path.replace(/^node:/, ''), namespace: 'node-stub' };
      if (/(^|\/)platform(\/index)?$/.test(args.path) && args.resolveDir.startsWith(path.join(ROOT, 'lib'))) {
        return { path: path.join(ROOT, 'lib/platform/browser.ts') };
      }
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({ contents: stubSource(args.path), loader: 'ts', resolveDir: ROOT }));
  },
};

/** Bundle the page and copy its static files. Returns the output folder. */
export async function buildLab(opts: { minify?: boolean } = {}): Promise<string> {
  fs.mkdirSync(DIST, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [path.join(LAB, 'page', 'main.ts')],
    outfile: path.join(DIST, 'lab.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    minify: opts.minify ?? false,
    logLevel: 'warning',
    plugins: [browserPlatform],
  });
  if (result.errors.length > 0) throw new Error(`lab build: ${result.errors.length} errors`);
  for (const file of ['index.html', 'lab.css']) fs.copyFileSync(path.join(LAB, file), path.join(DIST, file));
  writeMnistSubset(path.join(DIST, 'mnist-subset.bin'));
  return DIST;
}

if (require.main === module) {
  buildLab().then((dir) => console.log(`lab built in ${path.relative(process.cwd(), dir)}`), (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
