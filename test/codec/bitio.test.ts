import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitReader, BitWriter, ByteReader, ByteWriter } from '../../src/codec/bitio.js';
import { assertCodecError, mulberry32, randInt } from './helpers.js';

test('bits are packed LSB-first into bytes (hand-checked layout)', () => {
  const w = new BitWriter();
  w.write(1, 1); w.write(0b101, 3); w.write(0xab, 8);
  assert.equal(w.bitLength, 12);
  // bits in order: 1 | 1,0,1 | 1,1,0,1,0,1,0,1 → byte0 = 0b1011_1011, byte1 = 0b0000_1010
  assert.deepEqual([...w.finish()], [0b10111011, 0b00001010]);
});

test('random widths 0…32 round-trip exactly, and the end is exact', () => {
  const r = mulberry32(11);
  for (let trial = 0; trial < 50; trial++) {
    const n = randInt(r, 0, 400);
    const widths = Array.from({ length: n }, () => randInt(r, 0, 32));
    const values = widths.map((b) => (b === 0 ? 0 : Math.floor(r() * 2 ** b)));
    const w = new BitWriter(4);
    widths.forEach((b, i) => w.write(values[i], b));
    const bytes = w.finish();
    const total = widths.reduce((a, b) => a + b, 0);
    assert.equal(bytes.length, Math.ceil(total / 8));
    const rd = new BitReader(bytes);
    widths.forEach((b, i) => assert.equal(rd.read(b), values[i], `value ${i} of width ${b}`));
    rd.assertEnd();
    assert.equal(rd.bitsLeft, bytes.length * 8 - total);
  }
});

test('Exp-Golomb codes round-trip at the extremes', () => {
  const vals = [0, 1, 2, 3, 7, 8, 255, 65535, 2 ** 31 - 2, 2 ** 31 - 1];
  const w = new BitWriter();
  for (const v of vals) w.writeExpGolomb(v);
  const rd = new BitReader(w.finish());
  for (const v of vals) assert.equal(rd.readExpGolomb(), v);
  rd.assertEnd();
  const w1 = new BitWriter(); w1.writeExpGolomb(0);
  assert.equal(w1.bitLength, 1);
  const w2 = new BitWriter(); w2.writeExpGolomb(6);   // 7 = 0b111: 2 zeros, terminator, 2 low bits
  assert.equal(w2.bitLength, 5);
});

test('reading past the end throws srcSize_wrong instead of inventing zeros', () => {
  const rd = new BitReader(new Uint8Array([0xff]));
  assert.equal(rd.read(5), 31);
  assertCodecError(() => rd.read(4), 'srcSize_wrong');
  const z = new BitReader(new Uint8Array([0, 0, 0]));  // 24 zero bits: the prefix never ends
  assertCodecError(() => z.readExpGolomb(), 'srcSize_wrong');
  const longPrefix = new BitReader(new Uint8Array(8));  // 64 zero bits: longer than any valid prefix
  assertCodecError(() => longPrefix.readExpGolomb(), 'corruption_detected');
});

test('assertEnd rejects unread bytes and non-zero padding', () => {
  const a = new BitReader(new Uint8Array([0x01, 0x00]));
  a.read(1);
  assertCodecError(() => a.assertEnd(), 'srcSize_wrong');
  const b = new BitReader(new Uint8Array([0x81]));
  b.read(1);
  assertCodecError(() => b.assertEnd(), 'corruption_detected');
  const c = new BitReader(new Uint8Array([0x01]));
  c.read(1);
  c.assertEnd();
});

test('varints: round trip, minimal encoding and range are enforced', () => {
  const vals = [0, 1, 127, 128, 300, 16383, 16384, 2 ** 32 - 1];
  const w = new ByteWriter();
  for (const v of vals) w.varint(v);
  const bytes = w.finish();
  assert.deepEqual([...new ByteWriter().varint(300).finish()], [0xac, 0x02]);
  const r = new ByteReader(bytes);
  for (const v of vals) assert.equal(r.varint('v'), v);
  assert.equal(r.left, 0);
  assertCodecError(() => new ByteReader(new Uint8Array([0x80, 0x00])).varint('v'), 'corruption_detected', /minimally/);
  assertCodecError(() => new ByteReader(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f])).varint('v'), 'corruption_detected', /2\^32/);
  assertCodecError(() => new ByteReader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).varint('v'), 'corruption_detected', /5 bytes/);
  assertCodecError(() => new ByteReader(new Uint8Array([0x80])).varint('count'), 'srcSize_wrong', /count/);
  assertCodecError(() => new ByteWriter().varint(2 ** 32), 'parameter_invalid');
});
