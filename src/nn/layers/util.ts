// Argument checks shared by the layer constructors; messages name the layer and the argument.
import type { F } from '../../tensor/index.js';

export function positiveInt(v: number, name: string, layer: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${layer}: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** A number or [h, w] pair as [h, w], each an integer ≥ min. */
export function pair(v: F.Pair, name: string, layer: string, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new RangeError(`${layer}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}
