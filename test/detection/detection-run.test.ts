// End to end on a tiny synthetic VOC set through the task-generic commands: `catkit train` on a
// VOCdevkit folder (the task implied by the data), `--resume` after an interruption finishing with
// exactly what an uninterrupted run gives (after SIGTERM, and after SIGKILL with `--resume --force`
// clearing the stale lock), `catkit cat --task detection` (mAP, bits/value and one ledger row per
// site in report.json), `--target-bits` steering λ, and `catkit eval` reproducing it; `catkit detect …` is an alias.
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

  // SIGKILL runs no handler, so the lock stays: --resume names it as stale, --resume --force clears it and continues.
  const killed = path.join(dir, 'killed');
  const k = spawn(process.execPath, [BIN, 'train', ...fpArgs(), '--out', killed, '--epochs', '2'], { env: { ...process.env, CATKIT_THREADS: '1' } });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
    const poll = setInterval(() => {
      if (existsSync(path.join(killed, 'checkpoint.json'))) { clearInterval(poll); k.kill('SIGKILL'); }
    }, 20);
    k.on('close', (_c, sig) => { clearInterval(poll); resolve(sig); });
  });
  assert.equal(signal, 'SIGKILL');
  assert.ok(existsSync(path.join(killed, '.catkit.lock')), 'a killed run leaves its lock');
  const stale = catkit('train', '--out', killed, '--resume', '--threads', '1');
  assert.equal(stale.status, 2);
  assert.match(stale.stderr, /locked by a run that is no longer running/);
  assert.match(stale.stderr, /--force/);
  const forced = catkit('train', '--out', killed, '--resume', '--force', '--threads', '1');
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /resuming .* after epoch 1/);
  assert.deepEqual(report(killed).history.map((h) => h.loss), r.history.map((h) => h.loss), 'resumed after the kill: the uninterrupted losses');
  assert.ok(!existsSync(path.join(killed, '.catkit.lock')));
  const forcedNothing = catkit('train', '--out', killed, '--resume', '--force', '--threads', '1');
  assert.equal(forcedNothing.status, 2, '--force with --resume never replaces a run');
  assert.match(forcedNothing.stderr, /has completed 2 epoch/);
  assert.equal(report(killed).accuracy, r.accuracy);

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
  const badTarget = catkit('cat', '--init', fp(), '--out', path.join(dir, 'v'), '--target-bits-at', 'nothing.*=1', '--workers', '1', '--threads', '1');
  assert.equal(badTarget.status, 2);
  assert.match(badTarget.stderr, /nothing\.\*/);
});

test('cat --target-bits on a detector: λ from the controller, per-epoch bits and λ, trajectory and outcome in report.json', () => {
  // A target far below what 8 barely trained images allow: the controller must raise λ (the rate
  // is above the target on every measured step) and the run must say it fell short.
  const t = path.join(dir, 'target');
  const c = catkit('cat', '--init', fp(), '--out', t, '--epochs', '3', '--act-bits', '4', '--target-bits', '0.5', '--optimizer', 'adamw', '--lr', '0.001',
    '--calibration-batches', '1', '--workers', '1', '--threads', '1');
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stderr, /target 0\.5 bits\/value \(entropy; λ from the controller/);
  const r = report(t);
  const rate = r.rate!;
  assert.equal(rate.metric, 'entropy');
  assert.equal(rate.groups.length, 1);
  assert.equal(rate.groups[0]!.target, 0.5);
  assert.equal(rate.groups[0]!.sites.length, 43);
  assert.ok(rate.trajectory.length >= 3, 'λ trajectory recorded');
  assert.ok(rate.trajectory.every((p) => p.bits.every((b) => Number.isFinite(b) && b > 0.5)), 'the controller heard each measured step\'s hard entropy');
  const lambdas = rate.trajectory.map((p) => p.lambda[0]!);
  assert.ok(lambdas[lambdas.length - 1]! > lambdas[0]! && lambdas[lambdas.length - 1]! > 0, `λ rose above its start: ${lambdas.join(' ')}`);
  assert.equal(r.lambda, rate.groups[0]!.lambda, 'the report\'s λ is the controller\'s last');
  // Judged on the coded test images, as report.bitsPerValue.
  assert.ok(Math.abs(rate.groups[0]!.achieved! - r.bitsPerValue!.entropy) < 1e-9);
  assert.equal(rate.reached, false);
  assert.match(rate.message, /target NOT reached \(entropy, ±0\.1\)/);
  for (const h of r.history) assert.ok(Number.isFinite(h.bits) && Number.isFinite(h.lambda) && h.lambda! >= 0, 'history has the bits and λ of each epoch');
  const last = r.history[r.history.length - 1]!;
  assert.ok(last.lambda! > 0 && last.loss - last.taskLoss > 1e-3, 'with λ > 0 the rate term is in the loss');
  assert.ok(r.config.targetBits === 0.5);
  const ck = JSON.parse(readFileSync(path.join(t, 'checkpoint.json'), 'utf8')) as { extra: { rate?: { step: number } } };
  assert.equal(ck.extra.rate?.step, 6, 'the controller state is checkpointed for --resume (2 steps per epoch)');
  assert.deepEqual(reportSchemaErrors(r), []);
});
