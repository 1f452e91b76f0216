// Mini-batches of an in-memory dataset as libtorch tensors, with a seeded per-epoch order and
// optional augmentation done on the uint8 pixels while they are normalised into the batch.
import { F, tensor } from '../tensor/index.js';
import { centredPlacement, renderSample, type Placement, type SampleGeometry } from './augment.js';
import type { Batch, BatchSource } from './batch-source.js';
import type { ImageDataset } from './dataset.js';
import { DataError } from './errors.js';
import { computeNormalization, normalizationTable, resolveNormalization, unitScale, type Normalization } from './normalize.js';
import { iota, mixSeed, mulberry32, randomInt, shuffleInPlace } from './random.js';
import { epochBatches, shardBatchCount, type Shard } from './distributed-sampler.js';

export interface LoaderOptions {
  batchSize: number;
  /** Reorder the samples every epoch, from (seed, epoch) (default false: dataset order). */
  shuffle?: boolean;
  /** 32-bit integer seed for the order and the augmentation draws (default 0). */
  seed?: number;
  /** Skip the last, short batch (default false). */
  dropLast?: boolean;
  /**
   * Per-channel mean/std of pixel / 255. Default: computed from this loader's dataset, which is
   * right for the training loader; give evaluation loaders the training loader's `normalization`.
   * `false` only scales to [0, 1].
   */
  normalize?: Normalization | false;
  /** Output size; smaller images are zero-padded, larger ones cropped, both centred (e.g. 28 → 32). */
  padTo?: number | readonly [number, number];
  /** Random crop after zero padding by this many pixels on each side (2–4 typical; 0 = off). */
  randomCrop?: number;
  /** Mirror left-right with probability 1/2 (default false: wrong for digits and text). */
  hflip?: boolean;
  /**
   * Bilinear resize of every batch to this square side after padding/cropping (0 or absent: off);
   * small images (digits 20×20) become big enough for ImageNet backbones with a 32× downsampling.
   */
  resize?: number;
}

// Batch (x, y, indices) is declared beside BatchSource.
export type { Batch } from './batch-source.js';

export class DataLoader implements BatchSource {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly randomCrop: number;
  readonly hflip: boolean;
  readonly resize: number;
  readonly normalization: Normalization;
  readonly geometry: SampleGeometry;
  readonly #lut: Float32Array;
  readonly #normalizationGiven: boolean;

  constructor(dataset: ImageDataset, o: LoaderOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new DataError(`batch size must be a positive integer, got ${o.batchSize}`);
    const seed = o.seed ?? 0;
    if (!Number.isInteger(seed)) throw new DataError(`loader seed must be an integer, got ${seed}`);
    const randomCrop = o.randomCrop ?? 0;
    if (!Number.isInteger(randomCrop) || randomCrop < 0) throw new DataError(`random crop padding must be a non-negative integer, got ${randomCrop}`);
    const [outHeight, outWidth] = o.padTo === undefined ? [dataset.height, dataset.width]
      : typeof o.padTo === 'number' ? [o.padTo, o.padTo] : [o.padTo[0], o.padTo[1]];
    for (const s of [outHeight, outWidth]) if (!Number.isInteger(s) || s < 1) throw new DataError(`target size must be a positive integer, got ${s}`);
    this.dataset = dataset;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle ?? false;
    this.seed = seed;
    this.dropLast = o.dropLast ?? false;
    this.randomCrop = randomCrop;
    this.hflip = o.hflip ?? false;
    this.resize = o.resize ?? 0;
    if (!Number.isInteger(this.resize) || this.resize < 0) throw new DataError(`resize must be a non-negative integer, got ${this.resize}`);
    this.geometry = { height: dataset.height, width: dataset.width, channels: dataset.channels, outHeight, outWidth };
    this.#normalizationGiven = o.normalize !== undefined;
    this.normalization = o.normalize === false ? unitScale(dataset.channels)
      : o.normalize ? resolveNormalization(o.normalize, dataset.channels) : computeNormalization(dataset);
    this.#lut = normalizationTable(this.normalization);
  }

  get numBatches(): number {
    return this.dropLast ? Math.floor(this.dataset.n / this.batchSize) : Math.ceil(this.dataset.n / this.batchSize);
  }

  readonly shardable = true;
  /** Batches per epoch of one rank's shard (see distributed-sampler.ts). */
  batchCount(shard?: Shard): number { return shardBatchCount(this.dataset.n, this.batchSize, this.dropLast, shard); }

