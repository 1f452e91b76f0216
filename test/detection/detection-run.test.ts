// End to end on a tiny synthetic VOC set through the task-generic commands: `catkit train` on a
// VOCdevkit folder (the task implied by the data), `--resume` after an interruption finishing with
// exactly what an uninterrupted run gives, `catkit cat --task detection` (mAP, bits/value and one
// ledger row per site in report.json) and `catkit eval` reproducing it; `catkit detect …` is an alias.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeVocSynthetic } from '../../src/data/voc-synthetic.js';
import { reportSchemaErrors, type RunReport } from '../../src/report/index.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
let dir = '';
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-detrun-'));
  await makeVocSynthetic(path.join(dir, 'voc'), { images: 12, seed: 7, minSide: 64, maxSide: 96, maxObjects: 2, classes: 3, minObject: 0.3, maxObject: 0.7 });
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const catkit = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CATKIT_THREADS: '1' } });
const common = () => ['--data', path.join(dir, 'voc'), '--image-size', '64', '--batch-size', '4', '--workers', '1', '--threads', '1'];
const fpArgs = () => [...common(), '--optimizer', 'adamw', '--lr', '0.001', '--warmup-iters', '2', '--augment', 'light'];
const report = (d: string, name = 'report.json') => JSON.parse(readFileSync(path.join(d, name), 'utf8')) as RunReport;
const fp = () => path.join(dir, 'fp');

test('train on a VOCdevkit folder is a detection run; an interrupted run resumes to the uninterrupted result', async () => {
  // The VOCdevkit --data implies --task detection.
  const t = catkit('train', ...fpArgs(), '--out', fp(), '--epochs', '2');
  assert.equal(t.status, 0, t.stderr);
  const r = report(fp());
  assert.equal(r.taskKind, 'detection');
  assert.equal(r.config.model, 'ssdlite320_mobilenet_v3_large');
  assert.equal(r.history.length, 2);
  assert.ok(r.history.every((h) => Number.isFinite(h.loss) && h.bboxLoss! > 0 && h.classLoss! > 0));
  assert.equal(r.testSamples, 4); // VOC2007 test of 12 images
  assert.equal(r.accuracy, r.detection!.map);
  assert.equal(r.detection!.metric, 'voc07');
  assert.equal(r.bitsPerValue, null);
  assert.match(t.stdout, /mAP@0\.5/);

  // Interrupted (SIGTERM) once epoch 1's checkpoint is written, then resumed: the same result; no lock is left behind.
  const part = path.join(dir, 'part');
  const child = spawn(process.execPath, [BIN, 'detect', 'train', ...fpArgs(), '--out', part, '--epochs', '2'], { env: { ...process.env, CATKIT_THREADS: '1' } }); // the alias
  const code = await new Promise<number | null>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(path.join(part, 'checkpoint.json'))) { clearInterval(poll); child.kill('SIGTERM'); }
    }, 20);
    child.on('close', (c) => { clearInterval(poll); resolve(c); });
  });
  assert.equal(code, 143, 'terminated during epoch 2');
  assert.ok(!existsSync(path.join(part, '.catkit.lock')) && !existsSync(path.join(part, 'report.json')));
  const again = catkit('train', '--out', part, '--resume', '--threads', '1');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resuming .* after epoch 1/);
  const r2 = report(part);
  assert.deepEqual(r2.history.map((h) => h.loss), r.history.map((h) => h.loss));
  assert.equal(r2.accuracy, r.accuracy);

  const exists = catkit('train', ...fpArgs(), '--out', fp(), '--epochs', '1');
  assert.equal(exists.status, 2);
  assert.match(exists.stderr, /already holds a run/);
  const badModel = catkit('train', '--task', 'detection', ...common(), '--out', path.join(dir, 'y'), '--model', 'resnet20');
  assert.equal(badModel.status, 2);
  assert.match(badModel.stderr, /--model resnet20 is not a detector; detection models: ssd300_vgg16, ssd512_vgg16, ssdlite320_mobilenet_v3_large/);
  const wrongOpt = catkit('train', ...common(), '--out', path.join(dir, 'z'), '--random-crop', '2');
  assert.equal(wrongOpt.status, 2);
  assert.match(wrongOpt.stderr, /--random-crop does not apply to detection runs/);
  assert.ok(!existsSync(path.join(dir, 'z', 'checkpoint.json')));
});

test('cat --task detection from the trained run: mAP, bits/value and one ledger row per site; eval reproduces it', () => {
  const cat = path.join(dir, 'cat4');
  const c = catkit('cat', '--task', 'detection', '--init', fp(), '--out', cat, '--epochs', '1', '--act-bits', '4', '--lambda', '0.05',
    '--calibration-batches', '1', '--workers', '1', '--threads', '1');
  assert.equal(c.status, 0, c.stderr);
  const r = report(cat);
  assert.equal(r.taskKind, 'detection');
  assert.equal(r.actBits, 4);
  assert.equal(r.config.imageSize, 64, 'input size, data and batch come from the --init run');
  assert.equal(r.config.clipInit, 'max', 'detection CAT clips start at the calibration maximum');
  assert.ok(r.history[0]!.actRegularizer! > 0, 'the summed soft entropy is in the loss');
  const b = r.bitsPerValue!;
  assert.ok(b.entropy > 0 && b.entropy < 4, `bits/value ${b.entropy} below the 4-bit grid`);
  assert.ok(b.huffman >= b.entropy - 1e-9 && b.rans >= b.entropy - 0.01);
  assert.equal(r.layers.length, 43);
  const n = r.layers.reduce((s, l) => s + l.numel, 0);
  assert.ok(Math.abs(r.layers.reduce((s, l) => s + l.entropy * l.numel, 0) / n - b.entropy) < 1e-9, 'overall = element-weighted mean of the layers');
  assert.equal(r.weights!.bits, 8);
  assert.deepEqual(reportSchemaErrors(r), [], 'the detection report satisfies schema/report.schema.json');
  assert.ok(r.staticBitsPerValue !== null);

  const e = catkit('eval', '--checkpoint', cat, '--json', '--threads', '1');
  assert.equal(e.status, 0, e.stderr);
  const ev = JSON.parse(e.stdout) as RunReport;
  assert.equal(ev.task, 'eval');
  assert.equal(ev.accuracy, r.accuracy);
  assert.equal(ev.bitsPerValue!.entropy, b.entropy);
  assert.deepEqual(report(cat, 'eval-report.json').detection, r.detection);
  const classificationFlag = catkit('cat', '--init', fp(), '--out', path.join(dir, 'w'), '--recipe', 'paper');
  assert.equal(classificationFlag.status, 2);
  assert.match(classificationFlag.stderr, /--recipe does not apply to detection runs/);
  const target = catkit('cat', '--init', fp(), '--out', path.join(dir, 'v'), '--target-bits', '1.5');
  assert.equal(target.status, 2);
  assert.match(target.stderr, /--target-bits does not apply to detection runs .*not wired into the detection loop yet/);
});
