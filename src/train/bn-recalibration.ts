// Batch-norm re-estimation: after fast fine-tuning (large λ) the running statistics lag behind
// the weights, and eval accuracy collapses while train accuracy does not. Recomputing them as a
// cumulative average over a few training batches, with the quantizers on, fixes the mismatch.
// At a low target rate that is not enough: the entropy term pushes many pre-activations to just
// under a rounding threshold, so a shift of a few hundredths of a standard deviation in a BN mean
// (the difference between two re-estimates on 20 and 78 batches) flips codes and costs up to 13
// points of test accuracy. Freezing the statistics (freezeBatchNormStatistics) trains the network
// against the very normalisation it is evaluated with.
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import { BatchNorm2d, type Module } from '../nn/index.js';

export function recalibrateBatchNorm(model: Module, inputs: Iterable<Tensor>): number {
  const pass = beginRecalibration(model);
  if (!pass) return 0;
  let batches = 0;
  try {
    noGrad(() => { for (const x of inputs) { tidy(() => { model.forward(x); }); batches++; } });
  } finally { pass.end(); }
  return batches;
}

/**
 * recalibrateBatchNorm over a stream of inputs (e.g. batches decoded by worker threads), each
 * forwarded as it arrives. The producer owns (and disposes) the inputs.
 */
export async function recalibrateBatchNormAsync(model: Module, inputs: Iterable<Tensor> | AsyncIterable<Tensor>): Promise<number> {
  const pass = beginRecalibration(model);
  if (!pass) return 0;
  let batches = 0;
  try {
    for await (const x of inputs) { noGrad(() => tidy(() => { model.forward(x); })); batches++; }
  } finally { pass.end(); }
  return batches;
}

/**
 * Puts every BatchNorm2d that tracks running statistics into eval mode (the rest of the model keeps
 * its mode): training then normalises with the running statistics, exactly as evaluation does,
 * and no longer updates them; the affine weights still learn. Returns how many were frozen.
 */
export function freezeBatchNormStatistics(model: Module): number {
  const norms = model.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d && m.namedBuffers().some(([n]) => n === 'running_mean'));
  for (const bn of norms) bn.training = false;
  return norms.length;
}

/** Resets the statistics of every tracking BatchNorm2d to a cumulative average in train mode; null when there is none. */
function beginRecalibration(model: Module): { end: () => void } | null {
  const norms = model.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d && m.namedBuffers().some(([n]) => n === 'running_mean'));
  if (norms.length === 0) return null;
  const saved = norms.map((bn) => bn.momentum);
  const wasTraining = model.training;
  const end = (): void => {
    norms.forEach((bn, i) => { (bn as { momentum: number | null }).momentum = saved[i]!; });
    model.train(wasTraining);
  };
  try {
    noGrad(() => {
      for (const bn of norms) {
        bn.buffer('running_mean').zero_();
        bn.buffer('running_var').fill_(1);
        bn.buffer('num_batches_tracked').zero_();
        (bn as { momentum: number | null }).momentum = null; // cumulative average over the pass
      }
    });
    model.train();
  } catch (e) { end(); throw e; }
  return { end };
}
