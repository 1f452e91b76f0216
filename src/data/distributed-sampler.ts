// Which samples each rank of a data-parallel run reads. Training ('sample'): the epoch's global
// order (the same on every rank: seed and epoch only) is padded by repeating its start to a
// multiple of the world size, and rank r takes positions r, r+W, r+2W… — PyTorch's
// DistributedSampler. Then rank r's batch b holds exactly the samples of the global batch b of
// size W·B at positions ≡ r (mod W), so W ranks at batch B see what one process at batch W·B sees.
// Evaluation ('batch'): rank r reads the global batches r, r+W, …, so per-batch results (coded
// bytes with per-batch tables) add up to the single-process ones.
import { DataError } from './errors.js';

export interface Shard {
  rank: number;
  worldSize: number;
  by: 'sample' | 'batch';
}

export function checkShard(s: Shard): void {
  if (!Number.isInteger(s.worldSize) || s.worldSize < 1) throw new DataError(`shard: world size must be a positive integer, got ${s.worldSize}`);
  if (!Number.isInteger(s.rank) || s.rank < 0 || s.rank >= s.worldSize) throw new DataError(`shard: rank must be an integer in 0..${s.worldSize - 1}, got ${s.rank}`);
  if (s.by !== 'sample' && s.by !== 'batch') throw new DataError(`shard: 'by' must be 'sample' or 'batch', got '${String(s.by)}'`);
}

/** Rank `rank`'s share of a global order: padded to a multiple of worldSize by repeating from the start, then strided. */
export function shardSamples(order: Int32Array, rank: number, worldSize: number): Int32Array {
  const n = order.length;
  if (n === 0) return new Int32Array(0);
  const per = Math.ceil(n / worldSize);
  const out = new Int32Array(per);
  for (let k = 0; k < per; k++) out[k] = order[(rank + k * worldSize) % n]!;
  return out;
}

/** The batches (index lists into the dataset) of one epoch for one rank, or for the whole when no shard. */
export function epochBatches(order: Int32Array, batchSize: number, dropLast: boolean, shard?: Shard): Int32Array[] {
  if (shard) checkShard(shard);
  const own = shard && shard.by === 'sample' && shard.worldSize > 1 ? shardSamples(order, shard.rank, shard.worldSize) : order;
  const count = dropLast ? Math.floor(own.length / batchSize) : Math.ceil(own.length / batchSize);
  const out: Int32Array[] = [];
  for (let b = 0; b < count; b++) {
    if (shard && shard.by === 'batch' && b % shard.worldSize !== shard.rank) continue;
    out.push(own.subarray(b * batchSize, Math.min((b + 1) * batchSize, own.length)));
  }
  return out;
}

/** How many batches `epochBatches` yields for n samples, without building them. */
export function shardBatchCount(n: number, batchSize: number, dropLast: boolean, shard?: Shard): number {
  const own = shard && shard.by === 'sample' && shard.worldSize > 1 && n > 0 ? Math.ceil(n / shard.worldSize) : n;
  const count = dropLast ? Math.floor(own / batchSize) : Math.ceil(own / batchSize);
  if (!shard || shard.by !== 'batch') return count;
  return Math.max(0, Math.ceil((count - shard.rank) / shard.worldSize));
}

/** The global index of a rank's k-th batch under a batch shard (k itself otherwise). */
export function globalBatchIndex(k: number, shard?: Shard): number {
  return shard && shard.by === 'batch' ? k * shard.worldSize + shard.rank : k;
}
