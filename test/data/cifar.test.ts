// CIFAR-10 / CIFAR-100 binary readers on tiny fixtures written in the exact record layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCifar10, loadCifar100, parseCifar } from '../../src/data/cifar.js';
import { DataError } from '../../src/data/errors.js';
import { getDataset } from '../../src/data/registry.js';

const PLANE = 1024;
/** Distinct per plane and per record: R = (p + r) % 256, G = (3p + 7r + 1) % 256, B = (255 - p + 11r) % 256. */
const px = (r: number, c: number, p: number): number => [(p + r) % 256, (3 * p + 7 * r + 1) % 256, (((255 - p + 11 * r) % 256) + 256) % 256][c]!;

/** Records of `labels` (each an array of 1 or 2 label bytes) then R, G, B planes; `seq` seeds the pixels. */
function records(labels: number[][], seq = 0): Buffer {
  const rec = labels[0]!.length + 3 * PLANE;
  const b = Buffer.alloc(labels.length * rec);
  labels.forEach((ls, i) => {
    const at = i * rec;
    ls.forEach((v, k) => { b[at + k] = v; });
    for (let c = 0; c < 3; c++) for (let p = 0; p < PLANE; p++) b[at + ls.length + c * PLANE + p] = px(seq + i, c, p);
  });
  return b;
}

function cifar10Dir(opts: { meta?: boolean; skip?: string[]; nested?: boolean } = {}): string {
  const top = mkdtempSync(path.join(tmpdir(), 'catkit-c10-'));
  const dir = opts.nested ? path.join(top, 'cifar-10-batches-bin') : top;
  mkdirSync(dir, { recursive: true });
  for (let k = 1; k <= 5; k++) {
    const f = `data_batch_${k}.bin`;
    if (!opts.skip?.includes(f)) writeFileSync(path.join(dir, f), records([[k], [(k + 4) % 10]], 2 * (k - 1)));
  }
  if (!opts.skip?.includes('test_batch.bin')) writeFileSync(path.join(dir, 'test_batch.bin'), records([[9], [0], [3]], 100));
  if (opts.meta) writeFileSync(path.join(dir, 'batches.meta.txt'), `${'abcdefghij'.split('').map((c) => `cls_${c}`).join('\n')}\n\n`);
  return top;
}

const assertPixels = (images: Uint8Array, i: number, seq: number): void => {
  for (const p of [0, 1, 31, 32, 517, 1023]) {
    for (let c = 0; c < 3; c++) assert.equal(images[(i * PLANE + p) * 3 + c], px(seq, c, p), `sample ${i} pixel ${p} channel ${c}`);
  }
};

test('CIFAR-10: batches 1..5 + test, R/G/B planes land in channels 0/1/2, class names from batches.meta.txt', () => {
  const dir = cifar10Dir({ meta: true });
  const { train, test: held, classNames } = loadCifar10({ data: dir });
  assert.equal(train.n, 10);
  assert.equal(held.n, 3);
  assert.deepEqual([train.height, train.width, train.channels, train.numClasses], [32, 32, 3, 10]);
  assert.deepEqual([...train.labels], [1, 5, 2, 6, 3, 7, 4, 8, 5, 9]);
  assert.deepEqual([...held.labels], [9, 0, 3]);
  for (let i = 0; i < 10; i++) assertPixels(train.images, i, i);
  for (let i = 0; i < 3; i++) assertPixels(held.images, i, 100 + i);
  assert.equal(classNames[0], 'cls_a');
  assert.equal(classNames.length, 10);
  assert.deepEqual(train.classNames, classNames);
});

test('CIFAR-10 via the registry, inside the archive folder, default class names', () => {
  const { train, classNames } = getDataset('cifar10', { data: cifar10Dir({ nested: true }) });
  assert.equal(train.name, 'cifar10/train');
  assert.equal(classNames[0], 'airplane');
  assert.equal(classNames[9], 'truck');
});

