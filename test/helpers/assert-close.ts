// Numeric assertions for tensor tests: elementwise closeness with an explicit tolerance, and shape checks.
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/index.js';
import type { OracleArray } from './torch-oracle.js';

export type Numbers = Tensor | OracleArray | ArrayLike<number>;
export interface Tolerance { rtol?: number; atol?: number }

function flat(v: Numbers): number[] {
  if (v instanceof Tensor) return v.toArray();
  if (typeof v === 'object' && v !== null && 'data' in v && 'shape' in v) return v.data;
  return Array.from(v as ArrayLike<number>);
}
function shapeOf(v: Numbers): number[] | null {
  if (v instanceof Tensor) return [...v.shape];
  if (typeof v === 'object' && v !== null && 'data' in v && 'shape' in v) return v.shape;
  return null;
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| for every element (NaN matches NaN,
 * infinities must match exactly). Shapes are compared when both sides carry one.
 */
export function assertClose(actual: Numbers, expected: Numbers, tol: Tolerance = {}, what = 'values'): void {
  const { rtol = 1e-5, atol = 1e-6 } = tol;
  const sa = shapeOf(actual);
  const se = shapeOf(expected);
  if (sa && se) assert.deepEqual(sa, se, `${what}: shape [${sa}] differs from expected [${se}]`);
  const a = flat(actual);
  const e = flat(expected);
  assert.equal(a.length, e.length, `${what}: ${a.length} elements, expected ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y)) { if (!Number.isNaN(x)) { worst = i; break; } continue; }
    if (!Number.isFinite(y)) { if (x !== y) { worst = i; break; } continue; }
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) { worst = i; worstExcess = excess; }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (rtol ${rtol}, atol ${atol})\n` +
      `  actual:   [${a.slice(0, 12).join(', ')}${a.length > 12 ? ', …' : ''}]\n  expected: [${e.slice(0, 12).join(', ')}${e.length > 12 ? ', …' : ''}]`);
  }
}

/** Float64 tolerance for comparing catkit against python torch on identical float64 inputs. */
export const F64: Tolerance = { rtol: 1e-10, atol: 1e-12 };
/** Float32 tolerance. */
export const F32: Tolerance = { rtol: 1e-5, atol: 1e-6 };

export function assertShape(t: Tensor, shape: readonly number[], what = 'shape'): void {
  assert.deepEqual([...t.shape], [...shape], `${what}: got [${t.shape}], expected [${shape}]`);
}
