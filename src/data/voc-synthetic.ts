// A deterministic synthetic detection set in the exact VOCdevkit layout, so the VOC loader,
// training and the evaluator run offline (no VOC images exist in the package registries):
// OpenCV's 20×20 digits (src/data/digits.ts) pasted at several scales and colours onto textured
// backgrounds, 1–5 objects per image, some overlapping, small ones (and a few others) marked
// difficult. Digit d is written as VOC class d + 1 (aeroplane … cow), so the files are valid VOC.
// Layout: VOC2007 (trainval = train + val, test) and VOC2012 (trainval).
import { mkdirSync, existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CatkitError } from '../errors.js';
import { loadDigitsAll } from './digits.js';
import { mulberry32 } from './random.js';
import { VOC_CLASSES } from './voc.js';

export interface VocSyntheticOptions {
  images: number;
  seed: number;
  /** Image sides are drawn from [minSide, maxSide] (default 200 … 320). */
  minSide?: number;
  maxSide?: number;
  /** Objects per image are drawn from 1 … maxObjects (default 5). */
  maxObjects?: number;
  /** Only digits 0 … classes−1, i.e. the first `classes` VOC classes (default 10). */
  classes?: number;
  /** Object side range as fractions of the image's shorter side (default 28 px … 0.55). */
  minObject?: number;
  maxObject?: number;
}
export interface VocSyntheticSummary { root: string; images: number; objects: number; difficult: number; sets: Record<string, number> }

interface Obj { label: number; box: [number, number, number, number]; difficult: boolean }

function xmlFor(id: string, folder: string, w: number, h: number, objs: Obj[]): string {
  const objects = objs.map((o) => `  <object>
    <name>${VOC_CLASSES[o.label - 1]}</name>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <difficult>${o.difficult ? 1 : 0}</difficult>
    <bndbox>
      <xmin>${o.box[0]}</xmin>
      <ymin>${o.box[1]}</ymin>
      <xmax>${o.box[2]}</xmax>
      <ymax>${o.box[3]}</ymax>
    </bndbox>
  </object>
`).join('');
  return `<annotation>
  <folder>${folder}</folder>
  <filename>${id}.jpg</filename>
  <source><database>catkit synthetic digits</database></source>
  <size>
    <width>${w}</width>
    <height>${h}</height>
    <depth>3</depth>
  </size>
  <segmented>0</segmented>
${objects}</annotation>
`;
}

/** Renders one image (RGB, HWC) and its objects (VOC 1-based inclusive boxes). */
interface RenderOptions { minSide: number; maxSide: number; maxObjects: number; minObject: number | null; maxObject: number; pool: Int32Array }

