// Headless Chromium (Debian's `chromium`) through puppeteer-core for page tests: a fresh profile,
// no background networking, and every request other than the page itself aborted and recorded,
// so a test can prove a page works offline.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.CATKIT_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface OpenedPage {
  page: Page;
  /** console.error messages and uncaught page errors. */
  errors: string[];
  /** URLs the page tried to fetch (all aborted). */
  blocked: string[];
  close(): Promise<void>;
}

/** Opens a local HTML file with all other requests blocked. */
export async function openOffline(file: string, viewport = { width: 1280, height: 900 }): Promise<OpenedPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup.sh (installs Debian's chromium) or set CATKIT_CHROMIUM`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'catkit-chromium-'));
  let browser: Browser | null = null;
  try {
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`], userDataDir: profile });
    const page = await browser.newPage();
    await page.setViewport(viewport);
    const errors: string[] = [], blocked: string[] = [];
    const url = pathToFileURL(file).href;
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url() === url) void req.continue();
      else { blocked.push(req.url()); void req.abort(); }
    });
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url, { waitUntil: 'load' });
    const b = browser;
    return { page, errors, blocked, close: async () => { await b.close(); rmSync(profile, { recursive: true, force: true }); } };
  } catch (e) {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}

/** PNG of the page: the whole page, or only the viewport. */
export async function screenshot(page: Page, file: string, fullPage = true): Promise<Uint8Array> {
  return await page.screenshot({ path: file as `${string}.png`, fullPage, type: 'png' });
}
