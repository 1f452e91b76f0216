// ImageNet-style folders: layout checks, labels files, transforms and the worker-pool loader, on
// tiny solid-colour JPEG/PNG fixtures made with sharp (class = which RGB channel is lit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DataError } from '../../src/data/errors.js';
import { IMAGENET_NORMALIZATION, ImageFolderLoader, openImageFolder } from '../../src/data/image-folder.js';
import { evalResizeCrop, randomResizedCropBox } from '../../src/data/image-transforms.js';
import type { Batch } from '../../src/data/loader.js';
import { mulberry32 } from '../../src/data/random.js';

const WNIDS = ['n02', 'n01', 'n03']; // written unsorted; class order must be n01, n02, n03
/** Class of each wnid in sorted order → the lit channel: n01 red, n02 green, n03 blue. */
const COLOUR: Record<string, [number, number, number]> = { n01: [255, 0, 0], n02: [0, 255, 0], n03: [0, 0, 255] };

async function solid(file: string, rgb: readonly number[], width = 40, height = 30): Promise<void> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: rgb[0]!, g: rgb[1]!, b: rgb[2]! } } });
  writeFileSync(file, await (file.endsWith('.png') ? img.png() : img.jpeg({ quality: 95 })).toBuffer());
}

/** root/train/<wnid>/{a.JPEG,b.png}; val per-class or flat. */
async function fixture(o: { val?: 'classes' | 'flat' | 'none'; corrupt?: boolean } = {}): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'catkit-imf-'));
  for (const w of WNIDS) {
    const dir = path.join(root, 'train', w);
    mkdirSync(dir, { recursive: true });
    await solid(path.join(dir, `${w}_a.JPEG`), COLOUR[w]!);
    await solid(path.join(dir, `${w}_b.png`), COLOUR[w]!, 25, 50);
    writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  }
  if (o.corrupt) writeFileSync(path.join(root, 'train', 'n01', 'n01_c.JPEG'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
  if (o.val === 'classes') {
    for (const w of WNIDS) {
      mkdirSync(path.join(root, 'val', w), { recursive: true });
      await solid(path.join(root, 'val', w, `v_${w}.JPEG`), COLOUR[w]!);
    }
  } else if (o.val === 'flat') {
    mkdirSync(path.join(root, 'val'));
    for (const [i, w] of ['n03', 'n01', 'n02', 'n03'].entries()) await solid(path.join(root, 'val', `ILSVRC2012_val_0000000${i + 1}.JPEG`), COLOUR[w]!);
  }
  return root;
}

const dataError = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
  assert.match(e.message, re);
  return true;
};

/** Mean pixel/255 per channel of sample k of a batch, undoing the ImageNet normalisation. */
function channelMeans(b: Batch, k: number): number[] {
  const [, c, h, w] = b.x.shape as number[];
  const x = b.x.dataSync() as Float32Array;
  const plane = h! * w!;
  return Array.from({ length: c! }, (_, ch) => {
    let s = 0;
    for (let p = 0; p < plane; p++) s += x[(k * c! + ch) * plane + p]!;
    return (s / plane) * IMAGENET_NORMALIZATION.std[ch]! + IMAGENET_NORMALIZATION.mean[ch]!;
  });
}
const lit = (m: number[]): number => m.indexOf(Math.max(...m));
const disposeBatch = (b: Batch): void => { b.x.dispose(); b.y.dispose(); };

async function collect(loader: ImageFolderLoader, epoch = 0): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.batches(epoch)) out.push(b);
  return out;
}

test('train split: sorted wnid classes, JPEG + PNG files, limit per class', async () => {
  const root = await fixture();
  const s = openImageFolder(root);
  assert.deepEqual(s.classNames, ['n01', 'n02', 'n03']);
  assert.equal(s.n, 6);
  assert.deepEqual([...s.labels], [0, 0, 1, 1, 2, 2]);
  assert.deepEqual(s.files.map((f) => path.basename(f)), ['n01_a.JPEG', 'n01_b.png', 'n02_a.JPEG', 'n02_b.png', 'n03_a.JPEG', 'n03_b.png']);
  const lim = openImageFolder(root, { limit: 3, seed: 5 });
  assert.equal(lim.n, 3);
  assert.deepEqual([...lim.labels], [0, 1, 2]);
  assert.throws(() => openImageFolder(root, { limit: -1 }), dataError(/limit must be a non-negative integer/));
});

