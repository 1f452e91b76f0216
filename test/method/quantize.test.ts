// Fake quantization: at most 2^b levels, exact grid values, straight-through and PACT gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, randn, tensor, tidy } from '../../src/tensor/index.js';
import { clipToLearned, fakeQuantize, fakeQuantizePerChannel } from '../../src/method/quantize.js';

test('fake quantization yields at most 2^b distinct values on the min/max grid', () => {
  manualSeed(0);
  for (const bits of [1, 2, 4, 5, 8]) {
    tidy(() => {
      const y = randn([4000]).relu();
      const hi = y.max().item();
      const { value, codes } = fakeQuantize(y, bits, { min: 0, max: hi });
      const distinct = new Set(value.toArray().map((v) => v.toFixed(5)));
      assert.ok(distinct.size <= 2 ** bits, `${bits} bits gave ${distinct.size} levels`);
      const step = hi / (2 ** bits - 1);
      const v = value.toArray(), c = codes!.toArray(), x = y.toArray();
      for (let i = 0; i < v.length; i++) {
        assert.ok(Math.abs(v[i]! - c[i]! * step) < 1e-5);
        assert.ok(Math.abs(v[i]! - x[i]!) <= step / 2 + 1e-5, 'rounding error is at most half a step');
      }
    });
  }
});

test('straight-through gradient is the identity', () => {
  tidy(() => {
    const x = tensor([0.1, 0.4, 0.6, 0.95]).requiresGrad_(true);
    const { value } = fakeQuantize(x, 2, { min: 0, max: 1 });
    assert.deepEqual(value.toArray().map((v) => +v.toFixed(4)), [0, 0.3333, 0.6667, 1]);
    value.mul(tensor([1, 2, 3, 4])).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [1, 2, 3, 4]);
  });
});

test('learned clipping: gradient 1 inside (0, c), 0 outside for x, PACT-like sign(c) for c above', () => {
  tidy(() => {
    const x = tensor([-1, 0.5, 1.5, 2.5, 3]).requiresGrad_(true);
    const c = tensor([2], []).requiresGrad_(true);
    const y = clipToLearned(x, c);
    assert.deepEqual(y.toArray(), [0, 0.5, 1.5, 2, 2]);
    y.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [0, 1, 1, 0, 0]);
    assert.equal(c.grad!.item(), 2, 'two elements above the clip');
    const cNeg = tensor([-2], []).requiresGrad_(true);
    clipToLearned(tensor([3, 0.5]), cNeg).sum().backward();
    assert.equal(cNeg.grad!.item(), -1, 'the clip acts through |c|');
  });
});

test('a constant tensor passes through unquantized', () => {
  tidy(() => {
    const { value, codes } = fakeQuantize(tensor([0.7, 0.7]), 4, { min: 0.7, max: 0.7 });
    assert.equal(codes, null);
    assert.deepEqual(value.toArray().map((v) => +v.toFixed(6)), [0.7, 0.7]);
  });
});

test('per-channel quantization uses each channel its own range', () => {
  tidy(() => {
    const y = tensor([0, 1, 0, 10, 0, 0.6, 6, 10], [2, 2, 2]); // [N=2, C=2, 2]
    const { value, codes } = fakeQuantizePerChannel(y, 1);
    // channel 0 holds {0,1,0,0.6} → range [0,1]; channel 1 holds {0,10,6,10} → range [0,10]
    assert.deepEqual(codes.toArray(), [0, 1, 0, 1, 0, 1, 1, 1]);
    assert.deepEqual(value.toArray(), [0, 1, 0, 10, 0, 1, 10, 10]);
  });
});
