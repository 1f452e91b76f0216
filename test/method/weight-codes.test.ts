// Weight codes: the ledger's codes (weightCodes), the forward's weight (quantizeWeightTensor) and the
// model file's codes (export's float32 re-implementation in plain JS) agree exactly, including
// values that sit on rounding boundaries of the grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, randn, tensor, tidy } from '../../src/tensor/index.js';
import { quantizeWeightTensor, weightCodes } from '../../src/method/quant-layers.js';
import { dequantize, gridMultiplier, quantize } from '../../src/export/weights.js';

/** Random float32 weights plus values placed at (code + ½)/s above the minimum: ties for the rounding. */
function weightsWithTies(n: number, bits: number): Float32Array {
  const w = Float32Array.from(randn([n]).mul(0.1).toArray());
  let lo = Infinity, hi = -Infinity;
  for (const v of w) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const s = gridMultiplier(Math.fround(hi - lo), bits);
  for (let i = 0; i < n; i += 3) w[i] = Math.fround(lo + (((i / 3) % (2 ** bits - 1)) + 0.5) / s);
  return w;
}

test('weightCodes and quantizeWeightTensor equal the exported codes and values bit for bit', () => {
  manualSeed(3);
  for (const bits of [2, 4, 8]) {
    tidy(() => {
      const values = weightsWithTies(3000, bits);
      const ref = quantize(values, [3000], bits, null);
      const w = tensor(Array.from(values));
      assert.deepEqual(weightCodes(w, bits).toArray(), Array.from(ref.codes), `${bits}-bit codes`);
      assert.deepEqual(quantizeWeightTensor(w, bits).toArray(), Array.from(dequantize(ref, [3000])), `${bits}-bit values`);
    });
  }
});

test('weightCodes agree with the exported codes on tensors where a double-precision grid would not', () => {
  // With the multiplier computed as (2^b − 1)/(max − min) in double (the generic quantizer's way),
  // trials 8 and 38 below each get one code off by one: the ledger would code other codes than the
  // model computes with.
  manualSeed(3);
  for (let trial = 0; trial < 40; trial++) {
    const bits = [2, 4, 8][trial % 3]!;
    tidy(() => {
      const w = randn([20000]).mul(0.05 + trial * 0.01);
      const ref = quantize(Float32Array.from(w.toArray()), [20000], bits, null);
      assert.deepEqual(weightCodes(w, bits).toArray(), Array.from(ref.codes), `trial ${trial}`);
    });
  }
});

test('a constant weight tensor codes to zeros and keeps its value', () => {
  tidy(() => {
    const w = tensor([0.25, 0.25, 0.25]);
    assert.deepEqual(weightCodes(w, 4).toArray(), [0, 0, 0]);
    assert.deepEqual(quantizeWeightTensor(w, 4).toArray(), [0.25, 0.25, 0.25]);
  });
});