test('training loader: shapes, dtypes, labels match the decoded colours, seeded order', async () => {
  const root = await fixture();
  const loader = new ImageFolderLoader(openImageFolder(root), { batchSize: 4, size: 16, workers: 2, seed: 3 });
  try {
    assert.equal(loader.augment, true);
    assert.equal(loader.shuffle, true);
    assert.equal(loader.numBatches, 2);
    assert.deepEqual(loader.order(1), loader.order(1));
    assert.notDeepEqual(loader.order(0), loader.order(1));
    const batches = await collect(loader, 1);
    assert.deepEqual(batches.map((b) => b.x.shape), [[4, 3, 16, 16], [2, 3, 16, 16]]);
    assert.deepEqual(batches.map((b) => [b.x.dtype, b.y.dtype]), [['float32', 'int64'], ['float32', 'int64']]);
    assert.deepEqual(batches.flatMap((b) => [...b.indices]), [...loader.order(1)]);
    for (const b of batches) {
      const y = b.y.toArray();
      b.indices.forEach((i, k) => {
        const m = channelMeans(b, k);
        assert.equal(y[k], loader.split.labels[i]);
        assert.equal(lit(m), y[k], `sample ${i}: channel means ${m.map((v) => v.toFixed(3))}`);
        assert.ok(m[lit(m)]! > 0.95 && m.filter((_, c) => c !== y[k]).every((v) => v < 0.05), `sample ${i}: ${m}`);
      });
      disposeBatch(b);
    }
    assert.match(loader.describe(), /6 images, 3 classes; batch 4 × 2.*RandomResizedCrop\(16\)/);
    // Leaving an epoch early cancels the prefetched work; the next epoch still runs, with the same draws for (seed, epoch).
    const one = new ImageFolderLoader(loader.split, { batchSize: 1, size: 16, workers: 2, seed: 3, prefetch: 3 });
    try {
      for await (const b of one.batches(1)) { disposeBatch(b); break; }
      const again = await collect(one, 1);
      assert.equal(again.length, 6);
      const whole = new ImageFolderLoader(loader.split, { batchSize: 6, size: 16, workers: 1, seed: 3 });
      const [first] = await collect(whole, 1);
      await whole.close();
      assert.deepEqual([...first!.x.dataSync()].slice(0, 3 * 16 * 16), [...again[0]!.x.dataSync()]);
      disposeBatch(first!);
      again.forEach(disposeBatch);
    } finally {
      await one.close();
    }
  } finally {
    await loader.close();
  }
});

test('eval transform: resize shorter side to 256·S/224, centre crop (512×256 hand case)', async () => {
  assert.deepEqual(evalResizeCrop(512, 256, 112), { width: 256, height: 128, crop: { left: 72, top: 8, width: 112, height: 112 } });
  assert.deepEqual(evalResizeCrop(300, 400, 224), { width: 256, height: 341, crop: { left: 16, top: 59, width: 224, height: 224 } });
  const rng = mulberry32(7);
  for (let t = 0; t < 50; t++) {
    const b = randomResizedCropBox(50, 30, rng);
    assert.ok(b.left >= 0 && b.top >= 0 && b.width >= 1 && b.height >= 1 && b.left + b.width <= 50 && b.top + b.height <= 30, JSON.stringify(b));
  }
  // x < 64 green, 64..255 red, 256..447 blue, ≥ 448 green. Resized to 256×128: red 32..127, blue 128..223;
  // the crop [72, 184) holds red in columns 0..55 and blue in 56..111 and no green at all.
  const root = await fixture({ val: 'none' });
  mkdirSync(path.join(root, 'val', 'n01'), { recursive: true });
  const px = Buffer.alloc(512 * 256 * 3);
  for (let y = 0; y < 256; y++) {
    for (let x = 0; x < 512; x++) {
      const c = x < 64 || x >= 448 ? 1 : x < 256 ? 0 : 2;
      px[(y * 512 + x) * 3 + c] = 255;
    }
  }
  writeFileSync(path.join(root, 'val', 'n01', 'halves.png'), await sharp(px, { raw: { width: 512, height: 256, channels: 3 } }).png().toBuffer());
  const loader = new ImageFolderLoader(openImageFolder(root, { split: 'val' }), { batchSize: 1, size: 112, workers: 1 });
  try {
    assert.equal(loader.augment, false);
    const [b] = await collect(loader);
    assert.deepEqual(b!.x.shape, [1, 3, 112, 112]);
    const x = b!.x.dataSync() as Float32Array;
    const at = (c: number, row: number, col: number): number => x[(c * 112 + row) * 112 + col]! * IMAGENET_NORMALIZATION.std[c]! + IMAGENET_NORMALIZATION.mean[c]!;
    for (const row of [0, 55, 111]) {
      for (let col = 0; col < 112; col++) {
        assert.ok(at(1, row, col) < 0.05, `green at (${row}, ${col})`);
        if (col <= 50) assert.ok(at(0, row, col) > 0.95 && at(2, row, col) < 0.05, `red expected at (${row}, ${col})`);
        if (col >= 61) assert.ok(at(2, row, col) > 0.95 && at(0, row, col) < 0.05, `blue expected at (${row}, ${col})`);
      }
    }
    disposeBatch(b!);
  } finally {
    await loader.close();
  }
});

