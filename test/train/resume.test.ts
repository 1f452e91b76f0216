// Checkpoint → resume gives the same weights as an uninterrupted run for a fixed seed, and
// checkpoints are complete (model, optimizer, schedule, history).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dispose } from '../../src/tensor/index.js';
import { TRAIN_DEFAULTS, CAT_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { buildSession } from '../../src/train/session.js';
import { fit } from '../../src/train/trainer.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { silentProgress } from '../../src/train/progress.js';

const quiet = silentProgress();
const base: RunConfig = { ...TRAIN_DEFAULTS, model: 'resnet8', widthMultiplier: 0.5, dataset: 'digits', limitTrain: 256, limitTest: 100, batchSize: 32, epochs: 3, lr: 0.05 };

function weightsOf(dir: string): Map<string, number[]> {
  const ck = loadCheckpoint(dir);
  const out = new Map([...ck.model].map(([k, v]) => [k, v.toArray()]));
  dispose([...ck.model.values(), ...ck.optimizer.values()]);
  return out;
}

async function trainStraight(config: RunConfig, dir: string): Promise<void> {
  const s = buildSession(config);
  await fit(s, { outDir: dir, progress: quiet });
  s.model.dispose();
}

function assertSameWeights(straight: string, resumed: string, label: string): Map<string, number[]> {
  const a = weightsOf(straight), b = weightsOf(resumed);
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) assert.deepEqual(b.get(k), v, `${label} ${k} differs after resume`);
  return a;
}

async function trainInTwoParts(config: RunConfig, dir: string): Promise<void> {
  let s = buildSession(config);
  await fit(s, { outDir: dir, progress: quiet, stopAfterEpochs: 1 });
  s.model.dispose();
  s = buildSession(config); // a fresh process would rebuild from scratch too
  await fit(s, { outDir: dir, progress: quiet, resume: true });
  s.model.dispose();
}

test('resume after an interruption reproduces the uninterrupted run exactly (float and CAT)', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'catkit-resume-'));
  try {
    const straight = path.join(root, 'straight'), resumed = path.join(root, 'resumed');
    await trainStraight(base, straight);
    await trainInTwoParts(base, resumed);
    assertSameWeights(straight, resumed, 'float');
    const ck = loadCheckpoint(resumed);
    assert.equal(ck.meta.history.length, 3);
    // history[].lr is the rate each epoch trained at: cosine over 3 epochs from 0.05 (not the next epoch's).
    const lrs = ck.meta.history.map((h) => h.lr!);
    [0.05, 0.05 * (1 + Math.cos(Math.PI / 3)) / 2, 0.05 * (1 + Math.cos((2 * Math.PI) / 3)) / 2].forEach((want, i) => assert.ok(Math.abs(lrs[i]! - want) < 1e-9, `epoch ${i + 1} lr ${lrs[i]} != ${want}`));
    dispose([...ck.model.values(), ...ck.optimizer.values()]);
    assert.deepEqual(readdirSync(resumed).filter((f) => f.endsWith('.safetensors')), ['checkpoint-epoch3.safetensors']);

    // CAT with the entropy term, learned clips and weight quantization resumes exactly too.
    const cat: RunConfig = {
      ...base, ...CAT_DEFAULTS, task: 'cat', init: straight, epochs: 2, lambda: 0.2, lambdaW: 0.01, lr: 1e-3, calibrationBatches: 2,
      actBitsAt: [{ pattern: 'layer1.*', bits: 6 }],
    };
    const catStraight = path.join(root, 'cat-straight'), catResumed = path.join(root, 'cat-resumed');
    await trainStraight(cat, catStraight);
    await trainInTwoParts(cat, catResumed);
    const weights = assertSameWeights(catStraight, catResumed, 'CAT');
    assert.ok([...weights.keys()].some((k) => k.endsWith('.clip')));
    // Per-site bits reach the sites and are recorded with the run.
    const saved = loadCheckpoint(catResumed);
    dispose([...saved.model.values(), ...saved.optimizer.values()]);
    assert.deepEqual(saved.meta.config.actBitsAt, [{ pattern: 'layer1.*', bits: 6 }]);
    const s = buildSession(cat);
    try { assert.deepEqual(s.cat!.rows().filter((r) => r.bits === 6).map((r) => r.site), ['layer1.0.relu1', 'layer1.0.relu2']); } finally { s.model.dispose(); }

    // A rate target resumes exactly too: the controller's state travels in the checkpoint.
    const target: RunConfig = { ...cat, lambda: 0, actBitsAt: undefined, targetBits: 1.5 };
    const tStraight = path.join(root, 'target-straight'), tResumed = path.join(root, 'target-resumed');
    await trainStraight(target, tStraight);
    await trainInTwoParts(target, tResumed);
    assertSameWeights(tStraight, tResumed, 'rate target');
    const t = loadCheckpoint(tResumed);
    dispose([...t.model.values(), ...t.optimizer.values()]);
    const rate = t.meta.extra.rate as { controller: { step: number; groups: { lambda: number }[] }; step: number };
    assert.equal(rate.step, 2 * 8, "2 epochs of 256 images in batches of 32");
    assert.ok(rate.controller.groups[0]!.lambda > 0, 'λ was raised toward 1.5 bits');
    for (const h of t.meta.history) assert.ok(h.lambda! > 0 && h.bits! > 0 && h.metricBits === h.bits, JSON.stringify(h));
  } finally { rmSync(root, { recursive: true, force: true }); }
});
