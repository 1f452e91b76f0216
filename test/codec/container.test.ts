import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODEC_NAMES, CODECS } from '../../src/codec/codecs.js';
import {
  decodeContainer, encodeContainer, encodeContainerParts, readContainerHeader, rawWidth,
} from '../../src/codec/container.js';
import { crc32 } from '../../src/codec/crc32.js';
import { geometricSymbols } from '../../src/codec/synthetic.js';
import { assertCodecError, assertSameSymbols, distributions, mulberry32, randInt } from './helpers.js';

const MODES = [...CODEC_NAMES, 'raw', 'auto'] as const;

test('round trip is exact for every distribution, coder and a spread of sizes (0 … 10^4)', () => {
  const r = mulberry32(1);
  for (const d of distributions()) {
    for (const n of [0, 1, 2, 3, 5, 17, 255, 256, 257, 1000, randInt(r, 1, 10000)]) {
      const a = d.make(n, r);
      for (const codec of MODES) {
        const bytes = encodeContainer(a, { codec, alphabetSize: d.alphabetSize });
        assertSameSymbols(decodeContainer(bytes), a, `${d.name} n=${n} ${codec}`);
      }
    }
  }
});

test('round trip is exact at 10^6 symbols (every coder, two distributions)', () => {
  const r = mulberry32(2);
  for (const d of distributions().filter((x) => x.name === 'geometric p0=0.8' || x.name === 'uniform 2^16')) {
    const a = d.make(1e6, r);
    for (const codec of CODEC_NAMES) assertSameSymbols(decodeContainer(encodeContainer(a, { codec, alphabetSize: d.alphabetSize })), a, `${d.name} ${codec}`);
  }
});

test('random sizes up to 10^6 with random coder options round-trip', () => {
  const r = mulberry32(3);
  for (let trial = 0; trial < 6; trial++) {
    const n = Math.floor(10 ** (r() * 6)), p0 = 0.5 + r() * 0.499;
    const a = geometricSymbols(n, p0, randInt(r, 1, 8), r);
    const codec = CODEC_NAMES[trial % 3];
    const opts = { codec, alphabetSize: 256, maxCodeLength: randInt(r, 8, 16), scaleBits: randInt(r, 8, 16), zeroRunInner: trial % 2 ? 'rans' as const : 'huffman' as const };
    assertSameSymbols(decodeContainer(encodeContainer(a, opts)), a, `n=${n} ${JSON.stringify(opts)}`);
  }
});

test('container parts add up and degenerate inputs use raw/constant modes', () => {
  const a = geometricSymbols(5000, 0.8, 5, mulberry32(4));
  const p = encodeContainerParts(a, { codec: 'huffman', alphabetSize: 32 });
  assert.equal(p.headerBytes + p.tableBytes + p.payloadBytes + p.checksumBytes, p.bytes.length);
  assert.equal(p.mode, 'huffman');
  const c = encodeContainerParts(new Uint8Array(1000).fill(3), { codec: 'rans', alphabetSize: 8 });
  assert.equal(c.mode, 'constant');
  assert.equal(c.payloadBytes, 0);
  assert.equal(encodeContainerParts(new Uint8Array(0), { codec: 'huffman' }).mode, 'constant');
  assert.equal(rawWidth(1), 0); assert.equal(rawWidth(32), 5); assert.equal(rawWidth(33), 6); assert.equal(rawWidth(65536), 16);
  const raw = encodeContainerParts(a, { codec: 'raw', alphabetSize: 32 });
  assert.equal(raw.payloadBytes, Math.ceil((5000 * 5) / 8));
  const auto = encodeContainerParts(a, { alphabetSize: 32 });
  assert.ok(auto.bytes.length <= Math.min(p.bytes.length, raw.bytes.length), 'auto keeps the smallest');
});