test('val per-class folders and the flat variant with LOC_val_solution.csv or val_labels.txt', async () => {
  const byClass = openImageFolder(await fixture({ val: 'classes' }), { split: 'val' });
  assert.deepEqual([...byClass.labels], [0, 1, 2]);

  const root = await fixture({ val: 'flat' });
  assert.throws(() => openImageFolder(root, { split: 'val' }), dataError(/holds images directly but no labels file: looked for LOC_val_solution\.csv/));
  writeFileSync(path.join(root, 'LOC_val_solution.csv'), 'ImageId,PredictionString\n'
    + 'ILSVRC2012_val_00000002,n01 1 2 3 4 n01 5 6 7 8\nILSVRC2012_val_00000001,n03 1 2 3 4\n'
    + 'ILSVRC2012_val_00000004,n03 9 9 9 9\nILSVRC2012_val_00000003,n02 0 0 1 1\n');
  const flat = openImageFolder(root, { split: 'val' });
  assert.deepEqual(flat.files.map((f) => path.basename(f)), [1, 2, 3, 4].map((i) => `ILSVRC2012_val_0000000${i}.JPEG`));
  assert.deepEqual([...flat.labels], [2, 0, 1, 2]);
  const loader = new ImageFolderLoader(flat, { batchSize: 4, size: 8, workers: 2 });
  try {
    const [b] = await collect(loader);
    assert.deepEqual(b!.y.toArray(), [2, 0, 1, 2]);
    assert.deepEqual([0, 1, 2, 3].map((k) => lit(channelMeans(b!, k))), [2, 0, 1, 2]);
    disposeBatch(b!);
  } finally {
    await loader.close();
  }

  const txt = await fixture({ val: 'flat' });
  writeFileSync(path.join(txt, 'val', 'val_labels.txt'), 'ILSVRC2012_val_00000001.JPEG 2\nILSVRC2012_val_00000002.JPEG n01\nILSVRC2012_val_00000003 1\n');
  assert.throws(() => openImageFolder(txt, { split: 'val' }), dataError(/val_labels\.txt has no label for 1 image\(s\) .*ILSVRC2012_val_00000004\.JPEG/));
  writeFileSync(path.join(txt, 'val', 'val_labels.txt'), 'ILSVRC2012_val_00000001.JPEG 2\nILSVRC2012_val_00000002.JPEG n01\nILSVRC2012_val_00000003 1\nILSVRC2012_val_00000004.JPEG 3\n');
  assert.throws(() => openImageFolder(txt, { split: 'val' }), dataError(/val_labels\.txt:4: label '3' is neither a wnid of train\/ nor a class index 0\.\.2/));
  writeFileSync(path.join(txt, 'val', 'val_labels.txt'), 'ILSVRC2012_val_00000001.JPEG 2\nILSVRC2012_val_00000002.JPEG n01\nILSVRC2012_val_00000003 1\nILSVRC2012_val_00000004.JPEG n03\n');
  assert.deepEqual([...openImageFolder(txt, { split: 'val' }).labels], [2, 0, 1, 2]);
});

test('unreadable images: skip logs each file once, fail throws a DataError naming it', async () => {
  const root = await fixture({ corrupt: true });
  const split = openImageFolder(root);
  assert.equal(split.n, 7);
  const logged: string[] = [];
  const skip = new ImageFolderLoader(split, { batchSize: 7, size: 8, workers: 2, onBadImage: 'skip', log: (m) => logged.push(m) });
  try {
    for (const epoch of [0, 1]) {
      const [b] = await collect(skip, epoch);
      assert.deepEqual(b!.x.shape, [6, 3, 8, 8]);
      assert.ok(![...b!.indices].includes(2));
      disposeBatch(b!);
    }
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /skipping .*n01_c\.JPEG: unreadable image/);
  } finally {
    await skip.close();
  }
  const fail = new ImageFolderLoader(split, { batchSize: 2, size: 8, workers: 2, augment: false });
  try {
    await assert.rejects(collect(fail), dataError(/train[/\\]n01[/\\]n01_c\.JPEG: unreadable image/));
  } finally {
    await fail.close();
  }
});

