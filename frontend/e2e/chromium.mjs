// Shared by the e2e tests: launches Debian's /usr/bin/chromium through
// playwright-core (never a downloaded browser) with a fresh profile.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.LIGHTBOX_CHROMIUM || '/usr/bin/chromium';

/** Starts Chromium headless; returns { context, close }. */
export async function launch({ width = 1400, height = 900 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lightbox-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width, height },
    deviceScaleFactor: 1,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-unsafe-swiftshader',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Directory for screenshots (gitignored). */
export function outDir() {
  const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'out');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
