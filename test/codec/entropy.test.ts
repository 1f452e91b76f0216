import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeLengthCost, crossEntropy, histogram, shannonEntropy } from '../../src/codec/entropy.js';
import { geometricEntropy } from '../../src/codec/synthetic.js';
import { assertCodecError, mulberry32 } from './helpers.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('Shannon entropy of known distributions', () => {
  close(shannonEntropy([1, 1, 1, 1]), 2);
  close(shannonEntropy(new Array(256).fill(3)), 8);
  close(shannonEntropy([3, 1]), 0.8112781244591328);   // h(1/4)
  close(shannonEntropy([5, 0, 0]), 0);
  close(shannonEntropy([]), 0);
  close(shannonEntropy([1, 1, 2]), 1.5);
});

test('cross-entropy of data under a model, and code-length cost', () => {
  close(crossEntropy([1, 1], [1, 3]), (2 + Math.log2(4 / 3)) / 2);
  close(crossEntropy([2, 2], [1, 1]), 1);
  assert.equal(crossEntropy([1, 1], [1, 0]), Infinity);
  close(crossEntropy([3, 1], [3, 1]), shannonEntropy([3, 1]));  // cross-entropy of a model with itself
  assert.equal(codeLengthCost([5, 2, 1, 1], [1, 2, 3, 3]), 15);
});

test('histogram: both counting paths agree, and out-of-alphabet symbols are named', () => {
  const r = mulberry32(2);
  const big = Uint8Array.from({ length: 10001 }, () => Math.floor(r() * 40));
  const naive = new Uint32Array(40);
  for (const s of big) naive[s]++;
  assert.deepEqual(histogram(big, 40), naive);
  for (const offset of [1, 2, 3]) {  // the word-at-a-time path must handle unaligned views and tails
    const view = big.subarray(offset, big.length - offset);
    const ref = new Uint32Array(40);
    for (const s of view) ref[s]++;
    assert.deepEqual(histogram(view, 40), ref, `offset ${offset}`);
  }
  assert.deepEqual(histogram(big.subarray(0, 100), 40), (() => { const h = new Uint32Array(40); for (const s of big.subarray(0, 100)) h[s]++; return h; })());
  assertCodecError(() => histogram(new Uint8Array([1, 2, 40]), 40), 'symbol_outOfRange', /symbol 40 at index 2/);
  assertCodecError(() => histogram(new Uint8Array(1), 0), 'alphabet_invalid');
  assert.equal(histogram(new Uint16Array([65535])).length, 65536);
});

test('geometric source entropy is h(p0)/p0 (plus a negligible clamp at 2^bits − 1)', () => {
  close(geometricEntropy(0.5, 5), 2, 1e-7);
  close(geometricEntropy(0.8, 5), (-(0.8 * Math.log2(0.8)) - 0.2 * Math.log2(0.2)) / 0.8, 1e-9);
});