test('non-ImageNet layouts are DataErrors saying what was expected', async () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'catkit-imf-bad-'));
  assert.throws(() => openImageFolder(path.join(empty, 'nope')), dataError(/does not exist; expected an ImageNet-style folder: DIR\/train\/<wnid>\/\*\.JPEG/));
  assert.throws(() => openImageFolder(empty), dataError(/has no train\/ folder.*expected an ImageNet-style folder/));
  mkdirSync(path.join(empty, 'train'));
  assert.throws(() => openImageFolder(empty), dataError(/has no class folders/));
  await solid(path.join(empty, 'train', 'loose.JPEG'), [1, 2, 3]);
  assert.throws(() => openImageFolder(empty), dataError(/holds image files directly \(loose\.JPEG, …\); expected an ImageNet-style folder: DIR\/train\/<wnid>/));
  const root = await fixture();
  assert.throws(() => openImageFolder(root, { split: 'val' }), dataError(/has no val\/ folder/));
  mkdirSync(path.join(root, 'val', 'n99'), { recursive: true });
  assert.throws(() => openImageFolder(root, { split: 'val' }), dataError(/class 'n99' is not a folder of/));
  assert.throws(() => new ImageFolderLoader(openImageFolder(root), { batchSize: 0 }), dataError(/batch size must be an integer ≥ 1/));
});

/** Textured images (solid colours would hide resampling differences): JPEG RGB, JPEG grey, PNG RGBA. */
async function textured(root: string): Promise<void> {
  const rng = mulberry32(7);
  for (const [w, name, width, height, channels] of [['n01', 'a.JPEG', 61, 47, 3], ['n01', 'g.JPEG', 50, 70, 1], ['n02', 'p.png', 45, 33, 4]] as const) {
    mkdirSync(path.join(root, 'train', w), { recursive: true });
    const px = Buffer.from(Array.from({ length: width * height * channels }, (_, i) => (i * 7 + Math.floor(rng() * 90)) & 255));
    const raw = sharp(px, { raw: { width, height, channels } });
    const img = channels === 1 ? raw.toColourspace('b-w') : raw;
    writeFileSync(path.join(root, 'train', w, name), await (name.endsWith('.png') ? img.png() : img.jpeg({ quality: 90 })).toBuffer());
  }
}

test('batched uint8 decoding + engine normalisation equals the per-image float path (within float32 rounding)', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'catkit-imf-'));
  await textured(root);
  const split = openImageFolder(root);
  const { mean, std } = IMAGENET_NORMALIZATION;
  // The reference: the previous worker's path (metadata pass, file decode, sRGB, per-pixel double formula).
  const reference = async (file: string, s: number, train: boolean, seed: number): Promise<Float32Array> => {
    const img = sharp(file, { failOn: 'truncated' });
    const meta = await img.metadata();
    let pipe: sharp.Sharp;
    if (train) {
      const rng = mulberry32(seed);
      pipe = img.extract(randomResizedCropBox(meta.width!, meta.height!, rng)).resize(s, s, { fit: 'fill', kernel: 'linear' as keyof sharp.KernelEnum });
      if (rng() < 0.5) pipe = pipe.flop();
    } else {
      const g = evalResizeCrop(meta.width!, meta.height!, s);
      pipe = img.resize(g.width, g.height, { fit: 'fill', kernel: 'linear' as keyof sharp.KernelEnum }).extract(g.crop);
    }
    const data = await pipe.toColourspace('srgb').removeAlpha().raw().toBuffer();
    const out = new Float32Array(3 * s * s);
    for (let c = 0; c < 3; c++) for (let p = 0; p < s * s; p++) out[c * s * s + p] = data[3 * p + c]! * (1 / (255 * std[c]!)) - mean[c]! / std[c]!;
    return out;
  };
  const { mixSeed } = await import('../../src/data/random.js');
  for (const augment of [true, false]) {
    const loader = new ImageFolderLoader(split, { batchSize: 3, size: 24, workers: 2, seed: 5, augment });
    try {
      const [b] = await collect(loader, 1);
      const x = b!.x.dataSync() as Float32Array;
      assert.deepEqual(b!.x.shape, [3, 3, 24, 24]);
      for (const [k, i] of [...b!.indices].entries()) {
        const ref = await reference(split.files[i]!, 24, augment, mixSeed(5, 1, i, 0x1f01));
        let worst = 0;
        ref.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - x[k * ref.length + j]!)); });
        assert.ok(worst <= 1e-6, `${split.files[i]} (augment ${augment}): max |Δ| ${worst}`);
      }
      disposeBatch(b!);
    } finally { await loader.close(); }
  }
});

