// ImageNet-style image folders: train/<wnid>/*.JPEG, val/<wnid>/*.JPEG or a flat val/*.JPEG with a
// labels file, streamed as normalised batches decoded by a small pool of worker threads (sharp).
import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { tensor, tidy, type Tensor } from '../tensor/index.js';
import type { BatchSource } from './batch-source.js';
import { splitIndices } from './dataset.js';
import { DataError } from './errors.js';
import { MAX_METADATA_BYTES, readFileBounded, resolveInside } from '../io/safe-files.js';
import type { DecodeItem, DecodeReply, DecodeResult } from './image-worker.js';
import type { Batch } from './loader.js';
import { resolveNormalization, type Normalization } from './normalize.js';
import { iota, mixSeed, mulberry32, shuffleInPlace } from './random.js';
import { epochBatches, shardBatchCount, type Shard } from './distributed-sampler.js';
// Declared with the dataset registry, which validates configs without loading the engine.
import { IMAGE_FOLDER_LABEL_FILES as LABEL_FILES, IMAGE_FOLDER_LAYOUT } from './registry.js';
export { IMAGE_FOLDER_LAYOUT };

/** torchvision's ImageNet statistics of pixel / 255. */
export const IMAGENET_NORMALIZATION: Normalization = Object.freeze({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }) as Normalization;

const IMAGE_EXT = /\.(jpe?g|png)$/i;
const LAYOUT = `expected an ImageNet-style folder: ${IMAGE_FOLDER_LAYOUT}`;

/** The files and labels of one split; class index = position of the wnid in sorted train/ folder names. */
export interface ImageFolderSplit {
  readonly name: string;
  readonly root: string;
  readonly files: readonly string[];
  readonly labels: Int32Array;
  readonly n: number;
  readonly numClasses: number;
  /** The wnids (folder names of train/), sorted; index = class. */
  readonly classNames: readonly string[];
}

export interface ImageFolderOptions {
  /** Which split to list (default 'train'). */
  split?: 'train' | 'val';
  /** At most this many images, picked per class in proportion by a seeded draw (default: all). */
  limit?: number;
  /** Seed of the `limit` draw (default 0). */
  seed?: number;
}

const dirents = (dir: string): Dirent[] => readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const isDirent = (d: Dirent, dir: string): boolean => d.isDirectory() || (d.isSymbolicLink() && isDir(path.join(dir, d.name)));
/** Image files of a folder: regular files (or links to them) only, so a device named x.JPEG is never decoded. */
const isRegular = (d: Dirent, dir: string): boolean => d.isFile() || (d.isSymbolicLink() && statSafe(path.join(dir, d.name))?.isFile() === true);
const statSafe = (p: string) => { try { return statSync(p); } catch { return null; } };
const imageFiles = (dir: string): string[] => dirents(dir).filter((d) => IMAGE_EXT.test(d.name) && isRegular(d, dir)).map((d) => path.join(dir, d.name));
const stem = (file: string): string => path.basename(file).replace(/\.[^.]*$/, '');