function render(rng: () => number, digits: ReturnType<typeof loadDigitsAll>, o: RenderOptions): { w: number; h: number; rgb: Uint8Array; objects: Obj[] } {
  const w = o.minSide + Math.floor(rng() * (o.maxSide - o.minSide + 1)), h = o.minSide + Math.floor(rng() * (o.maxSide - o.minSide + 1));
  const img = new Float32Array(w * h * 3);
  // Texture: a base colour, two random sinusoidal gratings and pixel noise.
  const base = [rng(), rng(), rng()].map((v) => 60 + v * 140);
  const g = [0, 1].map(() => ({ fx: (rng() - 0.5) * 0.2, fy: (rng() - 0.5) * 0.2, ph: rng() * 6.28, amp: [rng(), rng(), rng()].map((v) => (v - 0.5) * 80) }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let v = base[c]!;
        for (const t of g) v += t.amp[c]! * Math.sin(t.fx * x + t.fy * y + t.ph);
        img[(y * w + x) * 3 + c] = v + (rng() - 0.5) * 30;
      }
    }
  }
  const n = 1 + Math.floor(rng() * o.maxObjects);
  const objects: Obj[] = [];
  const sd = digits.height;
  for (let k = 0, tries = 0; k < n && tries < 40; tries++) {
    const short = Math.min(w, h), lo = o.minObject === null ? 28 : Math.round(o.minObject * short);
    const side = Math.floor(lo + rng() ** 1.5 * (short * o.maxObject - lo));
    const x0 = Math.floor(rng() * (w - side)), y0 = Math.floor(rng() * (h - side));
    const idx = o.pool[Math.floor(rng() * o.pool.length)]!;
    const label = digits.labels[idx]! + 1;
    const colour = [rng(), rng(), rng()].map((v) => (rng() < 0.5 ? v * 70 : 185 + v * 70));
    // Bilinear upscale of the digit's intensity as alpha; the box is the tight extent of alpha > 0.3.
    let bx0 = Infinity, by0 = Infinity, bx1 = -1, by1 = -1;
    const alpha = new Float32Array(side * side);
    for (let y = 0; y < side; y++) {
      const fy = Math.min(Math.max((y + 0.5) * sd / side - 0.5, 0), sd - 1), ya = Math.floor(fy), yb = Math.min(ya + 1, sd - 1), wy = fy - ya;
      for (let x = 0; x < side; x++) {
        const fx = Math.min(Math.max((x + 0.5) * sd / side - 0.5, 0), sd - 1), xa = Math.floor(fx), xb = Math.min(xa + 1, sd - 1), wx = fx - xa;
        const px = (yy: number, xx: number) => digits.images[idx * sd * sd + yy * sd + xx]! / 255;
        const a = (1 - wy) * ((1 - wx) * px(ya, xa) + wx * px(ya, xb)) + wy * ((1 - wx) * px(yb, xa) + wx * px(yb, xb));
        alpha[y * side + x] = a;
        if (a > 0.3) { bx0 = Math.min(bx0, x); by0 = Math.min(by0, y); bx1 = Math.max(bx1, x); by1 = Math.max(by1, y); }
      }
    }
    if (bx1 < 0) continue;
    const box: [number, number, number, number] = [x0 + bx0 + 1, y0 + by0 + 1, x0 + bx1 + 1, y0 + by1 + 1];
    // Overlap is allowed, but not so much that an object is hidden (IoU ≤ 0.4 with every earlier one).
    const overlap = objects.some((p) => {
      const iw = Math.min(p.box[2], box[2]) - Math.max(p.box[0], box[0]) + 1, ih = Math.min(p.box[3], box[3]) - Math.max(p.box[1], box[1]) + 1;
      if (iw <= 0 || ih <= 0) return false;
      const inter = iw * ih, area = (b: number[]) => (b[2]! - b[0]! + 1) * (b[3]! - b[1]! + 1);
      return inter / (area(p.box) + area(box) - inter) > 0.4;
    });
    if (overlap) continue;
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const a = alpha[y * side + x]!, p = ((y0 + y) * w + x0 + x) * 3;
        for (let c = 0; c < 3; c++) img[p + c] = img[p + c]! * (1 - a) + colour[c]! * a;
      }
    }
    const small = Math.max(box[2] - box[0], box[3] - box[1]) < 22;
    objects.push({ label, box, difficult: small || rng() < 0.05 });
    k++;
  }
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.max(0, Math.min(255, Math.round(img[i]!)));
  return { w, h, rgb, objects };
}

