// Names where a NaN/Inf came from, so "loss is NaN" becomes actionable. Everything comes from what
// the model takes and returns: its parameters, the batch, the step's output, and for a CAT model
// its sites' codes in a re-run of the batch through Cat.forward (the per-forward rate channel).
// No module is wrapped or patched to find out.
import { tidy, noGrad, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { Cat } from '../method/index.js';
import { CatkitError } from '../errors.js';

/** Training diverged (NaN/Inf): a data or hyper-parameter problem the user fixes, so user-facing. */
export class NonFiniteError extends CatkitError {
  override name = 'NonFiniteError';
  constructor(message: string, o: { hint?: string } = {}) { super('non_finite', message, { hint: o.hint }); }
}

const finite = (t: Tensor): boolean => tidy(() => t.isfinite().all().item() === 1);

export interface NonFiniteEvidence {
  /** The failing step's model output. */
  output?: Tensor;
  /** The model's CAT attachment: its sites are checked in execution order. */
  cat?: Cat | null;
}

/**
 * Describes the first non-finite parameter, else a non-finite input batch, else the first CAT site
 * whose codes hold NaN/Inf (re-running the batch without gradients), else whether the output is.
 */
export function locateNonFinite(model: Module, x: Tensor, o: NonFiniteEvidence = {}): string {
  for (const [name, p] of model.namedParameters()) if (!finite(p)) return `parameter '${name}' holds NaN/Inf`;
  if (!finite(x)) return 'the input batch holds NaN/Inf';
  if (o.cat) {
    const site = noGrad(() => tidy(() => o.cat!.forward(x, { terms: false, codes: true }).rate.sites.find((s) => s.codes !== null && !finite(s.codes))?.site ?? null));
    if (site !== null) return `the activations at CAT site '${site}' are the first to hold NaN/Inf`;
  }
  if (o.output && !finite(o.output)) return `the model output holds NaN/Inf${o.cat ? ' (no CAT site before it does)' : ''}`;
  return 'the model output is finite (the loss term itself overflowed)';
}
