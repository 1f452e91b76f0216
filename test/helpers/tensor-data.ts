// Deterministic test data (no dependence on libtorch's generator), shared with the python oracle.
import { tensor, type Tensor, type DType } from '../../src/tensor/index.js';

/** n pseudo-random numbers uniform in [lo, hi), the same for the same seed. */
export function seq(n: number, lo = -1, hi = 1, seed = 1): number[] {
  let s = (seed * 2654435761) % 4294967296;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(lo + ((s / 4294967296) * (hi - lo)));
  }
  return out;
}

/** A tensor of `seq` values with the given shape and dtype (float64 by default). */
export function data(shape: readonly number[], o: { lo?: number; hi?: number; seed?: number; dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(seq(n, o.lo ?? -1, o.hi ?? 1, o.seed ?? 1), shape, { dtype: o.dtype ?? 'float64', requiresGrad: o.requiresGrad ?? false });
}
