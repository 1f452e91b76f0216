import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogram } from '../../src/codec/entropy.js';
import {
  fitHuffmanTable, huffmanCodeLengths, huffmanDecode, huffmanEncode, huffmanTableFromLengths, readHuffmanTable,
  writeHuffmanTable,
} from '../../src/codec/huffman.js';
import {
  assertCodecError, assertSameSymbols, cost, fibonacciWeights, kraftSum, mulberry32, randInt, referenceHuffman, referenceHuffmanCost,
} from './helpers.js';

test('hand-computed code: counts [5,2,1,1] give lengths [1,2,3,3] and canonical codes 0,10,110,111', () => {
  const lengths = huffmanCodeLengths([5, 2, 1, 1], 16);
  assert.deepEqual([...lengths], [1, 2, 3, 3]);
  const t = huffmanTableFromLengths(lengths);
  const bytes = huffmanEncode(new Uint8Array([0, 1, 2, 3]), t, [1, 1, 1, 1]);
  // Read order 0 | 1 0 | 1 1 0 | 1 1 1, packed LSB-first: 0b11011010, then 0b1.
  assert.deepEqual([...bytes], [0b11011010, 0b1]);
  assertSameSymbols(huffmanDecode(bytes, 4, t), new Uint8Array([0, 1, 2, 3]), 'decode');
});

test('code lengths are optimal: cost equals the reference Huffman cost where no limit binds', () => {
  const r = mulberry32(21);
  for (let trial = 0; trial < 300; trial++) {
    const n = randInt(r, 2, trial < 250 ? 40 : 400);
    const counts = Array.from({ length: n }, () => (r() < 0.2 ? 0 : randInt(r, 1, r() < 0.5 ? 10 : 100000)));
    counts[0] ||= 1; counts[1] ||= 1;
    const lengths = huffmanCodeLengths(counts, 16);
    const ref = referenceHuffman(counts);
    if (ref.height <= 16) assert.equal(cost(counts, lengths), ref.cost, `trial ${trial}`);
    else assert.ok(cost(counts, lengths) >= ref.cost, `trial ${trial}: a binding limit cannot beat the optimum`);
    assert.equal(kraftSum(lengths), 1, 'complete code');
    counts.forEach((c, s) => assert.equal(lengths[s] > 0, c > 0, `symbol ${s} codable iff present`));
  }
});

test('Fibonacci frequencies: the unlimited tree has depth n−1; limited codes respect the limit with Kraft equality', () => {
  const fib = fibonacciWeights(20);
  const unlimited = huffmanCodeLengths(fib, 16);
  assert.equal(Math.max(...unlimited), 16, 'the limit 16 binds for 20 Fibonacci weights (depth 19 unlimited)');
  const small = fibonacciWeights(12);
  const deep = huffmanCodeLengths(small, 16);
  assert.equal(Math.max(...deep), 11, 'depth n − 1 when nothing binds');
  assert.equal(cost(small, deep), referenceHuffmanCost(small));
  for (const limit of [5, 8, 12, 16]) {
    const lengths = huffmanCodeLengths(fib, limit);
    assert.ok(Math.max(...lengths) <= limit, `limit ${limit}`);
    assert.equal(kraftSum(lengths), 1, `Kraft equality at limit ${limit}`);
    assert.ok(cost(fib, lengths) >= referenceHuffmanCost(fib));
  }
});

test('length-limited lengths are optimal: package-merge matches exhaustive search on small alphabets', () => {
  const r = mulberry32(8);
  for (let trial = 0; trial < 120; trial++) {
    const n = randInt(r, 2, 6), limit = randInt(r, Math.ceil(Math.log2(n)), 4);
    const counts = Array.from({ length: n }, () => randInt(r, 1, r() < 0.5 ? 5 : 500));
    let best = Infinity;
    const len = new Array(n).fill(1);
    for (;;) {  // every vector in [1, limit]^n that satisfies Kraft ≤ 1
      if (kraftSum(len) <= 1) best = Math.min(best, cost(counts, len));
      let k = 0;
      while (k < n && len[k] === limit) len[k++] = 1;
      if (k === n) break;
      len[k]++;
    }
    const lengths = huffmanCodeLengths(counts, limit);
    assert.equal(cost(counts, lengths), best, `counts ${counts} limit ${limit}`);
    assert.ok(Math.max(...lengths) <= limit);
    assert.equal(kraftSum(lengths), 1);
  }
});

test('a limit below ⌈log2 n⌉ is raised to fit every present symbol', () => {
  const counts = new Array(300).fill(1);
  const lengths = huffmanCodeLengths(counts, 8);
  assert.equal(Math.max(...lengths), 9);
  assert.equal(kraftSum(lengths), 1);
  assertCodecError(() => huffmanCodeLengths(counts, 17), 'parameter_invalid');
});

