// Evaluation: accuracy (top-1, top-5) over a batch source in eval mode, every quantizer on.
import { noGrad, tidy, dispose, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { globalBatchIndex, shardedBatches, type BatchSource } from '../data/index.js';
import type { DistributedContext } from '../distributed/index.js';

export interface Accuracy { top1: number; top5: number | null; n: number }

export interface EvaluateOptions {
  /** Called after each batch with its index in the whole source and its number of samples. */
  onBatch?: (batchIndex: number, samples: number) => void;
  /** Awaited after each batch, before the next is read (e.g. backpressure from coders working on the last ones). */
  afterBatch?: () => Promise<void>;
  /**
   * Runs the model on a batch (default: model.forward), inside the batch's no-grad tidy scope: a CAT
   * evaluation runs cat.forward here and reads each site's codes from the returned rate. batchIndex
   * is the batch's index in the whole source (also when sharded).
   */
  forward?: (x: Tensor, batchIndex: number) => Tensor;
  /** Stop after this many batches (of the whole source, also when sharded). */
  maxBatches?: number;
  /** Data-parallel: each rank evaluates every worldSize-th batch and the counts are summed, so every rank returns the whole-source result. */
  dist?: DistributedContext;
}

/** Accuracy over epoch 0 of `source` (in memory or streamed); every batch is disposed, also on an early exit. */
export async function evaluateAccuracy(model: Module, source: BatchSource, o: EvaluateOptions = {}): Promise<Accuracy> {
  const wasTraining = model.training;
  model.eval();
  let top1 = 0, top5 = 0, n = 0, classes = 0;
  const maxBatches = o.maxBatches ?? Infinity;
  try {
    let seen = 0;
    const shard = o.dist?.evalShard;
    // Stop before asking for a batch that would not be used (a streamed one would be decoded for nothing).
    if (maxBatches > globalBatchIndex(0, shard)) {
      for await (const batch of shardedBatches(source, 0, shard)) {
        try {
          noGrad(() => tidy(() => {
            const logits = o.forward ? o.forward(batch.x, globalBatchIndex(seen, shard)) : model.forward(batch.x);
            classes = logits.shape[1]!;
            top1 += logits.argmax(1).eq(batch.y).sum().item();
            if (classes >= 10) {
              const { indices } = logits.topk(5, 1);
              top5 += indices.eq(batch.y.unsqueeze(1)).sum().item();
            }
            n += batch.y.shape[0]!;
          }));
          o.onBatch?.(globalBatchIndex(seen, shard), batch.y.shape[0]!);
        } finally { dispose(batch); }
        if (o.afterBatch) await o.afterBatch();
        if (globalBatchIndex(++seen, shard) >= maxBatches) break;
      }
    }
  } finally { model.train(wasTraining); }
  if (o.dist) {
    [top1, top5, n] = await o.dist.sum([top1, top5, n]);
    [classes] = await o.dist.group.allreduceNumbers([classes], 'max');
  }
  return { top1: n ? top1 / n : 0, top5: classes >= 10 && n ? top5 / n : null, n };
}