  /** [C, H, W] of one sample in x. */
  get sampleShape(): [number, number, number] {
    const g = this.geometry;
    return this.resize ? [g.channels, this.resize, this.resize] : [g.channels, g.outHeight, g.outWidth];
  }

  /** The sample order of an epoch: a function of (seed, epoch) only, so resuming at epoch k replays it. */
  order(epoch: number): Int32Array {
    checkEpoch(epoch);
    const order = iota(this.dataset.n);
    return this.shuffle ? shuffleInPlace(order, mulberry32(mixSeed(this.seed, epoch))) : order;
  }

  /** The batches of an epoch, in order (one rank's share with `shard`). Dispose each batch's x and y (see Batch). */
  *batches(epoch = 0, shard?: Shard): Generator<Batch, void, undefined> {
    for (const ids of epochBatches(this.order(epoch), this.batchSize, this.dropLast, shard)) yield this.batchOf(ids, epoch);
  }

  /** A batch of the given samples, augmented as in `epoch` (draws depend on seed, epoch and sample index). */
  batchOf(indices: ArrayLike<number>, epoch = 0): Batch {
    checkEpoch(epoch);
    const ds = this.dataset;
    const g = this.geometry;
    const b = indices.length;
    const sampleIn = g.height * g.width * g.channels;
    const sampleOut = g.channels * g.outHeight * g.outWidth;
    const x = new Float32Array(b * sampleOut);
    const y = new BigInt64Array(b);
    const centre = centredPlacement(g);
    const augment = this.randomCrop > 0 || this.hflip;
    const ids = Int32Array.from(indices);
    for (let k = 0; k < b; k++) {
      const i = ids[k]!;
      if (!(i >= 0 && i < ds.n)) throw new RangeError(`batchOf: sample ${i} is outside 0..${ds.n - 1}`);
      const place = augment ? this.#augmentPlacement(centre, epoch, i) : centre;
      renderSample(ds.images, i * sampleIn, g, place, this.#lut, x, k * sampleOut);
      y[k] = BigInt(ds.labels[i]!);
    }
    const pixels = tensor(x, [b, g.channels, g.outHeight, g.outWidth]);
    if (!this.resize) return { x: pixels, y: tensor(y, [b]), indices: ids };
    const resized = F.resizeBilinear(pixels, this.resize);
    pixels.dispose();
    return { x: resized, y: tensor(y, [b]), indices: ids };
  }

  #augmentPlacement(centre: Placement, epoch: number, sample: number): Placement {
    const rng = mulberry32(mixSeed(this.seed, epoch, sample, 0x0a06));
    const p = this.randomCrop;
    // Padding by p then cropping at offset u ∈ [0, 2p] shifts the image by p - u.
    const top = p ? centre.top + p - randomInt(rng, 2 * p + 1) : centre.top;
    const left = p ? centre.left + p - randomInt(rng, 2 * p + 1) : centre.left;
    return { top, left, flip: this.hflip && rng() < 0.5 };
  }

  /** One line for logs. */
  describe(): string {
    const ds = this.dataset;
    const g = this.geometry;
    const size = `${g.channels}×${g.height}×${g.width}`;
    const out = (g.outHeight !== g.height || g.outWidth !== g.width ? ` → ${g.channels}×${g.outHeight}×${g.outWidth}` : '')
      + (this.resize ? ` → bilinear ${this.resize}×${this.resize}` : '');
    const aug = [this.randomCrop ? `crop pad ${this.randomCrop}` : '', this.hflip ? 'hflip' : ''].filter(Boolean).join(', ') || 'none';
    const fmt = (a: number[]): string => `[${a.map((v) => v.toFixed(4)).join(', ')}]`;
    const norm = `mean ${fmt(this.normalization.mean)} std ${fmt(this.normalization.std)}${this.#normalizationGiven ? '' : ' (from this data)'}`;
    return `${ds.name}: ${ds.n} samples ${size}${out}, ${ds.numClasses} classes; batch ${this.batchSize} × ${this.numBatches}`
      + `${this.dropLast ? ' (drop last)' : ''}, ${this.shuffle ? `shuffled (seed ${this.seed})` : 'in order'}; augment ${aug}; normalise ${norm}`;
  }
}

function checkEpoch(epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
}
