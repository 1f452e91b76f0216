// SSD default (prior) boxes with torchvision 0.14's DefaultBoxGenerator semantics, so detections
// match torchvision's: per feature map k, boxes of scale s_k and sqrt(s_k·s_{k+1}) at aspect 1,
// then (s_k·√r, s_k/√r) and its transpose for every aspect ratio r, centred at (i + 0.5)/f_k
// (f_k = image size / step when steps are given, else the map's own size), clipped to [0, 1] in
// (cx, cy, w, h) before being scaled to pixel corners. Boxes are generated once per
// (image size, grid sizes) and cached; the arithmetic is float32 like torchvision's.
import { tensor, type Tensor } from '../tensor/index.js';
import { keep } from '../tensor/index.js';
import { CatkitError } from '../errors.js';

export interface DefaultBoxOptions {
  /** Extra aspect ratios per feature map (each adds two boxes: r and 1/r). */
  aspectRatios: readonly (readonly number[])[];
  /** Scales per feature map plus one more (length maps + 1); default: linear from minRatio to maxRatio, then 1. */
  scales?: readonly number[];
  minRatio?: number;
  maxRatio?: number;
  /** Pixel stride of each map's box centres; default: the map's own grid. */
  steps?: readonly number[];
  /** Clip (w, h) to [0, 1] before converting to corners (default true). */
  clip?: boolean;
}

const f32 = Math.fround;

export class DefaultBoxGenerator {
  readonly aspectRatios: number[][];
  readonly scales: number[];
  readonly steps: number[] | null;
  readonly clip: boolean;
  /** Per map: the (w, h) pairs in image-relative units, float32-rounded. */
  readonly whPairs: [number, number][][];
  readonly #cache = new Map<string, Tensor>();

  constructor(o: DefaultBoxOptions) {
    this.aspectRatios = o.aspectRatios.map((r) => [...r]);
    const n = this.aspectRatios.length;
    if (n === 0) throw new CatkitError('DETECTION_CONFIG', 'DefaultBoxGenerator: at least one feature map is needed');
    if (o.steps && o.steps.length !== n) throw new CatkitError('DETECTION_CONFIG', `DefaultBoxGenerator: ${o.steps.length} steps for ${n} feature maps`);
    if (o.scales) {
      if (o.scales.length !== n + 1) throw new CatkitError('DETECTION_CONFIG', `DefaultBoxGenerator: scales needs ${n + 1} values (one per map plus one), got ${o.scales.length}`);
      this.scales = [...o.scales];
    } else {
      const lo = o.minRatio ?? 0.15, hi = o.maxRatio ?? 0.9;
      this.scales = n > 1 ? [...Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1)), 1] : [lo, hi];
    }
    this.steps = o.steps ? [...o.steps] : null;
    this.clip = o.clip ?? true;
    this.whPairs = this.aspectRatios.map((ratios, k) => {
      const s = this.scales[k]!, sp = Math.sqrt(this.scales[k]! * this.scales[k + 1]!);
      const pairs: [number, number][] = [[s, s], [sp, sp]];
      for (const r of ratios) {
        const w = s * Math.sqrt(r), h = s / Math.sqrt(r);
        pairs.push([w, h], [h, w]);
      }
      return pairs.map(([w, h]) => [f32(w), f32(h)] as [number, number]);
    });
  }

  /** Boxes per location on each map (2 + 2 per aspect ratio). */
  numAnchorsPerLocation(): number[] { return this.aspectRatios.map((r) => 2 + 2 * r.length); }

  /**
   * Default boxes [A, 4] in pixel corners for an image of `imageSize` [h, w] whose feature maps have
   * `gridSizes` [h, w] each; ordered map by map, row by row, then box by box (the heads' order).
   * The returned tensor is cached and owned by the generator: do not dispose it.
   */
  boxes(imageSize: readonly [number, number], gridSizes: readonly (readonly [number, number])[]): Tensor {
    if (gridSizes.length !== this.aspectRatios.length) {
      throw new CatkitError('DETECTION_CONFIG', `DefaultBoxGenerator: ${gridSizes.length} feature maps, configured for ${this.aspectRatios.length}`);
    }
    const key = `${imageSize.join('x')}|${gridSizes.map((g) => g.join('x')).join(',')}`;
    let t = this.#cache.get(key);
    if (!t) {
      t = keep(tensor(this.#generate(imageSize, gridSizes), undefined, { dtype: 'float32' }).reshape([-1, 4]));
      this.#cache.set(key, t);
    }
    return t;
  }

  #generate([imgH, imgW]: readonly [number, number], grids: readonly (readonly [number, number])[]): Float32Array {
    const total = grids.reduce((n, [h, w], k) => n + h * w * this.whPairs[k]!.length, 0);
    const out = new Float32Array(total * 4);
    let o = 0;
    grids.forEach(([fh, fw], k) => {
      const xf = this.steps ? imgW / this.steps[k]! : fw;
      const yf = this.steps ? imgH / this.steps[k]! : fh;
      for (let i = 0; i < fh; i++) {
        const cy = f32((i + 0.5) / yf);
        for (let j = 0; j < fw; j++) {
          const cx = f32((j + 0.5) / xf);
          for (const [w0, h0] of this.whPairs[k]!) {
            const w = this.clip ? Math.min(Math.max(w0, 0), 1) : w0, h = this.clip ? Math.min(Math.max(h0, 0), 1) : h0;
            // float32 steps as torchvision: (c − 0.5·s)·size
            out[o++] = f32(f32(cx - f32(0.5 * w)) * imgW);
            out[o++] = f32(f32(cy - f32(0.5 * h)) * imgH);
            out[o++] = f32(f32(cx + f32(0.5 * w)) * imgW);
            out[o++] = f32(f32(cy + f32(0.5 * h)) * imgH);
          }
        }
      }
    });
    return out;
  }

  dispose(): void {
    for (const t of this.#cache.values()) t.dispose();
    this.#cache.clear();
  }
}
