// Weight quantization as stored in a .catk file: b-bit codes on a uniform grid that starts at the
// tensor's (or the output channel's) minimum, value = fround(fround(code · scale) + min) — the same
// float32 operations, in the same order, as catkit's fake-quantized weights (codes · step + min), so
// dequantized weights are bit-identical to what the run evaluated with.

/** Codes and grid of one quantized tensor: per tensor (scale/min of length 1) or per channel of axis 0. */
export interface QuantizedTensor {
  bits: number;
  /** null: one grid for the whole tensor; 0: one grid per output channel (first dimension). */
  axis: 0 | null;
  /** Grid step per group (float32 values). */
  scale: number[];
  /** Grid start per group (float32 values; the group's minimum). */
  min: number[];
  codes: Uint8Array | Uint16Array;
}

/** Elements per group along axis 0 (the product of the other dimensions). */
const groupSize = (shape: readonly number[]): number => shape.slice(1).reduce((a, b) => a * b, 1);

/** Dequantizes codes into float32 values (see the file header for the exact arithmetic). */
export function dequantize(q: QuantizedTensor, shape: readonly number[], out = new Float32Array(q.codes.length)): Float32Array {
  const per = q.axis === null ? q.codes.length : groupSize(shape);
  const scale = Float32Array.from(q.scale), min = Float32Array.from(q.min);
  const codes = q.codes;
  for (let g = 0, i = 0; i < codes.length; g++) {
    const s = scale[g]!, m = min[g]!;
    for (const end = Math.min(codes.length, i + per); i < end; i++) out[i] = Math.fround(codes[i]! * s) + m;
  }
  return out;
}

/** Python/libtorch rounding: halves to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantizes float32 values to b bits with min/max grids, in float32 arithmetic as libtorch computes
 * round((w − min) · ((2^b − 1) / (max − min))). A group with max == min gets scale 0 and code 0
 * (dequantizing to min exactly).
 */
export function quantize(values: Float32Array, shape: readonly number[], bits: number, axis: 0 | null): QuantizedTensor {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`quantize: bits must be 1…16, got ${bits}`);
  const levels = 2 ** bits - 1;
  const per = axis === null ? values.length : groupSize(shape);
  const groups = per === 0 ? 0 : Math.ceil(values.length / per);
  const codes = bits <= 8 ? new Uint8Array(values.length) : new Uint16Array(values.length);
  const scale: number[] = [], min: number[] = [];
  for (let g = 0; g < groups; g++) {
    let lo = Infinity, hi = -Infinity;
    const start = g * per, end = Math.min(values.length, start + per);
    for (let i = start; i < end; i++) { const v = values[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
    min.push(lo);
    if (!(hi > lo)) { scale.push(0); continue; }
    const mul = Math.fround(levels / (hi - lo));
    scale.push(Math.fround((hi - lo) / levels));
    for (let i = start; i < end; i++) {
      const c = roundHalfEven(Math.fround(Math.fround(values[i]! - lo) * mul));
      codes[i] = c < 0 ? 0 : c > levels ? levels : c;
    }
  }
  return { bits, axis, scale, min, codes };
}