test('static tables: coded without the table in the stream, and the right table is required to decode', () => {
  const r = mulberry32(5);
  const calib = [geometricSymbols(20000, 0.85, 5, r), geometricSymbols(20000, 0.85, 5, r)];
  const a = geometricSymbols(30000, 0.85, 5, r);
  for (const name of CODEC_NAMES) {
    const t = CODECS[name].fitStatic(calib, 32, {});
    const p = encodeContainerParts(a, { staticTable: t });
    assert.equal(p.externalTable, true);
    assert.equal(p.tableBytes, 4, 'only the table fingerprint is stored');
    assertSameSymbols(decodeContainer(p.bytes, { staticTable: t }), a, name);
    assertCodecError(() => decodeContainer(p.bytes), 'table_missing');
    const other = CODECS[name].fitStatic([geometricSymbols(1000, 0.3, 5, r)], 32, {});
    assertCodecError(() => decodeContainer(p.bytes, { staticTable: other }), 'table_mismatch');
  }
  // A calibration table codes symbols never seen in calibration (add-one smoothing).
  const t = CODECS.huffman.fitStatic([new Uint8Array(100)], 32, {});
  const unseen = Uint8Array.from({ length: 64 }, (_, i) => i % 32);
  assertSameSymbols(decodeContainer(encodeContainer(unseen, { staticTable: t }), { staticTable: t }), unseen, 'unseen symbols');
});

function withCrc(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body), true);
  return out;
}

test('each header check has its own error', () => {
  const a = geometricSymbols(3000, 0.7, 5, mulberry32(6));
  const good = encodeContainer(a, { codec: 'rans', alphabetSize: 32 });
  const body = good.subarray(0, good.length - 4);
  const patched = (at: number, v: number) => { const b = body.slice(); b[at] = v; return withCrc(b); };
  assertCodecError(() => decodeContainer(patched(0, 0x58)), 'magic_wrong');
  assertCodecError(() => decodeContainer(patched(4, 2)), 'version_unsupported', /version 2/);
  assertCodecError(() => decodeContainer(patched(5, 9)), 'codec_unknown');
  assertCodecError(() => decodeContainer(patched(6, 0x80)), 'corruption_detected', /flag/);
  assertCodecError(() => decodeContainer(good, { maxElements: 2999 }), 'count_tooLarge', /3000 elements/);
  assertCodecError(() => decodeContainer(good.subarray(0, good.length - 1)), 'srcSize_wrong');
  assertCodecError(() => decodeContainer(good.subarray(0, 10)), 'srcSize_wrong');
  const extended = new Uint8Array(good.length + 1); extended.set(good);
  assertCodecError(() => decodeContainer(extended), 'srcSize_wrong', /after the checksum/);
  const flipped = good.slice(); flipped[good.length - 10] ^= 4;
  assertCodecError(() => decodeContainer(flipped), 'checksum_wrong');
  assertCodecError(() => decodeContainer(new Uint8Array(0)), 'srcSize_wrong');
  // A forged header declaring 2^32 − 1 elements is refused before any allocation.
  const forged = new Uint8Array([0x43, 0x41, 0x54, 0x4b, 1, 1, 0, 31, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0, 0]);
  assertCodecError(() => decodeContainer(withCrc(forged)), 'count_tooLarge');
  const h = readContainerHeader(good);
  assert.equal(h.count, 3000); assert.equal(h.alphabetSize, 32); assert.equal(h.mode, 'rans');
});

test('encoder argument errors', () => {
  assertCodecError(() => encodeContainer(new Uint8Array([40]), { alphabetSize: 32 }), 'symbol_outOfRange');
  assertCodecError(() => encodeContainer(new Uint8Array(1), { alphabetSize: 0 }), 'alphabet_invalid');
  assertCodecError(() => encodeContainer(new Uint8Array(1), { codec: 'lzma' as 'rans' }), 'parameter_invalid', /unknown codec 'lzma'/);
  assertCodecError(() => encodeContainer(Uint8Array.from([0, 1]), { codec: 'huffman', maxCodeLength: 17 }), 'parameter_invalid');
});
