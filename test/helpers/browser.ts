/// <reference lib="dom" />
// Debian's Chromium driven by playwright-core: headless, no sandbox (root in CI), a fresh profile
// (Playwright makes a new temporary one per launch), and no background networking (the machine has no
// outside network).
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

import { CHROMIUM } from './browser-path.js';

export { CHROMIUM };

export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

const AXE = path.join(path.dirname(new URL(import.meta.url).pathname), '../../node_modules/axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/**
 * axe-core's violations on the page, of every impact (minor ones too: each is a real barrier for
 * someone); the page's context must bypass CSP to inject axe.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
}