/** Lists a split of an ImageNet-style folder, checking the layout. */
export function openImageFolder(root: string, o: ImageFolderOptions = {}): ImageFolderSplit {
  const split = o.split ?? 'train';
  if (!isDir(root)) throw new DataError(`image folder ${root} does not exist; ${LAYOUT}`);
  const trainDir = path.join(root, 'train');
  if (!isDir(trainDir)) throw new DataError(`${root} has no train/ folder (its class folders define the classes); ${LAYOUT}`);
  const entries = dirents(trainDir);
  const classNames = entries.filter((d) => isDirent(d, trainDir)).map((d) => d.name);
  const loose = entries.filter((d) => !isDirent(d, trainDir) && IMAGE_EXT.test(d.name));
  if (loose.length) throw new DataError(`${trainDir} holds image files directly (${loose[0]!.name}, …); ${LAYOUT}`);
  if (classNames.length === 0) throw new DataError(`${trainDir} has no class folders; ${LAYOUT}`);
  const classOf = new Map(classNames.map((c, i) => [c, i]));

  let files: string[] = [];
  let labels: number[] = [];
  if (split === 'train') {
    classNames.forEach((c, i) => {
      const f = imageFiles(path.join(trainDir, c));
      files.push(...f);
      labels.push(...f.map(() => i));
    });
  } else {
    const valDir = path.join(root, 'val');
    if (!isDir(valDir)) throw new DataError(`${root} has no val/ folder; ${LAYOUT}`);
    const sub = dirents(valDir).filter((d) => isDirent(d, valDir)).map((d) => d.name);
    const flat = imageFiles(valDir);
    if (sub.length && flat.length) throw new DataError(`${valDir} mixes class folders and image files; ${LAYOUT}`);
    if (sub.length) {
      for (const c of sub) {
        const y = classOf.get(c);
        if (y === undefined) throw new DataError(`${path.join(valDir, c)}: class '${c}' is not a folder of ${trainDir}`);
        const f = imageFiles(path.join(valDir, c));
        files.push(...f);
        labels.push(...f.map(() => y));
      }
    } else {
      ({ files, labels } = flatVal(root, valDir, flat, classOf, classNames.length));
    }
  }
  if (files.length === 0) throw new DataError(`no .JPEG/.jpg/.png images in ${path.join(root, split)}; ${LAYOUT}`);
  let ids = iota(files.length);
  if (o.limit !== undefined) {
    if (!Number.isInteger(o.limit) || o.limit < 0) throw new DataError(`image folder limit must be a non-negative integer, got ${o.limit}`);
    if (o.limit < files.length) ids = splitIndices(labels, classNames.length, { validation: o.limit, seed: o.seed ?? 0 }).validation;
  }
  return {
    name: `${path.basename(path.resolve(root))}/${split}`,
    root,
    files: Object.freeze(Array.from(ids, (i) => files[i]!)),
    labels: Int32Array.from(ids, (i) => labels[i]!),
    n: ids.length,
    numClasses: classNames.length,
    classNames: Object.freeze(classNames),
  };
}

/** The given samples of a split (in the given order) as a split of its own, e.g. a held-out part. */
export function subsetImageFolder(split: ImageFolderSplit, indices: ArrayLike<number>, name = split.name): ImageFolderSplit {
  const ids = Int32Array.from(indices);
  for (const i of ids) if (!(i >= 0 && i < split.n)) throw new RangeError(`subsetImageFolder: index ${i} is outside 0..${split.n - 1}`);
  return {
    name, root: split.root, numClasses: split.numClasses, classNames: split.classNames,
    files: Object.freeze(Array.from(ids, (i) => split.files[i]!)),
    labels: Int32Array.from(ids, (i) => split.labels[i]!),
    n: ids.length,
  };
}

/** Labels of a flat val/ folder from LOC_val_solution.csv (ImageId,PredictionString) or val_labels.txt (file label). */
function flatVal(root: string, valDir: string, flat: string[], classOf: Map<string, number>, numClasses: number): { files: string[]; labels: number[] } {
  const labelFile = LABEL_FILES.flatMap((f) => [path.join(valDir, f), path.join(root, f)]).find((f) => existsSync(f));
  if (!labelFile) {
    throw new DataError(`${valDir} holds images directly but no labels file: looked for ${LABEL_FILES.map((f) => `${f} in ${root} or ${valDir}`).join(', ')}; ${LAYOUT}`);
  }
  const byStem = new Map<string, number>();
  // The labels file stays inside the dataset folder (a link out is refused) and is read with a bound.
  const real = resolveInside(root, path.relative(root, labelFile), root, { what: 'labels file', listedIn: 'the dataset folder' });
  const lines = readFileBounded(real, { maxBytes: MAX_METADATA_BYTES, what: labelFile }).toString('utf8').split(/\r?\n/);
  const csv = labelFile.endsWith('.csv');
  lines.forEach((line, k) => {
    const t = line.trim();
    if (!t || (csv && k === 0 && /^ImageId\s*,/i.test(t))) return;
    const [id, label] = csv ? [t.slice(0, t.indexOf(',')), t.slice(t.indexOf(',') + 1).trim().split(/\s+/)[0]] : t.split(/\s+/);
    const where = `${labelFile}:${k + 1}`;
    if (!id || !label || (csv && !t.includes(','))) throw new DataError(`${where}: expected ${csv ? "'ImageId,<wnid> …'" : "'<file> <wnid or class index>'"}, got '${t}'`);
    let y = classOf.get(label);
    if (y === undefined && !csv && /^\d+$/.test(label)) y = Number(label);
    if (y === undefined || y >= numClasses) throw new DataError(`${where}: label '${label}' is neither a wnid of train/ nor a class index 0..${numClasses - 1}`);
    byStem.set(stem(id), y);
  });
  const unlabelled = flat.filter((f) => !byStem.has(stem(f)));
  if (unlabelled.length) {
    throw new DataError(`${labelFile} has no label for ${unlabelled.length} image(s) of ${valDir}: ${unlabelled.slice(0, 3).map((f) => path.basename(f)).join(', ')}${unlabelled.length > 3 ? ', …' : ''}`);
  }
  return { files: flat, labels: flat.map((f) => byStem.get(stem(f))!) };
}

