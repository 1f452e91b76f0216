// Streams detection batches of a VOC split: images decoded and augmented by sharp in worker threads
// (voc-worker.ts), `prefetch` batches ahead. Each batch: x float32 [B, 3, S, S] in [0, 1] (the model
// normalises), per image the targets in S×S pixels (boxes [G, 4], labels [G] int64) and the VOC
// item (original size and all objects, difficult ones included, for evaluation). Training drops
// difficult objects from the targets (as the SSD references do).
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { tensor, type Tensor } from '../tensor/index.js';
import { CatkitError } from '../errors.js';
import { mixSeed, mulberry32 } from './random.js';
import { MAX_IMAGE_BYTES, type VocItem, type VocSplit } from './voc.js';
import type { VocDecodeReply, VocDecodeRequest } from './voc-worker.js';
import type { DetectionAugment } from './ssd-augment.js';

export interface DetectionBatch {
  x: Tensor;
  targets: { boxes: Tensor; labels: Tensor }[];
  items: VocItem[];
  indices: Int32Array;
}

export interface VocLoaderOptions {
  batchSize: number;
  /** Output side S (the model's input size). */
  size: number;
  /** SSD augmentation and shuffling (training) or resize only, in order (evaluation). */
  train: boolean;
  /** Training augmentation (default 'ssd', SSD's chain). */
  augment?: DetectionAugment;
  seed?: number;
  workers?: number;
  prefetch?: number;
  dropLast?: boolean;
  /** 'skip' leaves undecodable images out (logged once each); default 'fail'. */
  badImages?: 'fail' | 'skip';
  log?: (m: string) => void;
}

type Decoded = { data: Float32Array; boxes: number[]; labels: number[] };
interface Job { req: VocDecodeRequest; resolve: (d: Decoded) => void; reject: (e: Error) => void }
interface Slot { worker: Worker; jobs: Map<number, Job> }