/** Writes the set into `out` (a new or empty folder) and returns counts. */
export async function makeVocSynthetic(out: string, o: VocSyntheticOptions): Promise<VocSyntheticSummary> {
  if (!Number.isInteger(o.images) || o.images < 4) throw new CatkitError('BAD_OPTION', `--images must be an integer ≥ 4, got ${o.images}`);
  if (!Number.isInteger(o.seed)) throw new CatkitError('BAD_OPTION', `--seed must be an integer, got ${o.seed}`);
  if (existsSync(out) && readdirSync(out).length > 0) throw new CatkitError('OUTPUT_EXISTS', `${out} exists and is not empty; choose a new folder`, { file: out });
  const classes = o.classes ?? 10, maxObjects = o.maxObjects ?? 5, minSide = o.minSide ?? 200, maxSide = o.maxSide ?? 320;
  const maxObject = o.maxObject ?? 0.55, minObject = o.minObject ?? null;
  if (!Number.isInteger(classes) || classes < 1 || classes > 10) throw new CatkitError('BAD_OPTION', `--classes must be an integer 1 … 10 (digits), got ${classes}`);
  if (!Number.isInteger(maxObjects) || maxObjects < 1) throw new CatkitError('BAD_OPTION', `--max-objects must be an integer ≥ 1, got ${maxObjects}`);
  if (!Number.isInteger(minSide) || !Number.isInteger(maxSide) || minSide < 32 || maxSide < minSide) throw new CatkitError('BAD_OPTION', `image sides must be integers with 32 ≤ min ≤ max, got ${minSide} … ${maxSide}`);
  if (!(maxObject > 0 && maxObject <= 1) || (minObject !== null && !(minObject > 0 && minObject <= maxObject))) {
    throw new CatkitError('BAD_OPTION', `object sizes must satisfy 0 < --min-object ≤ --max-object ≤ 1, got ${minObject ?? '28 px'} … ${maxObject}`);
  }
  if (minObject === null && minSide * maxObject < 28) throw new CatkitError('BAD_OPTION', `--max-object ${maxObject} of ${minSide} px is below the default 28 px minimum object; give --min-object`);
  const digits = loadDigitsAll();
  const pool = Int32Array.from(Array.from({ length: digits.n }, (_, i) => i).filter((i) => digits.labels[i]! < classes));
  const opts: RenderOptions = { minSide, maxSide, maxObjects, minObject, maxObject, pool };
  const tmp = `${out}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const rng = mulberry32(o.seed);
  const n07 = Math.round(o.images * 0.6), n07test = Math.round(n07 / 2);
  const sets: Record<string, string[]> = { '2007/train': [], '2007/val': [], '2007/test': [], '2012/train': [], '2012/val': [] };
  let objects = 0, difficult = 0;
  for (let i = 0; i < o.images; i++) {
    const year = i < n07 ? '2007' : '2012';
    const id = year === '2007' ? String(i + 1).padStart(6, '0') : `2012_${String(i + 1).padStart(6, '0')}`;
    const dir = path.join(tmp, `VOC${year}`);
    if (i === 0 || i === n07) for (const sub of ['Annotations', 'JPEGImages', path.join('ImageSets', 'Main')]) mkdirSync(path.join(dir, sub), { recursive: true });
    const im = render(rng, digits, opts);
    objects += im.objects.length;
    difficult += im.objects.filter((x) => x.difficult).length;
    await sharp(Buffer.from(im.rgb), { raw: { width: im.w, height: im.h, channels: 3 } }).jpeg({ quality: 90 }).toFile(path.join(dir, 'JPEGImages', `${id}.jpg`));
    writeFileSync(path.join(dir, 'Annotations', `${id}.xml`), xmlFor(id, `VOC${year}`, im.w, im.h, im.objects));
    const set = year === '2007' ? (i < n07test ? 'test' : i % 2 ? 'val' : 'train') : i % 2 ? 'val' : 'train';
    sets[`${year}/${set}`]!.push(id);
  }
  const write = (year: string, split: string, ids: string[]) => writeFileSync(path.join(tmp, `VOC${year}`, 'ImageSets', 'Main', `${split}.txt`), ids.map((s) => `${s}\n`).join(''));
  for (const year of ['2007', '2012']) {
    write(year, 'train', sets[`${year}/train`]!);
    write(year, 'val', sets[`${year}/val`]!);
    write(year, 'trainval', [...sets[`${year}/train`]!, ...sets[`${year}/val`]!].sort());
  }
  write('2007', 'test', sets['2007/test']!);
  if (existsSync(out)) rmSync(out, { recursive: true });
  renameSync(tmp, out);
  const counts = Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.length]));
  counts['2007/trainval'] = counts['2007/train']! + counts['2007/val']!;
  counts['2012/trainval'] = counts['2012/train']! + counts['2012/val']!;
  return { root: out, images: o.images, objects, difficult, sets: counts };
}
