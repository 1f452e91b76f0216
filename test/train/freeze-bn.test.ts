// --freeze-bn E: a CAT run trains against fixed batch-norm statistics from epoch E on. From epoch 1
// without a re-estimation they are the --init run's, bit for bit, after training (while the weights
// moved); with one, they are estimated once before the first epoch; from epoch 2 they are the ones
// epoch 1 ended with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dispose } from '../../src/tensor/index.js';
import { TRAIN_DEFAULTS, CAT_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { buildSession } from '../../src/train/session.js';
import { fit } from '../../src/train/trainer.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { silentProgress } from '../../src/train/progress.js';

const quiet = silentProgress();
const base: RunConfig = { ...TRAIN_DEFAULTS, model: 'resnet8', widthMultiplier: 0.5, dataset: 'digits', limitTrain: 128, limitTest: 64, batchSize: 32, epochs: 1, lr: 0.05 };

function tensorsOf(dir: string): Map<string, number[]> {
  const ck = loadCheckpoint(dir);
  const out = new Map([...ck.model].map(([k, v]) => [k, v.toArray() as number[]]));
  dispose([...ck.model.values(), ...ck.optimizer.values()]);
  return out;
}

async function run(config: RunConfig, dir: string, stopAfterEpochs?: number): Promise<Map<string, number[]>> {
  const s = buildSession(config);
  try { await fit(s, { outDir: dir, progress: quiet, stopAfterEpochs }); } finally { s.model.dispose(); }
  return tensorsOf(dir);
}

test('--freeze-bn: training leaves the batch-norm statistics as they were before the first epoch', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'catkit-freeze-bn-'));
  try {
    const fp = await run(base, path.join(root, 'fp'));
    const cat: RunConfig = { ...base, ...CAT_DEFAULTS, task: 'cat', init: path.join(root, 'fp'), epochs: 2, lambda: 0.5, lr: 0.01, calibrationBatches: 2, bnRecalibration: 0, freezeBatchNorm: 1 };
    const frozen = await run(cat, path.join(root, 'frozen'));
    const stats = [...fp.keys()].filter((k) => /running_(mean|var)$|num_batches_tracked$/.test(k));
    assert.ok(stats.length >= 3 * 7, `${stats.length} statistics`);
    for (const k of stats) assert.deepEqual(frozen.get(k), fp.get(k), `${k} changed`);
    assert.notDeepEqual(frozen.get('conv1.weight'), fp.get('conv1.weight'), 'the weights trained');
    // Statistics following the batches (the default) do change.
    const moving = await run({ ...cat, freezeBatchNorm: undefined }, path.join(root, 'moving'));
    assert.notDeepEqual(moving.get('bn1.running_mean'), fp.get('bn1.running_mean'));
    // Estimated once before the first epoch (2 batches: the counter says so), the same in a second run.
    const a = await run({ ...cat, bnRecalibration: 2 }, path.join(root, 'a'));
    const b = await run({ ...cat, bnRecalibration: 2 }, path.join(root, 'b'));
    assert.deepEqual(a.get('bn1.num_batches_tracked'), [2]);
    assert.notDeepEqual(a.get('bn1.running_mean'), fp.get('bn1.running_mean'));
    for (const k of stats) assert.deepEqual(a.get(k), b.get(k), k);
    // Frozen from epoch 2: the statistics epoch 1 ended with (re-estimated then) are the final ones.
    const late = { ...cat, bnRecalibration: 2, freezeBatchNorm: 2 };
    const afterOne = await run(late, path.join(root, 'late1'), 1), afterTwo = await run(late, path.join(root, 'late2'));
    assert.notDeepEqual(afterOne.get('bn1.running_mean'), fp.get('bn1.running_mean'));
    for (const k of stats) assert.deepEqual(afterTwo.get(k), afterOne.get(k), k);
    assert.notDeepEqual(afterTwo.get('conv1.weight'), afterOne.get('conv1.weight'));
  } finally { rmSync(root, { recursive: true, force: true }); }
});
