// Batch-norm re-estimation: after fast fine-tuning (large λ) the running statistics lag behind
// the weights, and eval accuracy collapses while train accuracy does not. Recomputing them as a
// cumulative average over a few training batches, with the quantizers on, fixes the mismatch.
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import { BatchNorm2d, type Module } from '../nn/index.js';

export function recalibrateBatchNorm(model: Module, inputs: Iterable<Tensor>): number {
  const norms = model.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d && m.namedBuffers().some(([n]) => n === 'running_mean'));
  if (norms.length === 0) return 0;
  const saved = norms.map((bn) => bn.momentum);
  const wasTraining = model.training;
  let batches = 0;
  try {
    noGrad(() => {
      for (const bn of norms) {
        bn.buffer('running_mean').zero_();
        bn.buffer('running_var').fill_(1);
        bn.buffer('num_batches_tracked').zero_();
        (bn as { momentum: number | null }).momentum = null; // cumulative average over the pass
      }
      model.train();
      for (const x of inputs) { tidy(() => { model.forward(x); }); batches++; }
    });
  } finally {
    norms.forEach((bn, i) => { (bn as { momentum: number | null }).momentum = saved[i]!; });
    model.train(wasTraining);
  }
  return batches;
}