/** What to do with a file sharp cannot decode: skip it (logged once per file) or throw a DataError. */
export type BadImagePolicy = 'skip' | 'fail';

export interface ImageFolderLoaderOptions {
  batchSize: number;
  /** Output side S (default 224). */
  size?: number;
  /** RandomResizedCrop + horizontal flip (training); otherwise Resize + CenterCrop. Default: split is train. */
  augment?: boolean;
  /** Reorder every epoch from (seed, epoch) (default: same as augment). */
  shuffle?: boolean;
  /** 32-bit integer seed of the order and augmentation draws (default 0). */
  seed?: number;
  dropLast?: boolean;
  /** Default: ImageNet mean/std. */
  normalize?: Normalization;
  /** Decoding worker threads (default min(4, cores)). */
  workers?: number;
  /** Batches decoded ahead of the one being consumed (default 2). */
  prefetch?: number;
  /** Default 'fail'. */
  onBadImage?: BadImagePolicy;
  /** Where 'skip' reports files (default console.warn). */
  log?: (message: string) => void;
}

/** A chunk of images sent to one worker in one message (its replies come back together). */
interface Job { id: number; items: DecodeItem[]; size: number; train: boolean; resolve: (d: DecodeResult[]) => void; reject: (e: Error) => void; cancelled: { value: boolean } }

/**
 * Images posted to a worker ahead of its replies. The main thread is blocked during a (sync)
 * training step and can neither collect replies nor hand out jobs then, so each worker needs a
 * backlog to keep decoding through the step; the worker still decodes one file at a time.
 */
const WORKER_BACKLOG = 16;
/** Images per message: fewer round trips, while a batch still spreads over the workers. */
const CHUNK = 4;

/** A fixed pool of decoding workers with a FIFO queue; idle workers do not keep the process alive. */
interface WorkerSlot { worker: Worker; jobs: Map<number, Job>; images: number }

