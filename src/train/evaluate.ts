// Evaluation: accuracy (top-1, top-5) over a batch source in eval mode, every quantizer on.
import { noGrad, tidy, dispose } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { BatchSource } from '../data/index.js';

export interface Accuracy { top1: number; top5: number | null; n: number }

export interface EvaluateOptions {
  /** Called after each batch (code sinks count batches with it). */
  onBatch?: () => void;
  /** Stop after this many batches. */
  maxBatches?: number;
}

/** Accuracy over epoch 0 of `source` (in memory or streamed); every batch is disposed, also on an early exit. */
export async function evaluateAccuracy(model: Module, source: BatchSource, o: EvaluateOptions = {}): Promise<Accuracy> {
  const wasTraining = model.training;
  model.eval();
  let top1 = 0, top5 = 0, n = 0, classes = 0;
  const maxBatches = o.maxBatches ?? Infinity;
  try {
    let seen = 0;
    // Stop before asking for a batch that would not be used (a streamed one would be decoded for nothing).
    if (maxBatches > 0) {
      for await (const batch of source.batches(0)) {
        try {
          noGrad(() => tidy(() => {
            const logits = model.forward(batch.x);
            classes = logits.shape[1]!;
            top1 += logits.argmax(1).eq(batch.y).sum().item();
            if (classes >= 10) {
              const { indices } = logits.topk(5, 1);
              top5 += indices.eq(batch.y.unsqueeze(1)).sum().item();
            }
            n += batch.y.shape[0]!;
          }));
          o.onBatch?.();
        } finally { dispose(batch); }
        if (++seen >= maxBatches) break;
      }
    }
  } finally { model.train(wasTraining); }
  return { top1: n ? top1 / n : 0, top5: classes >= 10 && n ? top5 / n : null, n };
}
