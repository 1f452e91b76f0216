// Names where a NaN/Inf came from, so "loss is NaN" becomes actionable.
import { tidy, noGrad, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { CatkitError } from '../errors.js';

/** Training diverged (NaN/Inf): a data or hyper-parameter problem the user fixes, so user-facing. */
export class NonFiniteError extends CatkitError {
  override name = 'NonFiniteError';
  constructor(message: string, o: { hint?: string } = {}) { super('non_finite', message, { hint: o.hint }); }
}

const finite = (t: Tensor): boolean => tidy(() => t.isfinite().all().item() === 1);

/** Returns a description of the first non-finite parameter, or of the first module whose output is non-finite. */
export function locateNonFinite(model: Module, x: Tensor): string {
  for (const [name, p] of model.namedParameters()) if (!finite(p)) return `parameter '${name}' holds NaN/Inf`;
  if (!finite(x)) return 'the input batch holds NaN/Inf';
  let culprit = 'no module output is non-finite in a re-run (the loss term itself overflowed)';
  // Re-run the forward with every leaf module's output checked, in execution order.
  const wrapped: [Module, Module['forward']][] = [];
  for (const [name, m] of model.namedModules()) {
    if (name === '' || m.children().length > 0) continue;
    const original = m.forward;
    wrapped.push([m, original]);
    m.forward = function (this: Module, input: Tensor): Tensor {
      const out = original.call(this, input);
      if (culprit.startsWith('no module') && !finite(out)) culprit = `the output of layer '${name}' (${m.constructor.name}) is the first to hold NaN/Inf`;
      return out;
    };
  }
  try { noGrad(() => tidy(() => { model.forward(x); })); } finally {
    for (const [m] of wrapped) delete (m as { forward?: unknown }).forward;
  }
  return culprit;
}
