import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32 } from '../../src/codec/crc32.js';
import { mulberry32 } from './helpers.js';

test('CRC-32 matches the standard check values', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(new TextEncoder().encode('The quick brown fox jumps over the lazy dog')), 0x414fa339);
});

test('CRC-32 is incremental and agrees with zlib on random data', () => {
  const r = mulberry32(5);
  const data = Uint8Array.from({ length: 10007 }, () => Math.floor(r() * 256));
  const whole = crc32(data);
  assert.equal(crc32(data, 4000, data.length, crc32(data, 0, 4000)), whole);
  const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  if (zcrc) for (const n of [0, 1, 3, 4, 5, 17, 10007]) assert.equal(crc32(data.subarray(0, n)), zcrc(data.subarray(0, n)));
});
