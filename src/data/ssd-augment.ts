// SSD's training augmentation (Liu et al. 2016 §2.2, as lufficc/SSD and the ssd.pytorch family do
// it) and its evaluation transform, on float RGB images held as HWC Float32Arrays in [0, 255] with
// boxes as flat [x1, y1, x2, y2, …] pixel corners. Pure JS on one image: runs in decoding workers.
// Train: photometric distortion → zoom-out (expand onto a mean-filled canvas up to 4×) → random
// crop with a minimum IoU → horizontal flip → resize to S×S. Eval: resize only.

export interface Img { data: Float32Array; width: number; height: number }
export interface Annot { boxes: number[]; labels: number[] }
export type Rng = () => number;

const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();

/** Brightness ±32, contrast ×[0.5, 1.5] before or after saturation ×[0.5, 1.5] and hue ±18°, each with p = ½. */
export function photometricDistort(img: Img, rng: Rng): void {
  const d = img.data;
  if (rng() < 0.5) { const delta = uniform(rng, -32, 32); for (let i = 0; i < d.length; i++) d[i] = d[i]! + delta; }
  const contrastFirst = rng() < 0.5;
  const contrast = (): void => { if (rng() < 0.5) { const a = uniform(rng, 0.5, 1.5); for (let i = 0; i < d.length; i++) d[i] = d[i]! * a; } };
  if (contrastFirst) contrast();
  const sat = rng() < 0.5 ? uniform(rng, 0.5, 1.5) : 1;
  const hue = rng() < 0.5 ? uniform(rng, -18, 18) : 0;
  if (sat !== 1 || hue !== 0) hsvAdjust(d, sat, hue);
  if (!contrastFirst) contrast();
  for (let i = 0; i < d.length; i++) d[i] = Math.min(255, Math.max(0, d[i]!));
}

/** Scales saturation and rotates hue (degrees) per pixel through HSV. */
function hsvAdjust(d: Float32Array, sat: number, hueDeg: number): void {
  for (let p = 0; p < d.length; p += 3) {
    const r = Math.min(255, Math.max(0, d[p]!)), g = Math.min(255, Math.max(0, d[p + 1]!)), b = Math.min(255, Math.max(0, d[p + 2]!));
    const max = Math.max(r, g, b), min = Math.min(r, g, b), c = max - min;
    let h = 0;
    if (c > 0) h = max === r ? ((g - b) / c) % 6 : max === g ? (b - r) / c + 2 : (r - g) / c + 4;
    h = (h * 60 + hueDeg + 360) % 360;
    const v = max, s = max > 0 ? Math.min(1, (c / max) * sat) : 0;
    const cc = v * s, x = cc * (1 - Math.abs(((h / 60) % 2) - 1)), m = v - cc;
    const k = Math.floor(h / 60) % 6;
    const [r1, g1, b1] = k === 0 ? [cc, x, 0] : k === 1 ? [x, cc, 0] : k === 2 ? [0, cc, x] : k === 3 ? [0, x, cc] : k === 4 ? [x, 0, cc] : [cc, 0, x];
    d[p] = r1 + m; d[p + 1] = g1 + m; d[p + 2] = b1 + m;
  }
}

/** With p = ½, places the image at a random spot of a canvas up to 4× larger filled with `mean` (zoom out). */
export function expand(img: Img, a: Annot, rng: Rng, mean: readonly number[]): Img {
  if (rng() < 0.5) return img;
  const ratio = uniform(rng, 1, 4);
  const w = Math.floor(img.width * ratio), h = Math.floor(img.height * ratio);
  const left = Math.floor(uniform(rng, 0, w - img.width)), top = Math.floor(uniform(rng, 0, h - img.height));
  const out = new Float32Array(w * h * 3);
  for (let p = 0; p < w * h; p++) { out[3 * p] = mean[0]!; out[3 * p + 1] = mean[1]!; out[3 * p + 2] = mean[2]!; }
  for (let y = 0; y < img.height; y++) out.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * w + left) * 3);
  for (let i = 0; i < a.boxes.length; i += 4) { a.boxes[i]! += left; a.boxes[i + 1]! += top; a.boxes[i + 2]! += left; a.boxes[i + 3]! += top; }
  return { data: out, width: w, height: h };
}

function iou(b: number[], i: number, r: readonly number[]): number {
  const iw = Math.min(b[i + 2]!, r[2]!) - Math.max(b[i]!, r[0]!), ih = Math.min(b[i + 3]!, r[3]!) - Math.max(b[i + 1]!, r[1]!);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((b[i + 2]! - b[i]!) * (b[i + 3]! - b[i + 1]!) + (r[2]! - r[0]!) * (r[3]! - r[1]!) - inter);
}

const CROP_MODES = [null, 0.1, 0.3, 0.7, 0.9, -Infinity] as const;

/**
 * SSD's random crop: pick "keep the image" or a minimum IoU in {0.1, 0.3, 0.7, 0.9, any}; try up to
 * 50 crops of side 0.3–1 and aspect 0.5–2; accept one whose IoU with some box reaches the minimum
 * and that contains at least one box centre; keep those boxes, clipped to the crop.
 */
