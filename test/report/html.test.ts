// report.html in a real headless Chromium: offline (every other request blocked), no console
// errors, each chart draws the marks its data calls for, and the screenshot is not blank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { renderHtmlReport } from '../../src/report/html.js';
import { SITES, sweepFixture } from './fixtures.js';
import { openOffline, screenshot } from '../helpers/browser.js';

/** Items drawn by data marks (not axes or legends) of each vega mark type inside a chart. */
async function markCounts(page: import('puppeteer-core').Page, id: string): Promise<Record<string, number>> {
  return await page.evaluate((chartId) => {
    const root = document.getElementById(`chart-${chartId}`);
    const out: Record<string, number> = {};
    if (!root) return out;
    for (const type of ['symbol', 'rect', 'line', 'rule', 'text']) {
      out[type] = root.querySelectorAll(`g.mark-${type}.role-mark > *`).length;
    }
    return out;
  }, id);
}

async function assertNotBlank(png: Uint8Array): Promise<void> {
  const { channels } = await sharp(png).stats();
  assert.ok(channels.slice(0, 3).every((c) => c.stdev > 10), `screenshot looks blank (stdev ${channels.map((c) => c.stdev.toFixed(1))})`);
}

test('a sweep report renders offline in Chromium with the expected marks', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-html-'));
  try {
    const runs = sweepFixture();
    const { html, charts } = renderHtmlReport(runs);
    const file = path.join(dir, 'report.html');
    writeFileSync(file, html);
    const opened = await openOffline(file);
    try {
      const { page } = opened;
      await page.waitForFunction(() => document.body.hasAttribute('data-rendered') || document.body.hasAttribute('data-render-error'), { timeout: 60_000 });
      assert.equal(await page.evaluate(() => document.body.getAttribute('data-render-error')), null);
      assert.deepEqual(opened.errors, []);
      assert.deepEqual(opened.blocked, [], 'the page must not fetch anything');
      const ids = charts.map((c) => c.id);
      // 4 CAT runs → 4 points; 2 runs per row kind... counts from the fixture, not from the charts' own bookkeeping.
      const cat = runs.length - 1;
      const expected: Record<string, Record<string, number>> = {
        pareto: { symbol: cat, text: cat, rule: 1, line: 1 },
        histograms: { rect: cat * SITES.length * 16 },
        curves: { line: 1 * 3 /* fp: task loss, accuracy, lr */ + cat * 4 /* + soft entropy */ + 2 /* target run: λ and achieved bits */ },
      };
      for (let i = 1; i < runs.length; i++) {
        expected[`bits-${i}`] = { rect: SITES.length * 4 };
        expected[`elements-${i}`] = { rect: SITES.length };
      }
      assert.deepEqual(ids.sort(), Object.keys(expected).sort());
      for (const [id, want] of Object.entries(expected)) {
        const got = await markCounts(page, id);
        for (const [type, n] of Object.entries(want)) assert.equal(got[type], n, `chart ${id}: ${type} marks`);
      }
      // The Pareto front: λ=0.5 and the target run and λ=0 are optimal, λ=1 is dominated.
      const starred = await page.$$eval('table.runs tbody tr', (rows) => rows.filter((r) => r.lastElementChild?.textContent === '★').map((r) => r.firstElementChild?.textContent));
      assert.deepEqual(starred, ['λ=0', 'λ=0.5', 'target 1.5']);
      // The ledger table has one row per site plus the total, for each CAT run.
      assert.equal(await page.$$eval('table.ledger tbody tr', (r) => r.length), cat * (SITES.length + 1));
      const png = path.join(dir, 'shot.png');
      await assertNotBlank(await screenshot(page, png));
      if (process.env.CATKIT_SCREENSHOT_OUT && !process.env.CATKIT_SCREENSHOT_REPORT) copyFileSync(png, process.env.CATKIT_SCREENSHOT_OUT);
    } finally { await opened.close(); }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

// The README's screenshot: the same checks and screenshot code on a real report
// (CATKIT_SCREENSHOT_REPORT=runs/demo/report.html CATKIT_SCREENSHOT_OUT=docs/report.png).
test('a given report renders and its screenshot is saved', { skip: !process.env.CATKIT_SCREENSHOT_REPORT, timeout: 120_000 }, async () => {
  const opened = await openOffline(path.resolve(process.env.CATKIT_SCREENSHOT_REPORT!), { width: 1100, height: 1500 });
  try {
    await opened.page.waitForFunction(() => document.body.hasAttribute('data-rendered') || document.body.hasAttribute('data-render-error'), { timeout: 60_000 });
    assert.equal(await opened.page.evaluate(() => document.body.getAttribute('data-render-error')), null);
    assert.deepEqual(opened.errors, []);
    assert.deepEqual(opened.blocked, []);
    await assertNotBlank(await screenshot(opened.page, path.resolve(process.env.CATKIT_SCREENSHOT_OUT ?? 'report.png'), false));
  } finally { await opened.close(); }
});
