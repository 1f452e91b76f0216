import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crossEntropy, histogram } from '../../src/codec/entropy.js';
import { CodecError } from '../../src/codec/errors.js';
import { geometricSymbols } from '../../src/codec/synthetic.js';
import { buildLedger, fitStaticTables, LedgerAccumulator, ledgerToJSON } from '../../src/ledger/index.js';
import { formatLedgerTable } from '../../src/cli/tables.js';
import { mulberry32 } from '../codec/helpers.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);
const H_QUARTER = 0.8112781244591328;  // h(1/4)

/** 1000 two-valued symbols, 250 ones at shuffled positions (Huffman: exactly 1 bit each). */
function twoSymbolLayer(seed: number): Uint8Array {
  const a = new Uint8Array(1000);
  for (let i = 0; i < 250; i++) a[i] = 1;
  const r = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}

test('per-layer numbers match hand computation', () => {
  const ledger = buildLedger([{ name: 'conv1', bits: 2, symbols: twoSymbolLayer(1) }]);
  const row = ledger.layers[0];
  assert.equal(row.elements, 1000);
  assert.equal(row.rawBits, 2000);
  close(row.entropyPerValue, H_QUARTER);
  const huf = row.adaptive.huffman!;
  // 1 bit per symbol in 4 streams, plus the jump table: bit offsets 250, 500, 750 as 2-byte varints.
  assert.equal(huf.payloadBits, 1000 + 8 * 6);
  close(huf.bitsPerValueNoTable, 1.048);
  assert.equal(huf.bitsPerValue, (huf.payloadBits + huf.tableBits) / 1000);
  const rans = row.adaptive.rans!;
  assert.ok(rans.payloadBits >= 1000 * H_QUARTER && rans.payloadBits <= 1000 * H_QUARTER + 8 * 16 + 16, `rANS ${rans.payloadBits}`);
  assert.ok(row.adaptive.zerorun!.payloadBits > 0);
  assert.ok(huf.containerBits > huf.payloadBits + huf.tableBits, 'container adds header and CRC');
});

test('totals are element-weighted averages over layers (the paper\'s bits per value)', () => {
  const ledger = buildLedger([
    { name: 'a', bits: 2, symbols: twoSymbolLayer(2) },
    { name: 'b', bits: 4, symbols: new Uint8Array(3000) },   // all zeros: constant mode, no payload
  ], { codecs: ['huffman'] });
  const t = ledger.total;
  assert.equal(t.elements, 4000);
  close(t.rawPerValue, (1000 * 2 + 3000 * 4) / 4000);
  close(t.entropyPerValue, (1000 * H_QUARTER) / 4000);
  assert.equal(ledger.layers[1].adaptive.huffman!.payloadBits, 0);
  close(t.adaptive.huffman!.bitsPerValueNoTable, 1048 / 4000);
  assert.deepEqual(ledger.codecs, ['huffman']);
  assert.equal(ledger.layers[0].adaptive.rans, undefined);
});

test('accumulating batches: per-batch adaptive tables, numel-weighted entropy', () => {
  const acc = new LedgerAccumulator({ codecs: ['huffman', 'rans'] });
  acc.add('relu1', 2, twoSymbolLayer(3));               // H = h(1/4), 1000 elements
  acc.add('relu1', 2, Uint8Array.from([0, 1, 2, 3]));   // H = 2, 4 elements
  const row = acc.finish().layers[0];
  assert.equal(row.batches, 2);
  assert.equal(row.elements, 1004);
  close(row.entropyBits, 1000 * H_QUARTER + 4 * 2);
  const single = buildLedger([{ name: 'x', bits: 2, symbols: twoSymbolLayer(3) }], { codecs: ['huffman'] }).layers[0].adaptive.huffman!;
  const small = buildLedger([{ name: 'x', bits: 2, symbols: Uint8Array.from([0, 1, 2, 3]) }], { codecs: ['huffman'] }).layers[0].adaptive.huffman!;
  assert.equal(row.adaptive.huffman!.payloadBits, single.payloadBits + small.payloadBits);
  assert.equal(row.adaptive.huffman!.tableBits, single.tableBits + small.tableBits);
});

