// What training and evaluation read mini-batches from: the in-memory DataLoader (synchronous
// generator) and the streaming ImageFolderLoader (asynchronous, worker threads) both fit, and
// consumers iterate either with `for await`.
import type { Shard } from './distributed-sampler.js';
import type { Tensor } from '../tensor/index.js';

/**
 * One mini-batch. x: float32 [B, C, H, W], y: int64 [B], `indices`: the dataset samples used.
 * The caller owns x and y: call dispose(batch) (or x.dispose(); y.dispose()) after the step.
 * They are created when the iterator advances, so a tidy() around the step body alone does not
 * reach them.
 */
export interface Batch { x: Tensor; y: Tensor; indices: Int32Array }

export interface BatchSource {
  /** Batches per epoch (an image loader skipping unreadable files may yield shorter ones, never more). */
  readonly numBatches: number;
  /** The batches of an epoch (one rank's share with `shard`, when `shardable`). The consumer owns and disposes each batch's x and y. */
  batches(epoch?: number, shard?: Shard): Iterable<Batch> | AsyncIterable<Batch>;
  /** True when `batches` honours a shard (data-parallel runs refuse sources that do not). */
  readonly shardable?: boolean;
  /** Batches per epoch of a shard (numBatches without one). */
  batchCount?(shard?: Shard): number;
  /** One line for logs. */
  describe(): string;
  /** Releases what the source holds open (decoding threads); it may be iterated again afterwards. */
  close?(): void | Promise<void>;
}

/** Closes every source (even when one fails), then rethrows the first failure. */
export async function closeSources(sources: Iterable<BatchSource | null | undefined>): Promise<void> {
  const results = await Promise.allSettled([...sources].map(async (s) => { await s?.close?.(); }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The source's batches for a shard; refuses a source that would silently ignore it. */
export function shardedBatches(source: BatchSource, epoch: number, shard: Shard | undefined): Iterable<Batch> | AsyncIterable<Batch> {
  if (!shard || shard.worldSize === 1) return source.batches(epoch);
  if (!source.shardable) throw new Error(`data source '${source.describe()}' cannot be split across ranks of a data-parallel run`);
  return source.batches(epoch, shard);
}

/** Batches per epoch for a shard. */
export function shardedBatchCount(source: BatchSource, shard: Shard | undefined): number {
  return shard && source.batchCount ? source.batchCount(shard) : source.numBatches;
}