test('tables serialize compactly and round-trip (dense, sparse 16-bit, one-symbol, empty)', () => {
  const r = mulberry32(3);
  const cases: number[][] = [
    [5, 2, 1, 1],
    Array.from({ length: 256 }, () => randInt(r, 0, 3) * randInt(r, 1, 1000)),
    Array.from({ length: 32 }, (_, k) => Math.round(1e6 * 0.2 * 0.8 ** k) + 1),
  ];
  const sparse = new Array(65536).fill(0);
  for (const s of [3, 900, 40000, 40001, 65535]) sparse[s] = randInt(r, 1, 50);
  cases.push(sparse);
  for (const counts of cases) {
    const t = fitHuffmanTable(counts);
    const bytes = writeHuffmanTable(t);
    const back = readHuffmanTable(bytes, counts.length);
    assert.equal(back.bytes, bytes.length);
    assert.deepEqual([...back.table.lengths], [...t.lengths]);
  }
  assert.ok(writeHuffmanTable(fitHuffmanTable(sparse)).length <= 32, 'sparse 2^16 table stays small (not 2^16 entries)');
  assert.ok(writeHuffmanTable(fitHuffmanTable(cases[2])).length <= 12, 'geometric 5-bit table');
  const one = fitHuffmanTable([0, 0, 9, 0]);
  assert.equal(one.single, 2);
  assert.equal(readHuffmanTable(writeHuffmanTable(one), 4).table.single, 2);
  assert.equal(huffmanEncode(new Uint8Array([2, 2, 2]), one).length, 0);
  assertSameSymbols(huffmanDecode(new Uint8Array(0), 3, one), new Uint8Array([2, 2, 2]), 'one-symbol');
  const empty = fitHuffmanTable([0, 0]);
  assert.equal(readHuffmanTable(writeHuffmanTable(empty), 2).table.maxLength, 0);
});

test('invalid tables are rejected with table_invalid', () => {
  assertCodecError(() => huffmanTableFromLengths(Uint8Array.from([1, 1, 1])), 'table_invalid', /over-subscribed/);
  assertCodecError(() => huffmanTableFromLengths(Uint8Array.from([1, 2])), 'table_invalid', /incomplete/);
  assertCodecError(() => huffmanTableFromLengths(Uint8Array.from([1, 17])), 'table_invalid', /length 17/);
  assertCodecError(() => huffmanTableFromLengths(Uint8Array.from([1, 0])), 'table_invalid', /one-symbol/);
  assertCodecError(() => readHuffmanTable(Uint8Array.from([0x03]), 8), 'table_invalid', /unknown kind/);
  assertCodecError(() => readHuffmanTable(Uint8Array.from([0x01, 0xff, 0xff]), 8), 'table_invalid', /outside alphabet/);
  assertCodecError(() => readHuffmanTable(writeHuffmanTable(fitHuffmanTable([1, 2, 3, 4])), 3), 'table_invalid', /4 lengths/);
});

test('encoding a symbol the table cannot code throws symbol_outOfRange', () => {
  const t = fitHuffmanTable([3, 1, 0, 0]);
  assertCodecError(() => huffmanEncode(new Uint8Array([0, 1, 2]), t), 'symbol_outOfRange', /symbol 2/);
});

test('round trips across stream counts 0…600 exercise the 1- and 4-stream paths and their tails', () => {
  const r = mulberry32(4);
  for (let n = 0; n <= 600; n += n < 300 ? 1 : 37) {
    const a = Uint8Array.from({ length: n }, () => (r() < 0.6 ? 0 : randInt(r, 1, 20)));
    const counts = histogram(a, 21);
    counts[0]++; counts[1]++;  // keep at least two codable symbols
    const t = fitHuffmanTable(counts, { maxLength: 1 + (n % 16) });
    assertSameSymbols(huffmanDecode(huffmanEncode(a, t), n, t), a, `n=${n}`);
  }
});

test('multi-symbol decoding and word-at-a-time encoding handle unaligned inputs and every stream tail', () => {
  const r = mulberry32(9);
  const base = Uint8Array.from({ length: 5000 }, () => (r() < 0.85 ? 0 : randInt(r, 1, 31)));
  for (const [offset, n] of [[0, 256], [1, 257], [2, 999], [3, 4093], [1, 4999]]) {
    const a = base.subarray(offset, offset + n);
    const t = fitHuffmanTable(histogram(a, 32));
    assertSameSymbols(huffmanDecode(huffmanEncode(a, t), n, t), a, `offset ${offset} n ${n}`);
  }
});

test('decoder rejects truncation, extension, non-zero padding and impossible counts', () => {
  const r = mulberry32(6);
  const a = Uint8Array.from({ length: 1000 }, () => randInt(r, 0, 9));
  const t = fitHuffmanTable(histogram(a, 10));
  const enc = huffmanEncode(a, t);
  assertCodecError(() => huffmanDecode(enc.subarray(0, enc.length - 1), 1000, t));
  const longer = new Uint8Array(enc.length + 1); longer.set(enc);
  assertCodecError(() => huffmanDecode(longer, 1000, t), 'srcSize_wrong', /unread/);
  assertCodecError(() => huffmanDecode(enc, 1e9, t), 'srcSize_wrong', /hold at most/);
  const small = Uint8Array.from({ length: 10 }, (_, i) => i % 3);
  const ts = fitHuffmanTable(histogram(small, 3));
  const es = huffmanEncode(small, ts);
  const bits = small.reduce((b, s) => b + ts.lengths[s], 0);
  if (bits % 8 !== 0) {
    const padded = es.slice(); padded[padded.length - 1] |= 0x80;
    assertCodecError(() => huffmanDecode(padded, 10, ts), 'corruption_detected', /padding/);
  }
  assertCodecError(() => huffmanDecode(enc, 900, t));  // fewer symbols than coded: the stream is not consumed
  assertCodecError(() => huffmanDecode(es, 14, ts), 'srcSize_wrong');  // more symbols than the bits can hold
});