class Pool {
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #next = 0;
  constructor(n: number) {
    for (let i = 0; i < n; i++) {
      const slot: Slot = { worker: new Worker(new URL('./voc-worker.js', import.meta.url)), jobs: new Map<number, Job>() };
      slot.worker.on('message', (m: VocDecodeReply) => {
        const job = slot.jobs.get(m.id);
        slot.jobs.delete(m.id);
        if (job) { if ('data' in m) job.resolve(m); else job.reject(new Error(m.error)); }
        this.#pump();
      });
      slot.worker.on('error', (e) => { for (const j of slot.jobs.values()) j.reject(e); slot.jobs.clear(); });
      slot.worker.unref();
      this.#slots.push(slot);
    }
  }
  run(req: Omit<VocDecodeRequest, 'id'>): Promise<Decoded> {
    return new Promise((resolve, reject) => { this.#queue.push({ req: { ...req, id: this.#next++ }, resolve, reject }); this.#pump(); });
  }
  #pump(): void {
    for (;;) {
      const slot = this.#slots.reduce<Slot | null>((b, s) => (!b || s.jobs.size < b.jobs.size ? s : b), null);
      if (!slot || slot.jobs.size >= 8) break;
      const job = this.#queue.shift();
      if (!job) break;
      slot.jobs.set(job.req.id, job);
      slot.worker.ref();
      slot.worker.postMessage(job.req);
    }
    for (const s of this.#slots) if (s.jobs.size === 0) s.worker.unref();
  }
  async close(): Promise<void> {
    for (const j of this.#queue.splice(0)) j.reject(new Error('loader closed'));
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}

export class VocLoader {
  readonly batchSize: number;
  readonly size: number;
  readonly train: boolean;
  readonly augment: DetectionAugment;
  readonly seed: number;
  readonly workers: number;
  readonly prefetch: number;
  readonly dropLast: boolean;
  readonly badImages: 'fail' | 'skip';
  readonly badFiles = new Set<string>();
  readonly #log: (m: string) => void;
  #pool: Pool | null = null;

  constructor(readonly split: VocSplit, o: VocLoaderOptions) {
    for (const [k, v, min] of [['batch size', o.batchSize, 1], ['image size', o.size, 32], ['workers', o.workers ?? 1, 1], ['prefetch', o.prefetch ?? 2, 0]] as const) {
      if (!Number.isInteger(v) || v < min) throw new CatkitError('BAD_OPTION', `${k} must be an integer ≥ ${min}, got ${v}`);
    }
    this.batchSize = o.batchSize;
    this.size = o.size;
    this.train = o.train;
    this.augment = o.augment ?? 'ssd';
    this.seed = o.seed ?? 0;
    this.workers = o.workers ?? Math.min(4, availableParallelism());
    this.prefetch = o.prefetch ?? 2;
    this.dropLast = o.dropLast ?? o.train;
    this.badImages = o.badImages ?? 'fail';
    this.#log = o.log ?? ((m) => console.warn(m));
  }

  get numBatches(): number {
    const n = this.split.items.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  order(epoch: number): Int32Array {
    const o = Int32Array.from({ length: this.split.items.length }, (_, i) => i);
    if (!this.train) return o;
    const rng = mulberry32(mixSeed(this.seed, epoch));
    for (let i = o.length - 1; i > 0; i--) { const j = Math.floor(rng() * (i + 1)); const t = o[i]!; o[i] = o[j]!; o[j] = t; }
    return o;
  }

  async *batches(epoch = 0): AsyncGenerator<DetectionBatch, void, undefined> {
    const order = this.order(epoch);
    const pending: Promise<(Decoded | null)[]>[] = [];
    const start = (b: number) => {
      const ids = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const p = Promise.all(Array.from(ids, (i) => this.#decode(i, epoch)));
      p.catch(() => undefined);
      pending.push(p);
    };
    const count = this.numBatches;
    for (let b = 0; b < Math.min(count, this.prefetch + 1); b++) start(b);
    for (let b = 0; b < count; b++) {
      const decoded = await pending.shift()!;
      if (b + this.prefetch + 1 < count) start(b + this.prefetch + 1);
      const ids = order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
      const keep = decoded.flatMap((d, k) => (d ? [k] : []));
      const plane = 3 * this.size * this.size;
      const x = new Float32Array(keep.length * plane);
      keep.forEach((k, j) => x.set(decoded[k]!.data, j * plane));
      yield {
        x: tensor(x, [keep.length, 3, this.size, this.size]),
        targets: keep.map((k) => ({
          boxes: tensor(Float32Array.from(decoded[k]!.boxes), [decoded[k]!.labels.length, 4]),
          labels: tensor(BigInt64Array.from(decoded[k]!.labels, BigInt), [decoded[k]!.labels.length]),
        })),
        items: keep.map((k) => this.split.items[ids[k]!]!),
        indices: Int32Array.from(keep, (k) => ids[k]!),
      };
    }
  }

  async #decode(i: number, epoch: number): Promise<Decoded | null> {
    const item = this.split.items[i]!;
    if (this.badFiles.has(item.image)) return null;
    const objs = this.train ? item.objects.filter((o) => !o.difficult) : item.objects;
    this.#pool ??= new Pool(this.workers);
    try {
      return await this.#pool.run({
        file: item.image, maxBytes: MAX_IMAGE_BYTES, size: this.size, train: this.train, augment: this.augment, seed: mixSeed(this.seed, epoch, i, 0x5d),
        boxes: objs.flatMap((o) => o.box), labels: objs.map((o) => o.label), width: item.width, height: item.height,
      });
    } catch (e) {
      const msg = `${item.image}: unreadable image (${(e as Error).message})`;
      if (this.badImages === 'fail') throw new CatkitError('VOC_DATA', msg, { file: item.image });
      if (!this.badFiles.has(item.image)) { this.badFiles.add(item.image); this.#log(`skipping ${msg}`); }
      return null;
    }
  }

  async close(): Promise<void> { const p = this.#pool; this.#pool = null; await p?.close(); }

  describe(): string {
    return `${this.split.name}: ${this.split.items.length} images; batch ${this.batchSize} × ${this.numBatches}; ${this.train ? `${this.augment === 'ssd' ? 'SSD' : this.augment} augmentation, shuffled (seed ${this.seed})` : 'resize only'} to ${this.size}²; ${this.workers} worker(s)`;
  }
}
