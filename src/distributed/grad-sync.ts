// Gradient averaging across ranks that overlaps backward: the addon registers a hook on every
// parameter, copies each gradient into a flat bucket (~25 MB; the first 1 MB so communication
// starts early) in reverse parameter order, and allreduces a bucket as soon as it and all earlier
// ones are full. finish() launches what backward did not fill, waits, divides by the world size
// and writes the averages into .grad. Same bucketing idea as c10d's Reducer, without its
// dependence on Python-side setup and with unused parameters (clips of layers not yet quantized)
// handled by launching their buckets after backward.
import type { Tensor } from '../tensor/index.js';
import { dist, type GradSyncStats } from './native.js';
import { PeerFailureError } from './errors.js';
import type { ProcessGroup } from './process-group.js';

export interface GradSyncOptions {
  /** Bucket size cap in bytes (default 25 MB, as DDP). */
  bucketBytes?: number;
  /** The first bucket's cap (default 1 MB, as DDP). */
  firstBucketBytes?: number;
  /** Launch buckets during backward (default true); false allreduces everything after backward. */
  overlap?: boolean;
}

export class GradientSync {
  readonly #id: number;
  readonly buckets: number;
  #disposed = false;

  /** `params`: the trainable parameters, in the same order on every rank. Grads must be unset (or zero) before each backward. */
  constructor(readonly group: ProcessGroup, params: readonly Tensor[], o: GradSyncOptions = {}) {
    const created = dist.gradSyncCreate(params.map((p) => p.handle), o.bucketBytes ?? 25 * 2 ** 20, o.firstBucketBytes ?? 2 ** 20, o.overlap ?? true);
    this.#id = created.id;
    this.buckets = created.buckets;
  }

  /** Arms the hooks for the next backward. */
  prepare(): void { this.#check(); dist.gradSyncPrepare(this.#id); }

  /** After backward: waits for every bucket and leaves averaged gradients in .grad (blocks the main thread). */
  finish(): GradSyncStats {
    this.#check();
    try { return dist.gradSyncFinish(this.#id); } catch (e) {
      throw new PeerFailureError(`rank ${this.group.rank} of ${this.group.worldSize}: gradient allreduce failed; another rank exited or stopped responding ` +
        `(${(e as Error).message})`, e);
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    dist.gradSyncDispose(this.#id);
  }

  #check(): void { if (this.#disposed) throw new Error('GradientSync is disposed'); }
}
