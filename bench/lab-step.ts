/**
 * One ARRA step of the lab page (examples/lab, tiny preset) in headless Chromium, on each
 * backend: gpu.js WebGL (SwiftShader here: software), WASM SIMD (on the page's threads: Web
 * Workers when cross-origin isolated, as the lab server makes it; the step's own products are
 * too small to split, the 256³ matmul is split) and the reference loops; plus one square
 * matmul per backend, where the GPU path's fixed costs amortise.
 *
 * Run: `npx tsx bench/lab-step.ts [--steps 10]`. Prints a markdown table (bench/RESULTS.md).
 */
import { buildLab } from '../examples/lab/build';
import { launchChromium } from '../examples/lab/chromium';
import { serveLab } from '../examples/lab/server';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--steps');
  const steps = i >= 0 ? Number(process.argv[i + 1]) : 10;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps expects a positive integer, got '${process.argv[i + 1] ?? ''}'`);
  await buildLab();
  const server = await serveLab();
  const browser = await launchChromium();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as any).document.body.dataset.ready === 'true', null, { timeout: 60_000 });
    await page.evaluate(() => (globalThis as any).arraLab.train(5)); // L_AR reaches every block
    const mode = await page.evaluate(() => (globalThis as any).arraLab.gpuCheck()?.mode);
    const threads = await page.evaluate(() => (globalThis as any).arraLab.fastThreads) as number;
    const rows: string[] = [];
    for (const backend of ['gpujs', 'fast', 'ref']) {
      const t0 = Date.now();
      const first = await page.evaluate((b) => (globalThis as any).arraLab.step({}, b).stepMs, backend);
      const ms: number[] = [];
      let kernels: { kernel: string; calls: number; ms: number }[] = [];
      for (let s = 0; s < steps; s++) {
        ms.push(await page.evaluate(() => (globalThis as any).arraLab.step({}).stepMs));
        kernels = await page.evaluate(() => (globalThis as any).arraLab.kernelTimes());
      }
      const mm = kernels.find((k) => k.kernel === 'matmul');
      const sm = kernels.find((k) => k.kernel === 'softmax');
      const inBackend = kernels.reduce((a, k) => a + k.ms, 0);
      const mm256 = await page.evaluate((b) => (globalThis as any).arraLab.timeMatmul(b, 256, 5), backend);
      const label = { gpujs: `gpu.js ${mode} (SwiftShader)`, fast: `WASM SIMD, ${threads} thread${threads > 1 ? 's' : ''}`, ref: 'reference loops' }[backend];
      rows.push(`| ${label} | ${first.toFixed(0)} | ${median(ms).toFixed(1)} | ${mm?.calls ?? 0} / ${(mm?.ms ?? 0).toFixed(1)} | ${sm?.calls ?? 0} / ${(sm?.ms ?? 0).toFixed(1)} | ${(median(ms) - inBackend).toFixed(1)} | ${mm256.toFixed(1)} (${((2 * 256 ** 3) / mm256 / 1e6).toFixed(2)} GFLOP/s) |`);
      console.error(`${backend}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    console.log(`| backend | first step, ms (compiles) | step, ms (median of ${steps}) | matmul calls / ms | softmax calls / ms | outside the backend, ms | one 256³ matmul, ms (best of 5) |`);
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
