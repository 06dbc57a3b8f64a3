/**
 * Launch Debian's Chromium headless through playwright-core (which never downloads a browser
 * here: it is given the system executable). WebGL comes from SwiftShader, Chromium's software
 * GPU, so gpu.js's WebGL2 path really runs on a machine without a GPU. Used by
 * test/lab.test.ts and bench/lab-step.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser; `ARRA_CHROMIUM` overrides it. */
export function chromiumPath(): string {
  return process.env.ARRA_CHROMIUM ?? '/usr/bin/chromium';
}

/** A fresh headless Chromium with its own profile; `close()` also removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'arra-lab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
