// Per-channel input normalisation, x = (pixel / 255 - mean) / std, applied through a 256-entry
// lookup table per channel so converting a batch costs one table read per pixel.
import type { ImageDataset } from './dataset.js';
import { DataError } from './errors.js';

/** Per-channel statistics of pixel / 255 (so values in [0, 1], like torchvision's). */
export interface Normalization { mean: number[]; std: number[] }

/** Exact per-channel mean and population std of a dataset (via a 256-bin histogram per channel). */
export function computeNormalization(ds: ImageDataset): Normalization {
  const c = ds.channels;
  const hist = new Float64Array(c * 256);
  const px = ds.images;
  for (let i = 0; i < px.length; i += c) {
    for (let k = 0; k < c; k++) hist[k * 256 + px[i + k]!]!++;
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let k = 0; k < c; k++) {
    let count = 0;
    let sum = 0;
    for (let v = 0; v < 256; v++) { count += hist[k * 256 + v]!; sum += hist[k * 256 + v]! * (v / 255); }
    const m = count ? sum / count : 0;
    let sq = 0;
    for (let v = 0; v < 256; v++) sq += hist[k * 256 + v]! * (v / 255 - m) ** 2;
    mean.push(m);
    // A constant channel would divide by zero; leave it merely centred.
    std.push(count && sq > 0 ? Math.sqrt(sq / count) : 1);
  }
  return { mean, std };
}

/** Checks a user-given normalisation; a single value applies to every channel. */
export function resolveNormalization(norm: Normalization, channels: number): Normalization {
  const widen = (a: number[], what: string): number[] => {
    if (a.length === 1) return new Array<number>(channels).fill(a[0]!);
    if (a.length !== channels) throw new DataError(`normalisation ${what} has ${a.length} values for ${channels} channel(s)`);
    return [...a];
  };
  const mean = widen(norm.mean, 'mean');
  const std = widen(norm.std, 'std');
  for (const s of std) if (!(s > 0) || !Number.isFinite(s)) throw new DataError(`normalisation std must be positive and finite, got ${s}`);
  for (const m of mean) if (!Number.isFinite(m)) throw new DataError(`normalisation mean must be finite, got ${m}`);
  return { mean, std };
}

/** channels × 256 float32 table: entry [c * 256 + v] is the normalised value of pixel v in channel c. */
export function normalizationTable(norm: Normalization): Float32Array {
  const channels = norm.mean.length;
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - norm.mean[c]!) / norm.std[c]!;
  }
  return lut;
}

/** The identity scaling pixel / 255 (no centring). */
export const unitScale = (channels: number): Normalization => ({ mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) });
