// The browser demo in headless Chromium (Debian's chromium driven by puppeteer-core): `catkit
// serve-demo model.catk` (with the native addon blocked) serves the page; it loads the model,
// classifies the sample digits exactly as catkit/runtime does in Node, shows the per-layer ledger,
// classifies a drawing, and logs no errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import * as tf from '@tensorflow/tfjs';
import { CatkRuntime } from '../../src/runtime/index.js';
import { exportRun } from '../../src/app/export/model-file.js';
import { digitsSamples } from '../../src/app/demo-server.js';
import { makeCatRun, type CatRunFixture } from '../helpers/cat-run-fixture.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let fx: CatRunFixture | undefined, server: ChildProcess | undefined, browser: Browser | undefined;
after(async () => {
  await browser?.close();
  server?.kill();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
});

function serve(model: string, guard: string): Promise<string> {
  server = spawn(process.execPath, ['-r', guard, BIN, 'serve-demo', model, '--port', '0', '--samples', '16'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  return new Promise((resolve, reject) => {
    server!.stdout!.on('data', (d: Buffer) => { out += d; const m = /demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out); if (m) resolve(m[1]!); });
    server!.stderr!.on('data', (d: Buffer) => { err += d; });
    server!.on('exit', (code) => reject(new Error(`serve-demo exited with ${code}: ${err}`)));
  });
}

test('the browser demo loads the model, classifies the samples as the runtime does, shows the ledger, logs no errors', async () => {
  fx = await makeCatRun();
  const model = path.join(fx.root, 'model.catk');
  await exportRun(fx.cat, { format: 'catk', out: model });
  const guard = path.join(fx.root, 'guard.cjs');
  writeFileSync(guard, "require('module')._extensions['.node'] = (m, f) => { throw new Error('native addon loaded: ' + f); };\n");
  const url = await serve(model, guard);

  // What catkit/runtime predicts in Node for the same samples, one image at a time.
  await tf.setBackend('cpu');
  const rt = CatkRuntime.fromBytes(new Uint8Array(readFileSync(model)));
  const samples = await digitsSamples(16);
  const expected = samples.map((s) => rt.predict(rt.preprocess(s.pixels), 1).top1[0]);
  rt.dispose();

  const profile = mkdtempSync(path.join(os.tmpdir(), 'catkit-chromium-'));
  try {
    browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(`${url}?backend=cpu`);
    await page.waitForFunction(() => document.body.dataset.ready !== undefined, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await page.$eval('#status', (e) => e.textContent ?? ''));
    assert.match(await page.$eval('#status', (e) => e.textContent ?? ''), /model resnet8 on digits .* backend cpu/);

    const shown = await page.$$eval('.sample', (els) => els.map((e) => ({ label: Number((e as HTMLElement).dataset.label), pred: Number((e as HTMLElement).dataset.pred) })));
    assert.equal(shown.length, 16);
    assert.deepEqual(shown.map((s) => s.label), samples.map((s) => s.label));
    assert.deepEqual(shown.map((s) => s.pred), expected, 'browser predictions equal the Node runtime\'s');
    const correct = Number(await page.$eval('#sample-summary', (e) => (e as HTMLElement).dataset.correct));
    assert.equal(correct, expected.filter((p, i) => p === samples[i]!.label).length);

    const ledger = await page.$eval('#ledger tfoot', (e) => ({ raw: Number((e as HTMLElement).dataset.raw), coded: Number((e as HTMLElement).dataset.coded) }));
    assert.equal(await page.$$eval('#ledger tbody tr', (r) => r.length), 7, 'one ledger row per activation site');
    assert.ok(ledger.raw > 0 && ledger.coded > 0, `ledger ${JSON.stringify(ledger)}`);

    // Draw a vertical stroke and classify it.
    const box = (await (await page.$('#pad'))!.boundingBox())!;
    await page.mouse.move(box.x + 100, box.y + 30);
    await page.mouse.down();
    for (let y = 30; y <= 170; y += 10) await page.mouse.move(box.x + 100, box.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('prediction')!.textContent !== '–', { timeout: 30_000 });
    assert.match(await page.$eval('#prediction', (e) => e.textContent ?? ''), /^[0-9]$/);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    browser = undefined;
    rmSync(profile, { recursive: true, force: true });
  }
});
