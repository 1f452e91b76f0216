// Evaluation: accuracy (top-1, top-5) over a loader in eval mode, every quantizer on.
import { noGrad, tidy, dispose } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { DataLoader } from '../data/index.js';

export interface Accuracy { top1: number; top5: number | null; n: number }

export interface EvaluateOptions {
  /** Called after each batch (code sinks count batches with it). */
  onBatch?: () => void;
  /** Stop after this many batches. */
  maxBatches?: number;
}

export function evaluateAccuracy(model: Module, loader: DataLoader, o: EvaluateOptions = {}): Accuracy {
  const wasTraining = model.training;
  model.eval();
  let top1 = 0, top5 = 0, n = 0, classes = 0;
  try {
    noGrad(() => {
      let seen = 0;
      for (const batch of loader.batches(0)) {
        if (seen++ >= (o.maxBatches ?? Infinity)) { dispose(batch); break; }
        try {
          tidy(() => {
            const logits = model.forward(batch.x);
            classes = logits.shape[1]!;
            top1 += logits.argmax(1).eq(batch.y).sum().item();
            if (classes >= 10) {
              const { indices } = logits.topk(5, 1);
              top5 += indices.eq(batch.y.unsqueeze(1)).sum().item();
            }
            n += batch.y.shape[0]!;
          });
          o.onBatch?.();
        } finally { dispose(batch); }
      }
    });
  } finally { model.train(wasTraining); }
  return { top1: n ? top1 / n : 0, top5: classes >= 10 && n ? top5 / n : null, n };
}
