import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory } from '../../src/tensor/index.js';
import {
  DataLoader, computeNormalization, makeDataset, renderSample, centredPlacement, type ImageDataset, type SampleGeometry,
} from '../../src/data/index.js';

/** Sample i: an h×w image whose pixels all equal 10 * label + 1, label = i % 10. */
function labelled(n: number, h = 4, w = 4): ImageDataset {
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const images = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) images.fill(10 * labels[i]! + 1, i * h * w, (i + 1) * h * w);
  return makeDataset({ name: 'labelled', images, labels, height: h, width: w, numClasses: 10, classNames: Array.from({ length: 10 }, String) });
}

/** A 1×h×w image with pixel (y, x) = 1 + y * w + x (all non-zero, all distinct). */
function ramp(h: number, w: number): Uint8Array {
  return Uint8Array.from({ length: h * w }, (_, i) => 1 + i);
}
const IDENTITY = Float32Array.from({ length: 256 }, (_, v) => v);

test('batch shapes, dtypes, counts and dropLast', () => {
  const ds = labelled(10);
  const before = memory().numTensors;
  const l = new DataLoader(ds, { batchSize: 4 });
  assert.equal(l.numBatches, 3);
  const got = [...l.batches(0)];
  assert.deepEqual(got.map((b) => b.x.shape), [[4, 1, 4, 4], [4, 1, 4, 4], [2, 1, 4, 4]]);
  assert.deepEqual(got.map((b) => b.y.shape), [[4], [4], [2]]);
  assert.equal(got[0]!.x.dtype, 'float32');
  assert.equal(got[0]!.y.dtype, 'int64');
  assert.deepEqual(got[2]!.y.toArray(), [8, 9]);
  for (const b of got) { b.x.dispose(); b.y.dispose(); }
  assert.equal(memory().numTensors, before);
  const d = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(d.numBatches, 2);
  assert.equal([...d.batches(0)].map((b) => { b.x.dispose(); b.y.dispose(); return b; }).length, 2);
});

test('normalisation is exact on a hand case', () => {
  const ds = makeDataset({ name: 'h', images: Uint8Array.of(0, 51, 255, 102), labels: Uint8Array.of(0), height: 2, width: 2, numClasses: 1, classNames: ['a'] });
  const l = new DataLoader(ds, { batchSize: 1, normalize: { mean: [0.2], std: [0.5] } });
  const { x, y } = l.batchOf([0]);
  assert.deepEqual([...x.dataSync()], [-0.4, 0, 1.6, 0.4].map(Math.fround));
  x.dispose(); y.dispose();
  const u = new DataLoader(ds, { batchSize: 1, normalize: false }).batchOf([0]);
  assert.deepEqual([...u.x.dataSync()], [0, 51 / 255, 1, 102 / 255].map(Math.fround));
  u.x.dispose(); u.y.dispose();
  const two = makeDataset({ name: 't', images: Uint8Array.of(0, 255, 255, 0), labels: Uint8Array.of(0), height: 2, width: 2, numClasses: 1, classNames: ['a'] });
  assert.deepEqual(computeNormalization(two), { mean: [0.5], std: [0.5] });
  assert.throws(() => new DataLoader(ds, { batchSize: 1, normalize: { mean: [0], std: [0] } }), /std must be positive/);
});

test('labels stay aligned with images after shuffling', () => {
  const ds = labelled(103);
  const l = new DataLoader(ds, { batchSize: 16, shuffle: true, seed: 5, normalize: false });
  let seen = 0;
  for (const b of l.batches(2)) {
    const x = b.x.dataSync() as Float32Array;
    const y = b.y.toArray();
    y.forEach((label, k) => {
      assert.equal(Math.round(x[k * 16]! * 255), 10 * label + 1);
      assert.equal(label, ds.labels[b.indices[k]!]);
    });
    seen += y.length;
    b.x.dispose(); b.y.dispose();
  }
  assert.equal(seen, 103);
});

test('epoch order depends only on seed and epoch', () => {
  const ds = labelled(200);
  const a = new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 11 });
  const b = new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 11 });
  assert.deepEqual(a.order(3), b.order(3));
  assert.notDeepEqual(a.order(3), a.order(4));
  assert.notDeepEqual(a.order(3), new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 12 }).order(3));
  assert.deepEqual([...a.order(3)].sort((p, q) => p - q), Array.from({ length: 200 }, (_, i) => i));
  assert.deepEqual(new DataLoader(ds, { batchSize: 32 }).order(9), Int32Array.from({ length: 200 }, (_, i) => i));
});

test('augmented batches are reproducible for a seed and epoch', () => {
  const h = 6;
  const images = new Uint8Array(50 * h * h);
  for (let i = 0; i < images.length; i++) images[i] = (i * 37) % 251;
  const ds = makeDataset({ name: 'r', images, labels: new Uint8Array(50), height: h, width: h, numClasses: 1, classNames: ['a'] });
  const opts = { batchSize: 50, shuffle: true, seed: 4, randomCrop: 2, hflip: true } as const;
  const run = (epoch: number): number[] => {
    const [b] = [...new DataLoader(ds, opts).batches(epoch)];
    const out = b!.x.toArray();
    b!.x.dispose(); b!.y.dispose();
    return out;
  };
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));
});