export function randomIouCrop(img: Img, a: Annot, rng: Rng): Img {
  if (a.boxes.length === 0) return img;
  for (;;) {
    const mode = CROP_MODES[Math.floor(rng() * CROP_MODES.length)]!;
    if (mode === null) return img;
    for (let t = 0; t < 50; t++) {
      const w = uniform(rng, 0.3 * img.width, img.width), h = uniform(rng, 0.3 * img.height, img.height);
      if (h / w < 0.5 || h / w > 2) continue;
      const left = uniform(rng, 0, img.width - w), top = uniform(rng, 0, img.height - h);
      const rect = [Math.floor(left), Math.floor(top), Math.floor(left + w), Math.floor(top + h)];
      let best = 0;
      for (let i = 0; i < a.boxes.length; i += 4) best = Math.max(best, iou(a.boxes, i, rect));
      if (best < mode) continue;
      const keepIdx: number[] = [];
      for (let i = 0; i < a.boxes.length; i += 4) {
        const cx = (a.boxes[i]! + a.boxes[i + 2]!) / 2, cy = (a.boxes[i + 1]! + a.boxes[i + 3]!) / 2;
        if (cx > rect[0]! && cy > rect[1]! && cx < rect[2]! && cy < rect[3]!) keepIdx.push(i / 4);
      }
      if (!keepIdx.length) continue;
      const boxes: number[] = [], labels: number[] = [];
      for (const k of keepIdx) {
        boxes.push(Math.max(a.boxes[4 * k]!, rect[0]!) - rect[0]!, Math.max(a.boxes[4 * k + 1]!, rect[1]!) - rect[1]!,
          Math.min(a.boxes[4 * k + 2]!, rect[2]!) - rect[0]!, Math.min(a.boxes[4 * k + 3]!, rect[3]!) - rect[1]!);
        labels.push(a.labels[k]!);
      }
      a.boxes = boxes; a.labels = labels;
      const cw = rect[2]! - rect[0]!, ch = rect[3]! - rect[1]!;
      const out = new Float32Array(cw * ch * 3);
      for (let y = 0; y < ch; y++) out.set(img.data.subarray(((y + rect[1]!) * img.width + rect[0]!) * 3, ((y + rect[1]!) * img.width + rect[0]! + cw) * 3), y * cw * 3);
      return { data: out, width: cw, height: ch };
    }
  }
}

/** Mirrors left-right with p = ½. */
export function randomHflip(img: Img, a: Annot, rng: Rng): void {
  if (rng() < 0.5) return;
  const { data: d, width: w, height: h } = img;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w >> 1; x++) {
      const p = (y * w + x) * 3, q = (y * w + (w - 1 - x)) * 3;
      for (let c = 0; c < 3; c++) { const t = d[p + c]!; d[p + c] = d[q + c]!; d[q + c] = t; }
    }
  }
  for (let i = 0; i < a.boxes.length; i += 4) { const x1 = a.boxes[i]!; a.boxes[i] = w - a.boxes[i + 2]!; a.boxes[i + 2] = w - x1; }
}

/** Bilinear resize (align_corners false, no antialias) to S×S, output CHW in [0, 1]; boxes scaled to match. */
export function resizeToChw(img: Img, a: Annot | null, size: number): Float32Array {
  const { data: d, width: w, height: h } = img;
  const out = new Float32Array(3 * size * size);
  const sx = w / size, sy = h / size, plane = size * size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1), y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1), x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const v = (1 - wy) * ((1 - wx) * d[(y0 * w + x0) * 3 + c]! + wx * d[(y0 * w + x1) * 3 + c]!) + wy * ((1 - wx) * d[(y1 * w + x0) * 3 + c]! + wx * d[(y1 * w + x1) * 3 + c]!);
        out[c * plane + y * size + x] = v / 255;
      }
    }
  }
  if (a) for (let i = 0; i < a.boxes.length; i += 4) { a.boxes[i]! /= sx; a.boxes[i + 1]! /= sy; a.boxes[i + 2]! /= sx; a.boxes[i + 3]! /= sy; }
  return out;
}

/** The mean pixel used to fill zoomed-out canvases (ImageNet's, in 0–255). */
export const SSD_FILL_MEAN = [123.675, 116.28, 103.53] as const;

/**
 * Training augmentation: 'ssd' is SSD's whole chain; 'light' keeps the photometric distortion and
 * the flip but not the zoom-out and crop, whose tiny objects a short CPU run cannot learn; 'none'
 * is the evaluation resize.
 */
export type DetectionAugment = 'ssd' | 'light' | 'none';
export const DETECTION_AUGMENTS: readonly DetectionAugment[] = ['ssd', 'light', 'none'];

/** The whole training transform; drops boxes that became degenerate (< 1 px). */
export function ssdTrainTransform(img: Img, a: Annot, size: number, rng: Rng, mode: DetectionAugment = 'ssd'): Float32Array {
  if (mode === 'none') return resizeToChw(img, a, size);
  photometricDistort(img, rng);
  let im = img;
  if (mode === 'ssd') {
    im = expand(img, a, rng, SSD_FILL_MEAN);
    im = randomIouCrop(im, a, rng);
  }
  randomHflip(im, a, rng);
  const out = resizeToChw(im, a, size);
  const boxes: number[] = [], labels: number[] = [];
  for (let i = 0; i < a.boxes.length; i += 4) {
    if (a.boxes[i + 2]! - a.boxes[i]! >= 1 && a.boxes[i + 3]! - a.boxes[i + 1]! >= 1) { boxes.push(...a.boxes.slice(i, i + 4)); labels.push(a.labels[i / 4]!); }
  }
  a.boxes = boxes; a.labels = labels;
  return out;
}
