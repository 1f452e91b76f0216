// The async training path over batch sources: sync (DataLoader) and async sources give the same
// results, batches are disposed when a consumer stops early or a step fails, and a run closes
// its image loaders whether it succeeds or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { memory, type Tensor } from '../../src/tensor/index.js';
import { DataError } from '../../src/data/errors.js';
import type { Batch } from '../../src/data/loader.js';
import type { BatchSource } from '../../src/data/batch-source.js';
import { ImageFolderLoader } from '../../src/data/image-folder.js';
import { TRAIN_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { buildSession } from '../../src/train/session.js';
import { evaluateAccuracy } from '../../src/train/evaluate.js';
import { fit, streamInputs } from '../../src/train/trainer.js';
import { runTraining } from '../../src/app/run.js';
import { NonFiniteError } from '../../src/train/nonfinite.js';
import { silentProgress } from '../../src/train/progress.js';
import { FIXTURE_WNIDS, makeImageFolderFixture } from '../helpers/image-folder-fixture.js';

const quiet = silentProgress();
const small: RunConfig = { ...TRAIN_DEFAULTS, model: 'resnet8', widthMultiplier: 0.25, dataset: 'digits', limitTrain: 64, limitTest: 40, batchSize: 16, epochs: 1, lr: 0.05 };

/** Wraps a source as an async one that records what it handed out and whether its iterator finished. */
function tracked(inner: BatchSource, poison?: (k: number, b: Batch) => Batch) {
  const log = { yielded: [] as Batch[], finished: 0 };
  const source: BatchSource = {
    get numBatches() { return inner.numBatches; },
    describe: () => `tracked ${inner.describe()}`,
    async *batches(epoch = 0) {
      try {
        let k = 0;
        for await (const b of inner.batches(epoch)) {
          await new Promise((r) => setImmediate(r)); // a real asynchronous hop, as decoding workers give
          const out = poison ? poison(k, b) : b;
          k++;
          log.yielded.push(out);
          yield out;
        }
      } finally { log.finished++; }
    },
  };
  return { source, log };
}
const allDisposed = (batches: Batch[]): boolean => batches.every((b) => b.x.isDisposed && b.y.isDisposed);

test('evaluateAccuracy: an async source gives what the DataLoader gives; maxBatches stops without an extra batch', async () => {
  const s = buildSession(small);
  try {
    const direct = await evaluateAccuracy(s.model, s.test);
    const { source, log } = tracked(s.test);
    assert.deepEqual(await evaluateAccuracy(s.model, source), direct);
    assert.equal(log.yielded.length, s.test.numBatches);
    // Stopping after 2 of the 4 training batches: exactly 2 are asked for, all disposed, the iterator closed.
    assert.equal(s.train.numBatches, 4);
    const before = memory().numTensors;
    const two = tracked(s.train);
    const acc = await evaluateAccuracy(s.model, two.source, { maxBatches: 2 });
    assert.equal(acc.n, 2 * small.batchSize);
    assert.equal(two.log.yielded.length, 2);
    assert.equal(two.log.finished, 1, 'the source iterator must be closed');
    assert.ok(allDisposed([...log.yielded, ...two.log.yielded]));
    assert.equal(memory().numTensors, before);
  } finally { s.model.dispose(); }
});

test('streamInputs hands out n inputs, disposing each when the next is asked for or the consumer stops', async () => {
  const s = buildSession(small);
  try {
    const { source, log } = tracked(s.train);
    const seen: Tensor[] = [];
    for await (const x of streamInputs(source, 0, 2)) {
      for (const prev of seen) assert.ok(prev.isDisposed);
      assert.ok(!x.isDisposed);
      seen.push(x);
    }
    assert.equal(seen.length, 2);
    assert.equal(log.yielded.length, 2, 'no batch beyond the n-th is requested');
    assert.equal(log.finished, 1);
    assert.ok(allDisposed(log.yielded));
    const early = tracked(s.train);
    for await (const x of streamInputs(early.source, 0, 3)) { void x; break; }
    assert.equal(early.log.finished, 1);
    assert.ok(allDisposed(early.log.yielded));
  } finally { s.model.dispose(); }
});

test('a failing training step disposes its batch and closes the epoch iterator', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-fit-fail-'));
  const s = buildSession(small);
  try {
    // The second batch is poisoned with NaN, which the NaN guard turns into a NonFiniteError.
    const { source, log } = tracked(s.train, (k, b) => {
      if (k !== 1) return b;
      const x = b.x.mul(NaN);
      b.x.dispose();
      return { ...b, x };
    });
    s.train = source;
    await assert.rejects(fit(s, { outDir: dir, progress: quiet }), (e: unknown) => e instanceof NonFiniteError && /the input batch holds NaN/.test((e as Error).message));
    assert.equal(log.yielded.length, 2);
    assert.equal(log.finished, 1);
    assert.ok(allDisposed(log.yielded));
  } finally {
    s.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runTraining closes its image loaders when it finishes and when it fails', async (t) => {
  const data = await makeImageFolderFixture({ trainPerClass: 4, valPerClass: 1 });
  const out = mkdtempSync(path.join(os.tmpdir(), 'catkit-close-'));
  const original = ImageFolderLoader.prototype.close;
  let closed = 0;
  ImageFolderLoader.prototype.close = async function (this: ImageFolderLoader) { closed++; return original.call(this); };
  t.after(() => {
    ImageFolderLoader.prototype.close = original;
    rmSync(data, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });
  const config: RunConfig = {
    ...small, dataset: 'imagenet', data, imageSize: 16, workers: 1, randomCrop: 0, batchSize: 2, limitTrain: undefined, limitTest: undefined, validation: 0.25,
  };
  const report = await runTraining(config, { outDir: path.join(out, 'ok'), progress: quiet });
  assert.equal(report.dataset, 'imagenet');
  assert.equal(closed, 3);
  // An unreadable test image fails the end-of-epoch evaluation (--bad-images fail).
  writeFileSync(path.join(data, 'val', FIXTURE_WNIDS[0], 'broken.JPEG'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  await assert.rejects(runTraining(config, { outDir: path.join(out, 'fail'), progress: quiet }), (e: unknown) => e instanceof DataError && /broken\.JPEG: unreadable image/.test((e as Error).message));
  assert.equal(closed, 6);
});
