import assert from 'node:assert/strict';
import { test } from 'node:test';
import { geometricSymbols } from '../../src/codec/synthetic.js';
import {
  fitZeroRunTable, readZeroRunTable, RUN_ALPHABET, RUN_DIRECT, runExtraBits, runSymbol, runValue, writeZeroRunTable,
  zeroRunDecode, zeroRunEncode, zeroRunTokens,
} from '../../src/codec/zerorun.js';
import { assertCodecError, assertSameSymbols, mulberry32, randInt } from './helpers.js';

test('tokenization: runs of zeros before each literal, then the trailing run (hand-checked)', () => {
  const tok = zeroRunTokens(new Uint8Array([0, 0, 3, 0, 1, 0, 0, 0]), 4);
  assert.deepEqual([...tok.runs], [2, 1, 3]);
  assert.deepEqual([...tok.literals], [2, 0]);
  assert.equal(tok.extra.length, 0);
  const edge = zeroRunTokens(new Uint8Array([5, 5]), 8);
  assert.deepEqual([...edge.runs], [0, 0, 0]);
  assert.deepEqual([...zeroRunTokens(new Uint8Array(0), 8).runs], [0]);
});

test('run buckets: every run length maps to a symbol and extra bits that give it back', () => {
  const r = mulberry32(1);
  const samples = [0, 1, 15, 16, 17, 23, 24, 31, 32, 47, 48, 1000, 2 ** 20, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
  for (let k = 0; k < 2000; k++) samples.push(Math.floor(2 ** (r() * 32)));
  for (const v of samples) {
    const s = runSymbol(v), eb = runExtraBits(s);
    assert.ok(s < RUN_ALPHABET, `run ${v} → symbol ${s}`);
    assert.equal(eb === 0, v < RUN_DIRECT);
    const extra = eb === 0 ? 0 : v % 2 ** eb;
    assert.equal(runValue(s, extra), v, `run ${v}`);
  }
  assert.equal(runSymbol(16), RUN_DIRECT);        // [16, 24): 16 + 3 extra bits
  assert.equal(runSymbol(24), RUN_DIRECT + 1);    // [24, 32)
  assert.equal(runSymbol(32), RUN_DIRECT + 2);
  assert.equal(runSymbol(2 ** 32 - 1), RUN_ALPHABET - 1);
});

test('round trips with Huffman and rANS inner coders, including long runs and 16-bit literals', () => {
  const r = mulberry32(2);
  const inputs: [Uint8Array | Uint16Array, number][] = [
    [geometricSymbols(20000, 0.95, 5, r), 32],
    [geometricSymbols(5000, 0.3, 8, r), 256],
    [Uint8Array.from({ length: 100000 }, (_, i) => (i === 70000 || i === 3 ? 9 : 0)), 16],
    [Uint16Array.from({ length: 3000 }, () => (r() < 0.9 ? 0 : randInt(r, 1, 65535))), 65536],
  ];
  for (const [a, alphabet] of inputs) {
    for (const inner of ['huffman', 'rans'] as const) {
      const t = fitZeroRunTable(zeroRunTokens(a, alphabet), alphabet, { inner });
      const tb = writeZeroRunTable(t);
      const back = readZeroRunTable(tb, alphabet);
      assert.equal(back.bytes, tb.length);
      assertSameSymbols(zeroRunDecode(zeroRunEncode(a, t), a.length, back.table), a, `${inner} alphabet ${alphabet}`);
    }
  }
});

test('decoder rejects runs that overflow the count and inconsistent literal counts', () => {
  const a = Uint8Array.from([0, 0, 1, 0, 2, 0]);
  const t = fitZeroRunTable(zeroRunTokens(a, 4), 4);
  const enc = zeroRunEncode(a, t);
  assertCodecError(() => zeroRunDecode(enc, 5, t), 'corruption_detected');
  assertCodecError(() => zeroRunDecode(enc, 7, t), 'corruption_detected');
  const forged = enc.slice(); forged[0] = 9;  // 9 literals declared for 6 symbols
  assertCodecError(() => zeroRunDecode(forged, 6, t), 'corruption_detected', /9 literals/);
  assertCodecError(() => zeroRunTokens(Uint8Array.from([0, 4]), 4), 'symbol_outOfRange');
});