test('static tables: no table bits, cross-entropy against the calibration model, both reported', () => {
  const r = mulberry32(4);
  const calibration = [geometricSymbols(50000, 0.8, 5, r)];
  const tables = fitStaticTables(calibration, 5);
  const data = geometricSymbols(40000, 0.8, 5, r);
  const ledger = buildLedger([{ name: 'l', bits: 5, symbols: data, staticTable: tables }]);
  const st = ledger.layers[0].static!;
  close(st.crossEntropyPerValue, crossEntropy(histogram(data, 32), tables.counts), 1e-12);
  assert.ok(st.crossEntropyPerValue >= ledger.layers[0].entropyPerValue);
  for (const c of ['huffman', 'rans', 'zerorun'] as const) {
    assert.equal(st.codecs[c]!.tableBits, 0);
    assert.ok(st.codecs[c]!.bitsPerValue > 0);
  }
  // Same source: the static rANS code is close to the adaptive one, and within 1 % of the cross-entropy.
  assert.ok(st.codecs.rans!.bitsPerValue <= st.crossEntropyPerValue * 1.01 + 128 / 40000);
  assert.equal(ledger.total.static!.elements, 40000);
});

test('JSON and console table', () => {
  const ledger = buildLedger([
    { name: 'layer1.0.relu', bits: 5, symbols: geometricSymbols(2000, 0.7, 5, mulberry32(5)) },
    { name: 'fc', bits: 4, symbols: new Uint8Array(10) },
  ]);
  const parsed = JSON.parse(ledgerToJSON(ledger));
  assert.equal(parsed.layers.length, 2);
  assert.equal(parsed.total.elements, 2010);
  assert.equal(parsed.layers[0].adaptive.rans.payloadBits, ledger.layers[0].adaptive.rans!.payloadBits);
  const text = formatLedgerTable(ledger);
  const lines = text.split('\n');
  assert.match(lines[0], /^layer\s+b\s+elements\s+raw\s+H\s+huf\s+huf\+tbl\s+rans/);
  assert.ok(lines.some((l) => l.startsWith('layer1.0.relu')));
  assert.match(lines[lines.length - 2], /^total \(element-weighted\)\s+2010\s+4\.995\s/);  // (2000·5 + 10·4) / 2010
  assert.equal(ledgerToJSON({ ...ledger, total: { ...ledger.total, entropyPerValue: Infinity } }).includes('"entropyPerValue":null'), true);
});

test('input errors are typed and name the layer', () => {
  const acc = new LedgerAccumulator();
  assert.throws(() => acc.add('x', 0, new Uint8Array(1)), (e) => e instanceof CodecError && /bits must be/.test(e.message));
  assert.throws(() => acc.add('x', 2, new Uint8Array([4])), (e) => e instanceof CodecError && e.code === 'symbol_outOfRange');
  acc.add('y', 3, new Uint8Array(4));
  assert.throws(() => acc.add('y', 4, new Uint8Array(4)), /layer 'y': batch has 4 bits/);
  assert.throws(() => new LedgerAccumulator({ codecs: ['gzip' as 'rans'] }), /unknown codec 'gzip'/);
});

test('merging exported shards gives the ledger of all batches (data-parallel evaluation)', () => {
  const rnd = (seed: number, n: number) => { let s = seed; return Uint8Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 28) & 15); };
  const batches = [0, 1, 2, 3, 4].map((b) => ({ a: rnd(b + 1, 300), c: rnd(b + 11, 120) }));
  const table = fitStaticTables([rnd(99, 500)], 4);
  const whole = new LedgerAccumulator();
  const shards = [new LedgerAccumulator(), new LedgerAccumulator()];
  batches.forEach((b, i) => {
    for (const acc of [whole, shards[i % 2]!]) { acc.add('a', 4, b.a, table); acc.add('c', 4, b.c); }
  });
  const merged = new LedgerAccumulator();
  for (const s of shards) merged.mergeState(JSON.parse(JSON.stringify(s.exportState())));
  const w = whole.finish(), m = merged.finish();
  assert.deepEqual(m.layers.map((l) => [l.name, l.batches, l.elements, l.adaptive.huffman?.payloadBits, l.static?.codecs.rans?.payloadBits]),
    w.layers.map((l) => [l.name, l.batches, l.elements, l.adaptive.huffman?.payloadBits, l.static?.codecs.rans?.payloadBits]));
  assert.ok(Math.abs(m.total.entropyPerValue - w.total.entropyPerValue) < 1e-12);
  assert.equal(m.total.adaptive.zerorun?.bitsPerValue, w.total.adaptive.zerorun?.bitsPerValue);
  assert.throws(() => new LedgerAccumulator({ codecs: ['huffman'] }).mergeState(shards[0]!.exportState()), /codecs/);
});
