// In-memory image classification datasets and deterministic ways to cut them (split, subset, limit).
import { DataError } from './errors.js';
import { iota, mulberry32, shuffleInPlace } from './random.js';

/**
 * Images as uint8 in N×H×W×C row-major order (channels last; for grey images C = 1, so this is
 * also the plain N×H×W layout of IDX files). Labels are class indices in [0, numClasses).
 */
export interface ImageDataset {
  readonly name: string;
  readonly images: Uint8Array;
  readonly labels: Uint8Array | Int32Array;
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
}

export type DatasetFields = Omit<ImageDataset, 'n' | 'channels'> & { channels?: number };

/** Builds a dataset after checking that sizes, labels and class names agree. */
export function makeDataset(f: DatasetFields): ImageDataset {
  const channels = f.channels ?? 1;
  const n = f.labels.length;
  for (const [key, v] of [['height', f.height], ['width', f.width], ['channels', channels], ['numClasses', f.numClasses]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new DataError(`dataset ${f.name}: ${key} must be a positive integer, got ${v}`);
  }
  const sampleBytes = f.height * f.width * channels;
  if (f.images.length !== n * sampleBytes) {
    throw new DataError(`dataset ${f.name}: ${f.images.length} image bytes do not match ${n} labels × ${f.height}×${f.width}×${channels}`);
  }
  if (f.classNames.length !== f.numClasses) {
    throw new DataError(`dataset ${f.name}: ${f.classNames.length} class names for ${f.numClasses} classes`);
  }
  for (let i = 0; i < n; i++) {
    const y = f.labels[i]!;
    if (!(y >= 0 && y < f.numClasses)) throw new DataError(`dataset ${f.name}: label ${y} at index ${i} is outside 0..${f.numClasses - 1}`);
  }
  return { name: f.name, images: f.images, labels: f.labels, n, height: f.height, width: f.width, channels, numClasses: f.numClasses, classNames: f.classNames };
}

/** A new dataset holding copies of the given samples, in the given order. */
export function subset(ds: ImageDataset, indices: ArrayLike<number>, name = ds.name): ImageDataset {
  const sampleBytes = ds.height * ds.width * ds.channels;
  const images = new Uint8Array(indices.length * sampleBytes);
  const labels = ds.labels instanceof Int32Array ? new Int32Array(indices.length) : new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new RangeError(`subset: index ${i} is outside 0..${ds.n - 1}`);
    images.set(ds.images.subarray(i * sampleBytes, (i + 1) * sampleBytes), k * sampleBytes);
    labels[k] = ds.labels[i]!;
  }
  return { ...ds, name, images, labels, n: indices.length };
}

/**
 * At most `count` samples, picked per class in proportion by a seeded shuffle and kept in their
 * original order: a plain prefix would hold only the first classes of a class-sorted file (digits).
 */
export function limit(ds: ImageDataset, count: number, seed = 0): ImageDataset {
  if (!Number.isInteger(count) || count < 0) throw new DataError(`limit: the sample count must be a non-negative integer, got ${count}`);
  if (count >= ds.n) return ds;
  const [picked] = partition(ds.labels, ds.numClasses, [count], seed, true);
  return subset(ds, picked!, ds.name);
}

/** A part size: a fraction in (0, 1) of the whole, or a whole number of samples. */
export type PartSize = number;

export interface SplitOptions {
  validation: PartSize;
  test?: PartSize;
  /** 32-bit integer; the same seed gives the same split on every machine. Default 0. */
  seed?: number;
  /** Keep class proportions in every part (default true). */
  stratify?: boolean;
}

export interface SplitIndices { train: Int32Array; validation: Int32Array; test: Int32Array }
export interface Split { train: ImageDataset; validation: ImageDataset; test: ImageDataset }

/** Which samples go to each part; every part lists its indices in ascending order. */
export function splitIndices(labels: ArrayLike<number>, numClasses: number, o: SplitOptions): SplitIndices {
  const n = labels.length;
  const validation = partSize(o.validation, n, 'validation');
  const test = partSize(o.test ?? 0, n, 'test');
  if (validation + test > n) throw new DataError(`split: validation (${validation}) + test (${test}) samples exceed the ${n} available`);
  const [v, t, rest] = partition(labels, numClasses, [validation, test], o.seed ?? 0, o.stratify ?? true);
  return { train: rest!, validation: v!, test: t! };
}

/** Splits a dataset into train / validation / test (test empty unless asked for). */
export function splitDataset(ds: ImageDataset, o: SplitOptions): Split & { indices: SplitIndices } {
  const indices = splitIndices(ds.labels, ds.numClasses, o);
  return {
    train: subset(ds, indices.train, `${ds.name}/train`),
    validation: subset(ds, indices.validation, `${ds.name}/validation`),
    test: subset(ds, indices.test, `${ds.name}/test`),
    indices,
  };
}

function partSize(spec: PartSize, n: number, what: string): number {
  if (Number.isInteger(spec) && spec >= 0) return spec;
  if (spec > 0 && spec < 1) return Math.round(spec * n);
  throw new DataError(`split: ${what} must be a fraction in (0, 1) or a whole number of samples, got ${spec}`);
}

/**
 * Cuts 0..n-1 into parts of the given sizes plus the remainder (last). Each class's indices are
 * shuffled once (seeded Fisher-Yates); parts take consecutive runs of them, so parts are disjoint.
 */
function partition(labels: ArrayLike<number>, numClasses: number, sizes: number[], seed: number, stratify: boolean): Int32Array[] {
  if (!Number.isInteger(seed)) throw new DataError(`split: seed must be an integer, got ${seed}`);
  const pools = stratify ? classPools(labels, numClasses) : [iota(labels.length)];
  const rng = mulberry32(seed);
  for (const pool of pools) shuffleInPlace(pool, rng);
  const taken = new Array<number>(pools.length).fill(0);
  const parts: Int32Array[] = [];
  for (const size of sizes) {
    const quotas = allocate(size, pools.map((p, c) => p.length - taken[c]!));
    const part = new Int32Array(size);
    let k = 0;
    pools.forEach((pool, c) => {
      part.set(pool.subarray(taken[c], taken[c]! + quotas[c]!), k);
      k += quotas[c]!;
      taken[c] = taken[c]! + quotas[c]!;
    });
    parts.push(part.sort());
  }
  const rest = new Int32Array(pools.reduce((s, p, c) => s + p.length - taken[c]!, 0));
  let k = 0;
  pools.forEach((pool, c) => { rest.set(pool.subarray(taken[c]), k); k += pool.length - taken[c]!; });
  parts.push(rest.sort());
  return parts;
}

function classPools(labels: ArrayLike<number>, numClasses: number): Int32Array[] {
  const counts = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < numClasses)) throw new RangeError(`split: label ${y} at index ${i} is outside 0..${numClasses - 1}`);
    counts[y]!++;
  }
  const pools = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    pools[y]![fill[y]!++] = i;
  }
  return pools;
}

/**
 * Splits `total` over classes in proportion to `available` (largest remainder, ties to the lower
 * class). Never exceeds a class's availability as long as total ≤ Σ available.
 */
function allocate(total: number, available: number[]): number[] {
  const sum = available.reduce((a, b) => a + b, 0);
  if (sum === 0) return available.map(() => 0);
  const exact = available.map((a) => (total * a) / sum);
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const order = exact.map((_, c) => c).sort((a, b) => (exact[b]! - quotas[b]!) - (exact[a]! - quotas[a]!) || a - b);
  for (const c of order) {
    if (left === 0) break;
    if (quotas[c]! < available[c]!) { quotas[c]!++; left--; }
  }
  return quotas;
}