class DecodePool {
  readonly #workers: WorkerSlot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #closed = false;

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL('./image-worker.js', import.meta.url));
      const slot: WorkerSlot = { worker, jobs: new Map<number, Job>(), images: 0 };
      // Replies come in posting order (the worker decodes its requests one after another).
      worker.on('message', (m: DecodeReply) => {
        const first = slot.jobs.keys().next();
        if (!first.done) {
          const job = slot.jobs.get(first.value)!;
          slot.jobs.delete(first.value);
          slot.images -= job.items.length;
          job.resolve(m.results);
        }
        this.#pump();
      });
      // A worker that fails or exits on its own takes its jobs down with it (rejected, never left
      // pending: a promise nothing settles would let the process end as if it had succeeded).
      const lost = (err: Error): void => {
        for (const j of slot.jobs.values()) j.reject(err);
        slot.jobs.clear();
        slot.images = 0;
        const at = this.#workers.indexOf(slot);
        if (at < 0) return;
        this.#workers.splice(at, 1);
        if (this.#workers.length === 0) for (const j of this.#queue.splice(0)) j.reject(err);
      };
      worker.on('error', lost);
      worker.on('exit', (code) => { if (!this.#closed) lost(new Error(`image decoding worker exited unexpectedly (code ${code})`)); });
      worker.unref();
      this.#workers.push(slot);
    }
  }

  /** Decodes a chunk of images in one worker; per-image failures come back as results with `error`. */
  run(items: DecodeItem[], size: number, train: boolean, cancelled: { value: boolean }): Promise<DecodeResult[]> {
    if (this.#closed) return Promise.reject(new Error('image loader is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, items, size, train, resolve, reject, cancelled });
      this.#pump();
    });
  }

  /** Tops every worker's backlog up from the queue, least loaded first. */
  #pump(): void {
    // After close() the workers stay ref'd until they have exited (see close); a late reply must not unref them.
    if (this.#closed) return;
    for (;;) {
      const slot = this.#workers.reduce<WorkerSlot | null>((best, w) => (!best || w.images < best.images ? w : best), null);
      if (!slot || slot.images >= WORKER_BACKLOG) return;
      let job = this.#queue.shift();
      while (job?.cancelled.value) { job.reject(new Error('cancelled')); job = this.#queue.shift(); }
      if (!job) break;
      slot.jobs.set(job.id, job);
      slot.images += job.items.length;
      slot.worker.ref();
      slot.worker.postMessage({ items: job.items, size: job.size, train: job.train });
    }
    for (const w of this.#workers) if (w.jobs.size === 0) w.worker.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const j of this.#queue.splice(0)) j.reject(new Error('image loader is closed'));
    // An unref'd worker does not keep the event loop alive, so neither would the promise of its
    // termination: the process could end here, in the middle of the caller's error path, with
    // exit code 0 (it did, in about 1 run of 6). Ref them until they are gone.
    for (const s of this.#workers) s.worker.ref();
    await Promise.all(this.#workers.map((s) => s.worker.terminate()));
  }
}

interface Decoded { data: (Uint8Array | null)[]; ids: Int32Array }

/**
 * Streams batches {x: float32 [B, 3, S, S], y: int64 [B], indices} of an image folder split,
 * like DataLoader but asynchronous: `for await (const b of loader.batches(epoch))`. Dispose each
 * batch's x and y; call close() when done (idle workers do not keep the process alive).
 * With onBadImage 'skip', a batch holding an unreadable file is one sample shorter.
 */
export class ImageFolderLoader implements BatchSource {
  readonly split: ImageFolderSplit;
  readonly batchSize: number;
  readonly size: number;
  readonly augment: boolean;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly normalization: Normalization;
  readonly workers: number;
  readonly prefetch: number;
  readonly onBadImage: BadImagePolicy;
  /** Files skipped as unreadable so far (each logged once). */
  readonly badFiles = new Set<string>();
  readonly #log: (message: string) => void;
  #pool: DecodePool | null = null;

  constructor(split: ImageFolderSplit, o: ImageFolderLoaderOptions) {
    const positive = (v: number, what: string, min = 1): number => {
      if (!Number.isInteger(v) || v < min) throw new DataError(`${what} must be an integer ≥ ${min}, got ${v}`);
      return v;
    };
    this.split = split;
    this.batchSize = positive(o.batchSize, 'batch size');
    this.size = positive(o.size ?? 224, 'image size');
    this.augment = o.augment ?? split.name.endsWith('/train');
    this.shuffle = o.shuffle ?? this.augment;
    this.seed = o.seed ?? 0;
    if (!Number.isInteger(this.seed)) throw new DataError(`loader seed must be an integer, got ${this.seed}`);
    this.dropLast = o.dropLast ?? false;
    this.normalization = resolveNormalization(o.normalize ?? IMAGENET_NORMALIZATION, 3);
    this.workers = positive(o.workers ?? Math.min(4, availableParallelism()), 'worker count');
    this.prefetch = positive(o.prefetch ?? 2, 'prefetch', 0);
    this.onBadImage = o.onBadImage ?? 'fail';
    if (this.onBadImage !== 'skip' && this.onBadImage !== 'fail') throw new DataError(`onBadImage must be 'skip' or 'fail', got ${String(this.onBadImage)}`);
    this.#log = o.log ?? ((m) => console.warn(m));
  }

  get numBatches(): number {
    const n = this.split.n;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  readonly shardable = true;
  /** Batches per epoch of one rank's shard (see distributed-sampler.ts). */
  batchCount(shard?: Shard): number { return shardBatchCount(this.split.n, this.batchSize, this.dropLast, shard); }

  get sampleShape(): [number, number, number] { return [3, this.size, this.size]; }

  /** The sample order of an epoch, a function of (seed, epoch) only. */
  order(epoch: number): Int32Array {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
    const order = iota(this.split.n);
    return this.shuffle ? shuffleInPlace(order, mulberry32(mixSeed(this.seed, epoch))) : order;
  }

  /** The batches of an epoch (one rank's share with `shard`), decoded `prefetch` batches ahead. */
  async *batches(epoch = 0, shard?: Shard): AsyncGenerator<Batch, void, undefined> {
    const list = epochBatches(this.order(epoch), this.batchSize, this.dropLast, shard);
    const count = list.length;
    const cancelled = { value: false };
    const pending: Promise<Decoded>[] = [];
    const start = (b: number): void => {
      const p = this.#decodeBatch(list[b]!, epoch, cancelled);
      p.catch(() => undefined); // handled when awaited; avoids unhandled rejections after an early exit
      pending.push(p);
    };
    try {
      for (let b = 0; b < Math.min(count, this.prefetch + 1); b++) start(b);
      for (let b = 0; b < count; b++) {
        const d = await pending.shift()!;
        if (b + this.prefetch + 1 < count) start(b + this.prefetch + 1);
        const keep = d.data.flatMap((x, k) => (x ? [k] : []));
        const plane = 3 * this.size * this.size;
        const px = new Uint8Array(keep.length * plane);
        const y = new BigInt64Array(keep.length);
        keep.forEach((k, j) => {
          px.set(d.data[k]!, j * plane);
          y[j] = BigInt(this.split.labels[d.ids[k]!]!);
        });
        const indices = Int32Array.from(keep, (k) => d.ids[k]!);
        yield { x: this.#normalize(px, keep.length), y: tensor(y, [keep.length]), indices };
      }
    } finally {
      cancelled.value = true;
    }
  }

  /**
   * uint8 [B, S, S, 3] pixels → float32 [B, 3, S, S] (contiguous), x = p·1/(255·std) − mean/std per
   * channel, in the engine on the whole batch (float32 arithmetic: within 1 ulp of the per-pixel
   * double formula the workers used before).
   */
  #normalize(px: Uint8Array, n: number): Tensor {
    const { mean, std } = this.normalization;
    return tidy(() => {
      const s = this.size;
      const hwc = tensor(px, [n, s, s, 3], { dtype: 'uint8' });
      const scale = tensor(std.map((v) => 1 / (255 * v)), [1, 3, 1, 1]);
      const shift = tensor(mean.map((m, c) => m / std[c]!), [1, 3, 1, 1]);
      return hwc.permute([0, 3, 1, 2]).to('float32').mul(scale).sub(shift).contiguous();
    });
  }

  async #decodeBatch(ids: Int32Array, epoch: number, cancelled: { value: boolean }): Promise<Decoded> {
    this.#pool ??= new DecodePool(this.workers);
    const pool = this.#pool;
    const data: (Uint8Array | null)[] = new Array(ids.length).fill(null);
    const items: { k: number; item: DecodeItem }[] = [];
    ids.forEach((i, k) => {
      const file = this.split.files[i]!;
      if (!this.badFiles.has(file)) items.push({ k, item: { id: i, file, seed: mixSeed(this.seed, epoch, i, 0x1f01) } });
    });
    const chunks: (typeof items)[] = [];
    for (let c = 0; c < items.length; c += CHUNK) chunks.push(items.slice(c, c + CHUNK));
    await Promise.all(chunks.map(async (chunk) => {
      let results: DecodeResult[];
      try {
        results = await pool.run(chunk.map((c) => c.item), this.size, this.augment, cancelled);
      } catch (err) {
        if (cancelled.value) return;
        // The worker itself failed: every image of the chunk is unreadable for the same reason.
        results = chunk.map((c) => ({ id: c.item.id, error: (err as Error).message }));
      }
      results.forEach((r, j) => {
        if ('data' in r) { data[chunk[j]!.k] = r.data; return; }
        const file = chunk[j]!.item.file;
        const msg = `${file}: unreadable image (${r.error})`;
        if (this.onBadImage === 'fail') throw new DataError(msg);
        if (!this.badFiles.has(file)) {
          this.badFiles.add(file);
          this.#log(`skipping ${msg}`);
        }
      });
    }));
    return { data, ids: Int32Array.from(ids) };
  }

  /** Stops the worker threads; the loader can be used again afterwards (a new pool starts). */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.close();
  }

  /** One line for logs. */
  describe(): string {
    const s = this.split;
    const t = this.augment ? `RandomResizedCrop(${this.size}) + hflip` : `Resize(${Math.round((256 * this.size) / 224)}) + CenterCrop(${this.size})`;
    return `${s.name}: ${s.n} images, ${s.numClasses} classes; batch ${this.batchSize} × ${this.numBatches}${this.dropLast ? ' (drop last)' : ''}, `
      + `${this.shuffle ? `shuffled (seed ${this.seed})` : 'in order'}; ${t}; ${this.workers} worker(s), prefetch ${this.prefetch}; bad images: ${this.onBadImage}`;
  }
}