test('CIFAR-100: fine labels by default, coarse on request, fine_label_names.txt', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'catkit-c100-'));
  writeFileSync(path.join(dir, 'train.bin'), records([[19, 99], [0, 0], [7, 42]]));
  writeFileSync(path.join(dir, 'test.bin'), records([[3, 14]], 50));
  const fine = loadCifar100({ data: dir });
  assert.deepEqual([...fine.train.labels], [99, 0, 42]);
  assert.deepEqual([...fine.test.labels], [14]);
  assert.equal(fine.train.numClasses, 100);
  assert.equal(fine.classNames[42], '42');
  for (let i = 0; i < 3; i++) assertPixels(fine.train.images, i, i);
  assertPixels(fine.test.images, 0, 50);
  const coarse = loadCifar100({ data: dir, labels: 'coarse' });
  assert.deepEqual([...coarse.train.labels], [19, 0, 7]);
  assert.equal(coarse.train.numClasses, 20);
  writeFileSync(path.join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n'));
  assert.equal(getDataset('cifar100', { data: dir }).classNames[99], 'fine99');
});

const dataError = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
  assert.match(e.message, re);
  return true;
};

test('CIFAR: no --data, missing files, wrong class-name count', () => {
  assert.throws(() => getDataset('cifar10'), dataError(/cifar10 needs --data DIR.*data_batch_1\.bin.*test_batch\.bin/));
  assert.throws(() => getDataset('cifar100'), dataError(/cifar100 needs --data DIR.*train\.bin, test\.bin/));
  assert.throws(() => loadCifar10({ data: path.join(tmpdir(), 'catkit-no-such-dir') }), dataError(/does not exist/));
  const dir = cifar10Dir({ skip: ['data_batch_3.bin', 'test_batch.bin'] });
  assert.throws(() => loadCifar10({ data: dir }), dataError(/CIFAR-10: missing data_batch_3\.bin, test_batch\.bin in .*; expected the CIFAR-10 binary version: data_batch_1\.bin/));
  const named = cifar10Dir();
  writeFileSync(path.join(named, 'batches.meta.txt'), 'a\nb\n');
  assert.throws(() => loadCifar10({ data: named }), dataError(/batches\.meta\.txt: 2 class names, expected 10/));
});

test('CIFAR: truncated records and out-of-range labels are DataErrors naming the file and record', () => {
  const ok = records([[1], [2]]);
  assert.throws(() => parseCifar(ok.subarray(0, ok.length - 5), { labelBytes: 1, source: 'x.bin' }),
    dataError(/x\.bin: 6141 bytes is not a multiple of the 3073-byte CIFAR-10 record .*1 whole records and 3068 bytes left over/));
  assert.throws(() => parseCifar(new Uint8Array(0), { labelBytes: 1, source: 'e.bin' }), dataError(/e\.bin: file is empty/));
  assert.throws(() => parseCifar(records([[1], [10]]), { labelBytes: 1, source: 'y.bin' }), dataError(/y\.bin: record 1 \(byte offset 3073\) has label 10, outside 0\.\.9/));
  assert.throws(() => parseCifar(records([[5, 100]]), { labelBytes: 2, source: 'z.bin' }), dataError(/z\.bin: record 0 .* fine label 100, outside 0\.\.99; not a CIFAR-100/));
  assert.throws(() => parseCifar(records([[20, 1]]), { labelBytes: 2, source: 'z.bin' }), dataError(/coarse label 20, outside 0\.\.19/));
  // A CIFAR-100 file read as CIFAR-10 (3074-byte records) fails on size.
  const dir = cifar10Dir();
  writeFileSync(path.join(dir, 'data_batch_2.bin'), records([[1, 1], [2, 2]]));
  assert.throws(() => loadCifar10({ data: dir }), dataError(/data_batch_2\.bin: 6148 bytes is not a multiple of the 3073-byte/));
});