test('random crop only shifts content: zero-bordered images keep every pixel', () => {
  // 8×8 images holding a 2×2 block of distinct values inside a zero border of 3.
  const n = 40;
  const images = new Uint8Array(n * 64);
  for (let i = 0; i < n; i++) for (const [k, off] of [27, 28, 35, 36].entries()) images[i * 64 + off] = 10 + k;
  const ds = makeDataset({ name: 'b', images, labels: new Uint8Array(n), height: 8, width: 8, numClasses: 1, classNames: ['a'] });
  const l = new DataLoader(ds, { batchSize: n, randomCrop: 3, normalize: false });
  const { x, y } = l.batchOf(Array.from({ length: n }, (_, i) => i), 0);
  const px = (x.dataSync() as Float32Array).map((v) => Math.round(v * 255));
  const shifts = new Set<string>();
  for (let i = 0; i < n; i++) {
    const img = px.subarray(i * 64, (i + 1) * 64);
    const at = img.indexOf(10);
    const [r, c] = [Math.floor(at / 8), at % 8];
    assert.deepEqual([img[at], img[at + 1], img[at + 8], img[at + 9]], [10, 11, 12, 13]);
    assert.equal(img.reduce((s, v) => s + v, 0), 46);
    assert.ok(Math.abs(r - 3) <= 3 && Math.abs(c - 3) <= 3);
    shifts.add(`${r},${c}`);
  }
  assert.ok(shifts.size > 5, 'crops should vary');
  x.dispose(); y.dispose();
});

test('renderSample: centred placement is the identity; shifts and flips move pixels exactly', () => {
  const g: SampleGeometry = { height: 3, width: 4, channels: 1, outHeight: 3, outWidth: 4 };
  const src = ramp(3, 4);
  const out = new Float32Array(12);
  renderSample(src, 0, g, centredPlacement(g), IDENTITY, out, 0);
  assert.deepEqual([...out], [...src]);
  // Padding by 2 and cropping at offset (2, 2) is the identity too: top/left shift p - u = 0.
  renderSample(src, 0, g, { top: 0, left: 0, flip: false }, IDENTITY, out, 0);
  assert.deepEqual([...out], [...src]);
  renderSample(src, 0, g, { top: 1, left: -1, flip: false }, IDENTITY, out, 0);
  assert.deepEqual([...out], [0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0]);
  renderSample(src, 0, g, { top: 0, left: 0, flip: true }, IDENTITY, out, 0);
  assert.deepEqual([...out], [4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9]);
  renderSample(src, 0, g, { top: 0, left: 1, flip: true }, IDENTITY, out, 0);
  assert.deepEqual([...out], [3, 2, 1, 0, 7, 6, 5, 0, 11, 10, 9, 0]);
  renderSample(src, 0, g, { top: 5, left: 0, flip: false }, IDENTITY, out, 0);
  assert.deepEqual([...out], new Array(12).fill(0));
});

test('renderSample: channels-last input becomes planar, padded with the normalised zero', () => {
  const g: SampleGeometry = { height: 1, width: 2, channels: 2, outHeight: 1, outWidth: 4 };
  const lut = new Float32Array(512);
  for (let v = 0; v < 256; v++) { lut[v] = v; lut[256 + v] = -v - 100; }
  const out = new Float32Array(8);
  renderSample(Uint8Array.of(1, 2, 3, 4), 0, g, centredPlacement(g), lut, out, 0);
  assert.deepEqual([...out], [0, 1, 3, 0, -100, -102, -104, -100]);
});

test('padTo centres 20×20 in 32×32 and describe() reports the setup', () => {
  const ds = labelled(3, 20, 20);
  const l = new DataLoader(ds, { batchSize: 2, padTo: 32, normalize: false });
  const { x, y } = l.batchOf([1]);
  assert.deepEqual(x.shape, [1, 1, 32, 32]);
  const px = x.dataSync() as Float32Array;
  const lit: number[] = [];
  px.forEach((v, i) => { if (v > 0) lit.push(i); });
  assert.equal(lit.length, 400);
  assert.equal(lit[0], 6 * 32 + 6);
  assert.equal(lit[399], 25 * 32 + 25);
  x.dispose(); y.dispose();
  assert.match(l.describe(), /^labelled: 3 samples 1×20×20 → 1×32×32, 10 classes; batch 2 × 2, in order; augment none; normalise mean \[0\.0000\] std \[1\.0000\]$/);
  assert.throws(() => new DataLoader(ds, { batchSize: 0 }), /batch size must be a positive integer/);
});

test('resize: bilinear with half-pixel centres (align_corners false), hand-computed 2×2 → 4×4', () => {
  // Pixels 0, 51, 102, 153 scale to 0, 0.2, 0.4, 0.6: value(y, x) = 0.2·x + 0.4·y on the source grid.
  const ds = makeDataset({ name: 'q', images: Uint8Array.from([0, 51, 102, 153]), labels: Uint8Array.from([0]), height: 2, width: 2, numClasses: 1, classNames: ['a'] });
  const before = memory().numTensors;
  const l = new DataLoader(ds, { batchSize: 1, normalize: false, resize: 4 });
  assert.deepEqual(l.sampleShape, [1, 4, 4]);
  const [b] = [...l.batches(0)];
  // Output centre j maps to source (j + 0.5)/2 − 0.5, clamped to [0, 1]: 0, 0.25, 0.75, 1.
  const s = [0, 0.25, 0.75, 1];
  const want = s.flatMap((y) => s.map((x) => 0.2 * x + 0.4 * y));
  assert.deepEqual(b!.x.shape, [1, 1, 4, 4]);
  b!.x.toArray().forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `pixel ${i}: ${v} vs ${want[i]}`));
  b!.x.dispose(); b!.y.dispose();
  assert.equal(memory().numTensors, before);
  assert.throws(() => new DataLoader(ds, { batchSize: 1, resize: -1 }), /resize must be a non-negative integer/);
  assert.match(l.describe(), /bilinear 4×4/);
});
