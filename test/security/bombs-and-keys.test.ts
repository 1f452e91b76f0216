// Decompression bombs and ambiguous headers, in process: a gzip IDX file is inflated to at most
// what its header declares (and never past the global cap), generated here as concatenated gzip
// members so a gigabyte-sized bomb costs a few megabytes and no disk; duplicate keys in a
// safetensors header are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { parseIdx, MAX_IDX_BYTES } from '../../src/data/idx.js';
import { decodeSafetensors } from '../../src/nn/safetensors.js';
import { findDuplicateKey } from '../../src/io/json-keys.js';
import { CatkitError } from '../../src/errors.js';

const MB = 1024 * 1024;

/** An IDX uint8 header with these dims. */
function idxHeader(dims: number[]): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt32BE(0x00000800 | dims.length, 0);
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return h;
}

/** A gzip file that inflates to the header followed by `payloadMB` MB of zeros (one member per MB). */
function bomb(dims: number[], payloadMB: number): Buffer {
  const zerosMember = gzipSync(Buffer.alloc(MB), { level: 9 });
  return Buffer.concat([gzipSync(idxHeader(dims)), ...Array(payloadMB).fill(zerosMember)]);
}

test('a gzip IDX file that inflates past its header\'s size stops at that size, without the memory', () => {
  const file = bomb([1, 28, 28], 1536); // 1.5 GB once inflated, from a ~1.6 MB file
  assert.ok(file.length < 4 * MB, `bomb is ${file.length} bytes`);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  assert.throws(() => parseIdx(file, 'bomb-images.gz', 3), (e: unknown) => {
    assert.ok(e instanceof CatkitError && e.userFacing, String(e));
    assert.equal((e as CatkitError).code, 'gzip_too_large');
    assert.match((e as Error).message, /^bomb-images\.gz: gzip data inflates to more than 66336 bytes, the most its IDX header allows; refusing it/);
    return true;
  });
  const grew = process.memoryUsage().rss - rss0;
  assert.ok(grew < 200 * MB, `RSS grew by ${(grew / MB).toFixed(0)} MB`);
  assert.ok(performance.now() - t0 < 5000, 'stopped early, not after inflating everything');
});

test('a header declaring more than the global cap is refused before inflating', () => {
  const file = gzipSync(Buffer.concat([idxHeader([100000, 200, 200]), Buffer.alloc(1000)]));
  assert.ok(100000 * 200 * 200 > MAX_IDX_BYTES);
  assert.throws(() => parseIdx(file, 'huge.gz', 3), { code: 'file_too_large', message: /^huge\.gz: its header declares 4000000016 bytes, above the 2147483648-byte limit for IDX files$/ });
  // An honest gzip file still reads, and trailing garbage is still reported as such.
  const ok = gzipSync(Buffer.concat([idxHeader([2, 2, 3]), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])]));
  assert.deepEqual([...parseIdx(ok, 'ok.gz', 3).data], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const trailing = gzipSync(Buffer.concat([idxHeader([2, 2, 3]), Buffer.alloc(12 + 5)]));
  assert.throws(() => parseIdx(trailing, 't.gz', 3), { message: /^t\.gz: 5 unexpected trailing bytes/ });
});

/** A safetensors file from a header text and data bytes. */
function safetensors(header: string, data: Uint8Array): Uint8Array {
  const h = Buffer.from(header);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

test('duplicate keys in a safetensors header are refused (JSON.parse would keep the last one)', () => {
  const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
  const dup = safetensors(`{"w":${entry},"w":${entry}}`, new Uint8Array(4));
  assert.throws(() => decodeSafetensors(dup), { name: 'SafetensorsError', code: 'safetensors_invalid', message: /header names 'w' in the top-level object twice/ });
  const dupMeta = safetensors(`{"__metadata__":{"a":"1","a":"2"},"w":${entry}}`, new Uint8Array(4));
  assert.throws(() => decodeSafetensors(dupMeta), /header names 'a' in the object of '__metadata__' twice/);
  const dupField = safetensors('{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4));
  assert.throws(() => decodeSafetensors(dupField), /header names 'dtype' in the object of 'w' twice/);
  // Escapes are compared decoded: "w" and "\u0077" are the same key.
  assert.equal(findDuplicateKey('{"w":1,"\\u0077":2}'), "'w' in the top-level object");
  assert.equal(findDuplicateKey('{"a":{"x":1},"b":{"x":[{"x":1},{"x":2}]}}'), null);
  const t = decodeSafetensors(safetensors(`{"w":${entry}}`, new Uint8Array(4))).tensors;
  assert.deepEqual([...t.keys()], ['w']);
  for (const v of t.values()) v.dispose();
});
