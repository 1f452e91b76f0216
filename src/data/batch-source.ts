// What training and evaluation read mini-batches from: the in-memory DataLoader (synchronous
// generator) and the streaming ImageFolderLoader (asynchronous, worker threads) both fit, and
// consumers iterate either with `for await`.
import type { Batch } from './loader.js';

export interface BatchSource {
  /** Batches per epoch (an image loader skipping unreadable files may yield shorter ones, never more). */
  readonly numBatches: number;
  /** The batches of an epoch. The consumer owns and disposes each batch's x and y. */
  batches(epoch?: number): Iterable<Batch> | AsyncIterable<Batch>;
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
