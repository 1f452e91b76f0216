import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../src/data/errors.js';
import { limit, makeDataset, splitDataset, splitIndices, subset, type ImageDataset } from '../../src/data/dataset.js';

/** n samples of 2×2, pixel value = sample index mod 256, labels cycling over `classes` (or given). */
function toy(n: number, classes = 10, labelOf = (i: number) => i % classes): ImageDataset {
  const images = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) images.fill(i % 256, i * 4, i * 4 + 4);
  return makeDataset({ name: 'toy', images, labels: Uint8Array.from({ length: n }, (_, i) => labelOf(i)), height: 2, width: 2, numClasses: classes, classNames: Array.from({ length: classes }, String) });
}

const classCounts = (labels: ArrayLike<number>, idx: ArrayLike<number>, k: number): number[] => {
  const c = new Array<number>(k).fill(0);
  for (let i = 0; i < idx.length; i++) c[labels[idx[i]!]!]!++;
  return c;
};

test('makeDataset checks sizes and labels', () => {
  assert.throws(() => makeDataset({ name: 'x', images: new Uint8Array(7), labels: new Uint8Array(2), height: 2, width: 2, numClasses: 2, classNames: ['a', 'b'] }), DataError);
  assert.throws(() => makeDataset({ name: 'x', images: new Uint8Array(8), labels: Uint8Array.of(0, 2), height: 2, width: 2, numClasses: 2, classNames: ['a', 'b'] }), /label 2 at index 1/);
  assert.throws(() => makeDataset({ name: 'x', images: new Uint8Array(8), labels: Uint8Array.of(0, 1), height: 2, width: 2, numClasses: 2, classNames: ['a'] }), /1 class names for 2 classes/);
});

test('split: same seed → same indices; different seed → different', () => {
  const ds = toy(1000);
  const a = splitIndices(ds.labels, 10, { validation: 0.2, test: 100, seed: 7 });
  const b = splitIndices(ds.labels, 10, { validation: 0.2, test: 100, seed: 7 });
  const c = splitIndices(ds.labels, 10, { validation: 0.2, test: 100, seed: 8 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.validation, c.validation);
  // A fixed value pins the PRNG and the algorithm across machines and refactors.
  assert.deepEqual([...a.test.subarray(0, 5)], [0, 3, 6, 16, 26]);
});

test('split: parts are disjoint, complete, sized and stratified', () => {
  const ds = toy(1003, 10, (i) => (i < 500 ? 0 : 1 + (i % 9)));
  const s = splitIndices(ds.labels, 10, { validation: 0.1, test: 0.25, seed: 1 });
  assert.equal(s.validation.length, 100);
  assert.equal(s.test.length, 251);
  assert.equal(s.train.length, 1003 - 351);
  const all = [...s.train, ...s.validation, ...s.test].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 1003 }, (_, i) => i));
  for (const part of [s.train, s.validation, s.test]) for (let i = 1; i < part.length; i++) assert.ok(part[i - 1]! < part[i]!);
  // Class 0 is 500/1003 of the data, so ~50 of the 100 validation samples.
  const v = classCounts(ds.labels, s.validation, 10);
  assert.ok(Math.abs(v[0]! - 50) <= 1, `class 0 got ${v[0]}`);
});

test('split: unstratified and edge sizes', () => {
  const ds = toy(50);
  const s = splitIndices(ds.labels, 10, { validation: 50, seed: 3, stratify: false });
  assert.equal(s.validation.length, 50);
  assert.equal(s.train.length, 0);
  assert.equal(s.test.length, 0);
  assert.throws(() => splitIndices(ds.labels, 10, { validation: 30, test: 21 }), /exceed the 50 available/);
  assert.throws(() => splitIndices(ds.labels, 10, { validation: 1.5 }), /validation must be a fraction in \(0, 1\) or a whole number/);
  assert.throws(() => splitIndices(ds.labels, 10, { validation: 0.1, seed: 0.5 }), /seed must be an integer/);
});

test('splitDataset and subset copy the right samples', () => {
  const ds = toy(40, 4);
  const s = splitDataset(ds, { validation: 8, seed: 2 });
  assert.equal(s.train.n + s.validation.n, 40);
  s.validation.labels.forEach((y, k) => {
    const i = s.indices.validation[k]!;
    assert.equal(y, ds.labels[i]);
    assert.deepEqual([...s.validation.images.subarray(k * 4, k * 4 + 4)], [i, i, i, i]);
  });
  assert.deepEqual(classCounts(s.validation.labels, [0, 1, 2, 3, 4, 5, 6, 7], 4), [2, 2, 2, 2]);
  const sub = subset(ds, [5, 1]);
  assert.deepEqual([...sub.images], [5, 5, 5, 5, 1, 1, 1, 1]);
  assert.deepEqual([...sub.labels], [1, 1]);
  assert.throws(() => subset(ds, [40]), RangeError);
});

test('limit keeps every class of a class-sorted dataset, in original order', () => {
  const ds = toy(100, 10, (i) => Math.floor(i / 10));
  const l = limit(ds, 20, 0);
  assert.equal(l.n, 20);
  assert.deepEqual(classCounts(l.labels, Array.from({ length: 20 }, (_, i) => i), 10), new Array(10).fill(2));
  for (let k = 1; k < l.n; k++) assert.ok(l.images[k * 4]! > l.images[(k - 1) * 4]!);
  assert.equal(limit(ds, 500), ds);
});
