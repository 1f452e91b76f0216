// BN re-estimation replaces the running statistics by the cumulative average over the pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy } from '../../src/tensor/index.js';
import { BatchNorm2d, ReLU, Sequential } from '../../src/nn/index.js';
import { freezeBatchNormStatistics, recalibrateBatchNorm, recalibrateBatchNormAsync } from '../../src/train/bn-recalibration.js';

test('recalibrateBatchNorm averages batch statistics over the pass and restores momentum and mode', () => {
  const model = new Sequential(new BatchNorm2d(1));
  const bn = model.child<BatchNorm2d>('0');
  tidy(() => {
    bn.buffer('running_mean').fill_(100); // stale statistics from before
    model.eval();
    // Batch means 2 and 6; unbiased variances 8/3·… computed by hand below.
    const a = tensor([0, 2, 2, 4], [4, 1, 1, 1]), b = tensor([4, 6, 6, 8], [4, 1, 1, 1]);
    assert.equal(recalibrateBatchNorm(model, [a, b]), 2);
    const varA = ((0 - 2) ** 2 + 0 + 0 + (4 - 2) ** 2) / 3; // 8/3, the same for b
    assert.ok(Math.abs(bn.buffer('running_mean').item() - 4) < 1e-6);
    assert.ok(Math.abs(bn.buffer('running_var').item() - varA) < 1e-6);
    assert.equal(bn.buffer('num_batches_tracked').item(), 2);
    assert.equal(bn.momentum, 0.1);
    assert.equal(model.training, false);
  });
  model.dispose();
});

test('recalibrateBatchNormAsync gives the same statistics from a stream of inputs', async () => {
  const model = new Sequential(new BatchNorm2d(1));
  const bn = model.child<BatchNorm2d>('0');
  const a = tensor([0, 2, 2, 4], [4, 1, 1, 1]), b = tensor([4, 6, 6, 8], [4, 1, 1, 1]);
  try {
    async function* stream() { for (const x of [a, b]) { await Promise.resolve(); yield x; } }
    model.eval();
    assert.equal(await recalibrateBatchNormAsync(model, stream()), 2);
    assert.ok(Math.abs(bn.buffer('running_mean').item() - 4) < 1e-6);
    assert.ok(Math.abs(bn.buffer('running_var').item() - 8 / 3) < 1e-6);
    assert.equal(bn.momentum, 0.1);
    assert.equal(model.training, false);
  } finally { a.dispose(); b.dispose(); model.dispose(); }
});

test('freezeBatchNormStatistics: a training forward normalises with the running statistics and leaves them alone', () => {
  const model = new Sequential(new BatchNorm2d(1), new ReLU());
  const bn = model.child<BatchNorm2d>('0');
  tidy(() => {
    bn.buffer('running_mean').fill_(2);
    bn.buffer('running_var').fill_(4);
    model.train();
    assert.equal(freezeBatchNormStatistics(model), 1);
    assert.equal(bn.training, false);
    assert.equal(model.child('1').training, true, 'other modules keep training mode');
    // (x − 2)/√(4 + 1e-5) by hand, then ReLU; batch statistics (mean 4.5) would give other values.
    const out = model.forward(tensor([0, 2, 6, 10], [4, 1, 1, 1])).toArray() as number[];
    [0, 0, 4, 8].forEach((d, i) => assert.ok(Math.abs(out[i]! - d / Math.sqrt(4 + 1e-5)) < 1e-6, `${out[i]}`));
    assert.equal(bn.buffer('running_mean').item(), 2);
    assert.equal(bn.buffer('running_var').item(), 4);
    assert.equal(bn.buffer('num_batches_tracked').item(), 0);
  });
  model.dispose();
});
