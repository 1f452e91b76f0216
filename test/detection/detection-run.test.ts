// End to end on a tiny synthetic VOC set: `catkit detect train`, then `detect cat` from it (report
// with mAP, bits/value and one ledger row per site; the VGG reference site choice), and `detect eval`
// reproduces the report's evaluation; bad options and existing runs are one-line errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeVocSynthetic } from '../../src/data/voc-synthetic.js';
import type { DetectionReport } from '../../src/train/detection.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
let dir = '';
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-detrun-'));
  await makeVocSynthetic(path.join(dir, 'voc'), { images: 12, seed: 7 });
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const catkit = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CATKIT_THREADS: '1' } });
const common = () => ['--data', path.join(dir, 'voc'), '--image-size', '64', '--batch-size', '4', '--workers', '1', '--threads', '1'];
const report = (d: string) => JSON.parse(readFileSync(path.join(d, 'report.json'), 'utf8')) as DetectionReport;

const fp = () => path.join(dir, 'fp');

test('detect train and detect eval on a synthetic VOCdevkit folder; bad options are one-line errors', () => {
  const fp = path.join(dir, 'fp');
  const t = catkit('detect', 'train', ...common(), '--out', fp, '--epochs', '1', '--optimizer', 'adamw', '--lr', '0.001');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^mAP \d+\.\d\d {2}→ /);
  const r1 = report(fp);
  assert.equal(r1.history.length, 1);
  assert.ok(Number.isFinite(r1.history[0]!.loss) && r1.history[0]!.bbox > 0 && r1.history[0]!.cls > 0);
  assert.equal(r1.evaluation.images, 4); // VOC2007 test of 12 images
  assert.equal(r1.evaluation.bitsPerValue, null);
  assert.deepEqual(r1.model.inputSize, [64, 64]);
  const e = catkit('detect', 'eval', fp, '--json', '--threads', '1');
  assert.equal(e.status, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as DetectionReport['evaluation']).map, r1.evaluation.map);
  const exists = catkit('detect', 'train', ...common(), '--out', fp, '--epochs', '1');
  assert.equal(exists.status, 2);
  assert.match(exists.stderr, /^catkit: .*already holds a run \(report\.json\); choose a new --out\n$/);
  const noInit = catkit('detect', 'train', ...common(), '--out', path.join(dir, 'x'), '--init', path.join(dir, 'nope'), '--epochs', '1');
  assert.equal(noInit.status, 2);
  assert.match(noInit.stderr, /^catkit: .*nope.*: no weights/);
  const badModel = catkit('detect', 'train', ...common(), '--out', path.join(dir, 'y'), '--model', 'yolo');
  assert.equal(badModel.status, 2);
  assert.match(badModel.stderr, /unknown detection model 'yolo'; known: ssd300_vgg16, ssd512_vgg16, ssdlite320_mobilenet_v3_large/);
});

test('detect cat from the trained run: mAP, bits/value and one ledger row per site; detect eval reproduces it', () => {
  const cat = path.join(dir, 'cat4');
  const c = catkit('detect', 'cat', ...common(), '--out', cat, '--init', fp(), '--epochs', '1', '--act-bits', '4', '--lambda', '0.05', '--calibration-batches', '1');
  assert.equal(c.status, 0, c.stderr);
  const r2 = report(cat);
  assert.equal(r2.model.sites, 43);
  assert.ok(r2.history[0]!.rate > 0, 'the summed soft entropy is in the loss');
  const b = r2.evaluation.bitsPerValue!;
  assert.ok(b.entropy > 0 && b.entropy < 4, `bits/value ${b.entropy} below the 4-bit grid`);
  assert.ok(b.huffman >= b.entropy - 1e-9 && b.rans >= b.entropy - 0.01);
  assert.equal(r2.evaluation.layers.length, 43);
  const n = r2.evaluation.layers.reduce((s, l) => s + l.numel, 0);
  assert.ok(Math.abs(r2.evaluation.layers.reduce((s, l) => s + l.entropy * l.numel, 0) / n - b.entropy) < 1e-9, 'overall = element-weighted mean of the layers');

  const e = catkit('detect', 'eval', cat, '--json', '--threads', '1');
  assert.equal(e.status, 0, e.stderr);
  const again = JSON.parse(e.stdout) as DetectionReport['evaluation'];
  assert.equal(again.map, r2.evaluation.map);
  assert.equal(again.bitsPerValue!.entropy, b.entropy);

});