test('readImageHeader gives the sizes sharp reports for JPEG (RGB, grey) and PNG, and null for anything else', async () => {
  const { readImageHeader } = await import('../../src/data/image-header.js');
  const root = mkdtempSync(path.join(tmpdir(), 'catkit-imf-'));
  await textured(root);
  const { readFileSync } = await import('node:fs');
  for (const [f, channels] of [['n01/a.JPEG', 3], ['n01/g.JPEG', 1], ['n02/p.png', 4]] as const) {
    const bytes = readFileSync(path.join(root, 'train', f));
    const meta = await sharp(bytes).metadata();
    const h = readImageHeader(bytes);
    assert.deepEqual(h && [h.width, h.height, h.channels], [meta.width, meta.height, channels], f);
  }
  assert.equal(readImageHeader(Buffer.from('GIF89a')), null);
  assert.equal(readImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1])), null, 'a marker length below 2');
  assert.equal(readImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 4, 0, 0])), null, 'scan before a frame header');
});

test('large train crops take the shrink-on-load path and land on the same region as crop-then-resize', async () => {
  const { decodeImage } = await import('../../src/data/image-worker.js');
  const { shrinkOnLoadCrop } = await import('../../src/data/image-transforms.js');
  assert.equal(shrinkOnLoadCrop(500, 375, { left: 10, top: 10, width: 400, height: 300 }, 224), null); // too small to gain
  const [W, H, S] = [1600, 1200, 224];
  // R encodes x, G encodes y: a crop's mean colour says where it came from.
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { const i = (y * W + x) * 3; px[i] = (x * 255) / W; px[i + 1] = (y * 255) / H; px[i + 2] = 128; }
  const root = mkdtempSync(path.join(tmpdir(), 'catkit-imf-sol-'));
  const file = path.join(root, 'big.jpg');
  writeFileSync(file, await sharp(px, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 95 }).toBuffer());
  const mean = (d: Uint8Array, c: number): number => { let t = 0; for (let i = c; i < d.length; i += 3) t += d[i]!; return t / (d.length / 3); };
  let tested = 0;
  for (let seed = 1; tested < 3 && seed < 200; seed++) {
    const rng = mulberry32(seed);
    const box = randomResizedCropBox(W, H, rng);
    const flip = rng() < 0.5; // the worker draws the flip right after the box
    const plan = shrinkOnLoadCrop(W, H, box, S);
    if (!plan) continue;
    tested++;
    // The scaled crop maps back onto the box to within one source pixel per output pixel.
    assert.ok(Math.abs(plan.crop.left * (box.width / S) - box.left) <= box.width / S, JSON.stringify({ box, plan }));
    assert.ok(Math.abs(plan.crop.top * (box.height / S) - box.top) <= box.height / S, JSON.stringify({ box, plan }));
    const got = await decodeImage(file, S, true, seed);
    const exact = new Uint8Array(await sharp(file).extract(box).resize(S, S, { fit: 'fill', kernel: 'linear' as keyof sharp.KernelEnum }).flop(flip).raw().toBuffer());
    // Independent of both decoders: the box's mean x and y as the gradient encodes them.
    const wantR = ((box.left + (box.width - 1) / 2) * 255) / W, wantG = ((box.top + (box.height - 1) / 2) * 255) / H;
    for (const [c, want] of [[0, wantR], [1, wantG]] as const) {
      assert.ok(Math.abs(mean(got, c) - want) < 1.5, `seed ${seed} channel ${c}: shrink-on-load mean ${mean(got, c)}, box centre ${want}`);
      assert.ok(Math.abs(mean(exact, c) - want) < 1.5, `seed ${seed} channel ${c}: crop-then-resize mean ${mean(exact, c)}, box centre ${want}`);
    }
    let diff = 0;
    for (let i = 0; i < got.length; i++) diff += Math.abs(got[i]! - exact[i]!);
    assert.ok(diff / got.length < 4, `seed ${seed}: mean abs difference ${diff / got.length} from crop-then-resize`);
  }
  assert.equal(tested, 3);
});
