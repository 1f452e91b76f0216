// Finite-difference gradient checks: central differences in float64 against autograd's .grad.
import assert from 'node:assert/strict';
import { Tensor, tensor, tidy, noGrad } from '../../src/tensor/index.js';

export interface GradcheckOptions {
  /** Perturbation step (default 1e-6). */
  eps?: number;
  /** Allowed |analytic - numeric| <= atol + rtol * |numeric| (defaults 1e-6, 1e-6). */
  atol?: number;
  rtol?: number;
  /** Indices of the inputs to check (default: every float64 input). */
  wrt?: number[];
}

/** Deterministic weights in [-1, 1] that turn a non-scalar output into a scalar objective. */
function projection(n: number): number[] {
  const w: number[] = [];
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; w.push((s / 2147483648) * 2 - 1); }
  return w;
}

/** sum(fn(...inputs) * w) as a JS number, without autograd. */
function objective(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], w: number[]): number {
  return tidy(() => noGrad(() => {
    const y = fn(...inputs);
    const out = y.toArray();
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * w[i]!;
    return s;
  }));
}

/**
 * Numerical gradients of sum(fn(...inputs) * w) by central differences: perturbs each element of each
 * checked input (which must be float64) by ±eps. Returns one flat array per checked input.
 */
export function numericGrads(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], w: number[], wrt: number[], eps: number): number[][] {
  return wrt.map((k) => {
    const base = inputs[k]!;
    const data = base.toArray();
    const g = new Array<number>(data.length);
    for (let j = 0; j < data.length; j++) {
      const at = (delta: number): number => {
        const d = data.slice();
        d[j] = d[j]! + delta;
        const moved = tensor(d, base.shape, { dtype: 'float64' });
        try { return objective(fn, inputs.map((x, i) => (i === k ? moved : x)), w); } finally { moved.dispose(); }
      };
      g[j] = (at(eps) - at(-eps)) / (2 * eps);
    }
    return g;
  });
}

/**
 * Asserts autograd gradients of fn match central finite differences. Inputs to check must be float64
 * tensors with requiresGrad; others (int targets, constants) pass through. Grads on inputs are reset.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], o: GradcheckOptions = {}): void {
  const eps = o.eps ?? 1e-6;
  const atol = o.atol ?? 1e-6;
  const rtol = o.rtol ?? 1e-6;
  const wrt = o.wrt ?? inputs.flatMap((x, i) => (x.dtype === 'float64' && x.requiresGrad ? [i] : []));
  assert.ok(wrt.length > 0, 'gradcheck: no float64 input requires grad');
  for (const k of wrt) {
    assert.equal(inputs[k]!.dtype, 'float64', `gradcheck: input ${k} must be float64`);
    assert.ok(inputs[k]!.requiresGrad, `gradcheck: input ${k} must require grad`);
    inputs[k]!.grad = null;
  }
  const size = tidy(() => noGrad(() => fn(...inputs).size));
  const w = projection(size);
  const analytic = tidy(() => {
    const y = fn(...inputs);
    const wt = tensor(w, y.shape, { dtype: y.dtype });
    y.mul(wt).sum().backward();
    return wrt.map((k) => {
      const g = inputs[k]!.grad;
      return g === null ? new Array<number>(inputs[k]!.size).fill(0) : g.toArray();
    });
  });
  const numeric = numericGrads(fn, inputs, w, wrt, eps);
  wrt.forEach((k, n) => {
    const a = analytic[n]!;
    const e = numeric[n]!;
    for (let j = 0; j < a.length; j++) {
      const err = Math.abs(a[j]! - e[j]!);
      if (!(err <= atol + rtol * Math.abs(e[j]!))) {
        assert.fail(`gradcheck: input ${k} element ${j}: autograd ${a[j]}, finite difference ${e[j]} (|diff| ${err.toExponential(2)})\n` +
          `  autograd: [${a.slice(0, 10).join(', ')}]\n  numeric:  [${e.slice(0, 10).join(', ')}]`);
      }
    }
    inputs[k]!.grad = null;
  });
}

/** A float64 leaf tensor requiring grad. */
export const leaf = (data: number[], shape: readonly number[]): Tensor => tensor(data, shape, { dtype: 'float64', requiresGrad: true });
