import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
// Imports modules directly (not the index) so these tests run without the native addon.
import { DataError } from '../../src/data/errors.js';
import { parseIdx, parseIdxPair, readIdxPair } from '../../src/data/idx.js';

/** An IDX file: magic [0, 0, type, rank], big-endian uint32 dims, payload. */
function idx(dims: number[], payload: number[], type = 0x08, rankByte = dims.length): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = rankByte;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([head, Buffer.from(payload)]));
}

const PIXELS = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]; // 2 images of 2×3
const images = idx([2, 2, 3], PIXELS);
const labels = idx([2], [7, 3]);

function throwsData(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    assert.equal(e.name, 'DataError');
    assert.match(e.message, pattern);
    return true;
  });
}

test('parses a raw IDX images file exactly', () => {
  const r = parseIdx(images, 'imgs', 3);
  assert.deepEqual(r.dims, [2, 2, 3]);
  assert.deepEqual([...r.data], PIXELS);
});

test('parses gzipped IDX files exactly, sniffing gzip by content', () => {
  const r = parseIdxPair(gzipSync(images), 'imgs.gz', gzipSync(labels), 'labs.gz', 10);
  assert.equal(r.n, 2);
  assert.equal(r.height, 2);
  assert.equal(r.width, 3);
  assert.deepEqual([...r.images], PIXELS);
  assert.deepEqual([...r.labels], [7, 3]);
});

test('reads a pair from disk, mixing gzipped and raw files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'catkit-idx-'));
  writeFileSync(path.join(dir, 'i.gz'), gzipSync(images));
  writeFileSync(path.join(dir, 'l'), labels);
  const r = readIdxPair(path.join(dir, 'i.gz'), path.join(dir, 'l'), 10);
  assert.deepEqual([...r.images], PIXELS);
  throwsData(() => readIdxPair(path.join(dir, 'nope.gz'), path.join(dir, 'l'), 10), /nope\.gz: cannot read \(ENOENT\)/);
});

test('bad magic → DataError naming the file', () => {
  const bad = images.slice();
  bad[0] = 0x89; // e.g. a PNG
  throwsData(() => parseIdx(bad, 'train-images', 3), /^train-images: bad magic number 0x89000803, expected 0x00000803/);
});

test('unsupported element type → DataError', () => {
  throwsData(() => parseIdx(idx([2, 2, 3], PIXELS, 0x0d), 'f', 3), /^f: bad magic number 0x00000d03: element type float32 is not supported/);
});

test('wrong number of dims (labels given as images) → DataError', () => {
  throwsData(() => parseIdx(labels, 'labs', 3), /^labs: bad magic number 0x00000801: wrong number of dims 1 \(a labels file\?\), expected 3/);
});

test('zero dim → DataError', () => {
  throwsData(() => parseIdx(idx([2, 0, 3], []), 'z', 3), /^z: wrong dims \[2, 0, 3\]: dim 1 is zero/);
});

test('truncated payload → DataError with declared and present sizes', () => {
  throwsData(() => parseIdx(images.subarray(0, images.length - 1), 'cut', 3), /^cut: truncated: dims \[2, 2, 3\] declare 12 bytes of data but only 11 are present/);
  throwsData(() => parseIdx(gzipSync(images.subarray(0, images.length - 5)), 'cut.gz', 3), /^cut\.gz: truncated/);
});

test('truncated header → DataError', () => {
  throwsData(() => parseIdx(images.subarray(0, 2), 'tiny', 3), /^tiny: file is 2 bytes, too short for an IDX header/);
  throwsData(() => parseIdx(images.subarray(0, 9), 'short', 3), /^short: truncated header: 9 bytes, the 3 dims need 16/);
});

test('trailing bytes → DataError', () => {
  throwsData(() => parseIdx(idx([2, 2, 3], [...PIXELS, 9]), 'long', 3), /^long: 1 unexpected trailing bytes/);
});

test('absurd dims fail the size check instead of overflowing', () => {
  throwsData(() => parseIdx(idx([0xffffffff, 0xffffffff, 0xffffffff], []), 'huge', 3), /^huge: truncated/);
});

test('corrupt gzip → DataError', () => {
  const gz = gzipSync(images);
  throwsData(() => parseIdx(gz.subarray(0, gz.length - 8), 'bad.gz', 3), /^bad\.gz: corrupt or truncated gzip data/);
});

test('images/labels count mismatch → DataError naming both files', () => {
  throwsData(() => parseIdxPair(images, 'imgs', idx([3], [1, 2, 3]), 'labs', 10), /^count mismatch: imgs holds 2 images but labs holds 3 labels/);
});

test('label out of range → DataError', () => {
  throwsData(() => parseIdxPair(images, 'imgs', labels, 'labs', 5), /^labs: label 7 at index 0 is out of range; expected 0\.\.4/);
});
