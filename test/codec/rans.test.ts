import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogram, shannonEntropy } from '../../src/codec/entropy.js';
import {
  fitRansTable, quantizeFrequencies, RANS_STATES, ransDecode, ransEncode, ransTableFromFrequencies, readRansTable,
  writeRansTable,
} from '../../src/codec/rans.js';
import { geometricSymbols, uniformSymbols } from '../../src/codec/synthetic.js';
import { assertCodecError, assertSameSymbols, mulberry32, randInt } from './helpers.js';

const costOf = (counts: number[], freq: ArrayLike<number>, M: number) =>
  counts.reduce((b, c, s) => b + (c > 0 ? c * Math.log2(M / freq[s]) : 0), 0);

test('frequency quantization: exact sum, no zero for present symbols, zero for absent', () => {
  const r = mulberry32(1);
  for (let trial = 0; trial < 200; trial++) {
    const n = randInt(r, 1, 300), sb = randInt(r, Math.max(1, Math.ceil(Math.log2(n))), 16);
    const counts = Array.from({ length: n }, () => (r() < 0.3 ? 0 : Math.floor(r() ** 4 * 1e6)));
    counts[randInt(r, 0, n - 1)] = 1;
    const f = quantizeFrequencies(counts, sb);
    assert.equal(f.reduce((a, b) => a + b, 0), 2 ** sb);
    counts.forEach((c, s) => assert.equal(f[s] > 0, c > 0, `symbol ${s} (count ${c})`));
  }
});

test('frequency quantization is optimal: matches exhaustive search on small cases', () => {
  const r = mulberry32(2);
  for (let trial = 0; trial < 150; trial++) {
    const n = randInt(r, 2, 4), sb = randInt(r, 2, 5), M = 2 ** sb;
    if (n > M) continue;
    const counts = Array.from({ length: n }, () => randInt(r, 1, r() < 0.5 ? 3 : 1000));
    let best = Infinity;
    const rec = (s: number, left: number, f: number[]) => {
      if (s === n - 1) { if (left >= 1) best = Math.min(best, costOf(counts, [...f, left], M)); return; }
      for (let v = 1; v <= left - (n - 1 - s); v++) rec(s + 1, left - v, [...f, v]);
    };
    rec(0, M, []);
    const got = costOf(counts, quantizeFrequencies(counts, sb), M);
    assert.ok(Math.abs(got - best) < 1e-9 * Math.max(1, best), `counts ${counts} M ${M}: ${got} vs optimum ${best}`);
  }
});

test('tables serialize and round-trip (dense, sparse 16-bit at scale 16, one-symbol, empty)', () => {
  const r = mulberry32(3);
  const sparse = new Array(65536).fill(0);
  for (const s of [0, 5, 30000, 65535]) sparse[s] = randInt(r, 1, 99);
  const cases = [[3, 1], Array.from({ length: 256 }, () => randInt(r, 0, 50)), sparse, [0, 7, 0], [0, 0]];
  for (const counts of cases) {
    for (const sb of ['auto', 16] as const) {
      if (sb === 16 && counts.filter((c) => c > 0).length < 2) continue;
      const t = fitRansTable(counts, { scaleBits: sb });
      const bytes = writeRansTable(t);
      const back = readRansTable(bytes, counts.length);
      assert.equal(back.bytes, bytes.length);
      assert.deepEqual([...back.table.freq], [...t.freq]);
      assert.equal(back.table.scaleBits, t.scaleBits);
    }
  }
  assert.ok(writeRansTable(fitRansTable(sparse)).length < 24, 'sparse 2^16 table stays small');
});

test('invalid tables are rejected', () => {
  assertCodecError(() => ransTableFromFrequencies(Uint32Array.from([3, 4]), 3), 'table_invalid', /sum to 7/);
  assertCodecError(() => ransTableFromFrequencies(Uint32Array.from([65536, 0]), 16), 'table_invalid', /16 bits/);
  assertCodecError(() => ransTableFromFrequencies(Uint32Array.from([2]), 17), 'table_invalid');
  assertCodecError(() => quantizeFrequencies([1, 1, 1], 1), 'parameter_invalid', /3 present symbols/);
  // scaleBits 2, n = 2, first frequency 4 = all of M: the last symbol would get 0.
  const t = writeRansTable(ransTableFromFrequencies(Uint32Array.from([3, 1]), 2));
  const forged = t.slice(); forged[0] = (forged[0] & ~0b1110000) | (4 << 4);  // overwrite f0 = 3 → 4 (3 bits after the header)
  assertCodecError(() => readRansTable(forged, 2), 'table_invalid');
});

test('round trips for every count 0…40 (interleaving tails) and random sizes', () => {
  const r = mulberry32(4);
  for (let n = 0; n <= 40; n++) {
    const a = Uint8Array.from({ length: n }, () => (r() < 0.5 ? 0 : randInt(r, 1, 9)));
    const c = histogram(a, 10); c[0]++; c[3]++;
    const t = fitRansTable(c, { scaleBits: randInt(r, 4, 16) });
    const enc = ransEncode(a, t);
    assert.ok(enc.length >= 4 * RANS_STATES);
    assertSameSymbols(ransDecode(enc, n, t), a, `n=${n}`);
  }
  const one = fitRansTable([0, 5]);
  assertSameSymbols(ransDecode(ransEncode(new Uint8Array(50).fill(1), one), 50, one), new Uint8Array(50).fill(1), 'one-symbol');
});

test('rANS stays within 0.2 % of the entropy on 10^6-symbol CAT-like sources (table and states included)', () => {
  const r = mulberry32(5);
  for (const [name, a, alphabet] of [
    ['geometric p0=0.9', geometricSymbols(1e6, 0.9, 5, r), 32],
    ['geometric p0=0.5', geometricSymbols(1e6, 0.5, 5, r), 32],
    ['uniform 8-bit', uniformSymbols(1e6, 256, r), 256],
  ] as const) {
    const counts = histogram(a, alphabet);
    const t = fitRansTable(counts);
    const enc = ransEncode(a, t, counts);
    const bits = (enc.length + writeRansTable(t).length) * 8 / a.length, h = shannonEntropy(counts);
    assert.ok(bits <= h * 1.002, `${name}: ${bits.toFixed(5)} bits/value vs entropy ${h.toFixed(5)}`);
    assert.ok(bits >= h * 0.999, `${name}: below the entropy bound?`);
    assertSameSymbols(ransDecode(enc, a.length, t), a, name);
  }
});

test('decoder rejects bad initial states, truncation, extension and wrong counts', () => {
  const r = mulberry32(6);
  const a = Uint8Array.from({ length: 5000 }, () => randInt(r, 0, 7));
  const t = fitRansTable(histogram(a, 8));
  const enc = ransEncode(a, t);
  assertCodecError(() => ransDecode(enc.subarray(0, 10), 5000, t), 'srcSize_wrong', /initial states/);
  const badState = enc.slice(); badState[3] = 0x80;
  assertCodecError(() => ransDecode(badState, 5000, t), 'corruption_detected', /initial state 0/);
  assertCodecError(() => ransDecode(enc.subarray(0, enc.length - 1), 5000, t));
  const longer = new Uint8Array(enc.length + 1); longer.set(enc);
  assertCodecError(() => ransDecode(longer, 5000, t));
  assertCodecError(() => ransDecode(enc, 4999, t));
  assertCodecError(() => ransDecode(enc, 5001, t));
});
