// Weight quantization as stored in a .catk file: b-bit codes on a uniform grid that starts at the
// tensor's (or the output channel's) minimum. The arithmetic is catkit's (src/method/quant-layers.ts),
// float32 operation for operation: span = max − min, inv = (2^b − 1)·(1/span), code =
// round((w − min)·inv) (halves to even), value = code/inv + min. So dequantized weights are
// bit-identical to the ones the run evaluated with. `scale` = span/(2^b − 1) is the grid step for
// formats that multiply (ONNX DequantizeLinear), which can differ from code/inv by a float32 rounding.
/** Codes and grid of one quantized tensor: per tensor (scale/min of length 1) or per channel of axis 0. */
export interface QuantizedTensor {
  bits: number;
  /** null: one grid for the whole tensor; 0: one grid per output channel (first dimension). */
  axis: 0 | null;
  /** Grid step per group (float32 values; 0 for a constant group). */
  scale: number[];
  /** (2^b − 1)·(1/span) per group as float32, the trainer's multiplier: value = code/inv + min (2^b − 1 for a constant group). */
  inv: number[];
  /** Grid start per group (float32 values; the group's minimum). */
  min: number[];
  codes: Uint8Array | Uint16Array;
}

/** Elements per group along axis 0 (the product of the other dimensions). */
const groupSize = (shape: readonly number[]): number => shape.slice(1).reduce((a, b) => a * b, 1);

/** Dequantizes codes into float32 values (see the file header for the exact arithmetic). */
export function dequantize(q: QuantizedTensor, shape: readonly number[], out = new Float32Array(q.codes.length)): Float32Array {
  const per = q.axis === null ? q.codes.length : groupSize(shape);
  const inv = Float32Array.from(q.inv), min = Float32Array.from(q.min);
  const codes = q.codes;
  // (Float32Array stores round the double result once: a correctly rounded float32 division and add.)
  for (let g = 0, i = 0; i < codes.length; g++) {
    const s = inv[g]!, m = min[g]!;
    for (const end = Math.min(codes.length, i + per); i < end; i++) out[i] = Math.fround(codes[i]! / s) + m;
  }
  return out;
}

/** Python/libtorch rounding: halves to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantizes float32 values to b bits with min/max grids, in catkit's float32 arithmetic (see the
 * file header). A group with max == min gets scale 0 and code 0 (dequantizing to min exactly).
 */
export function quantize(values: Float32Array, shape: readonly number[], bits: number, axis: 0 | null): QuantizedTensor {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`quantize: bits must be 1…16, got ${bits}`);
  const levels = 2 ** bits - 1;
  const per = axis === null ? values.length : groupSize(shape);
  const groups = per === 0 ? 0 : Math.ceil(values.length / per);
  const codes = bits <= 8 ? new Uint8Array(values.length) : new Uint16Array(values.length);
  const scale: number[] = [], inv: number[] = [], min: number[] = [];
  for (let g = 0; g < groups; g++) {
    let lo = Infinity, hi = -Infinity;
    const start = g * per, end = Math.min(values.length, start + per);
    for (let i = start; i < end; i++) { const v = values[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
    min.push(lo);
    const span = Math.fround(hi - lo);
    const s = gridMultiplier(span, bits);
    inv.push(s);
    scale.push(span > 0 ? Math.fround(span / levels) : 0);
    for (let i = start; i < end; i++) {
      const c = roundHalfEven(Math.fround(Math.fround(values[i]! - lo) * s));
      codes[i] = c < 0 ? 0 : c > levels ? levels : c;
    }
  }
  return { bits, axis, scale, inv, min, codes };
}

/** The trainer's multiplier (2^b − 1)·(1/span) in float32 (span 0 counts as 1, as in catkit's quantizer). */
export function gridMultiplier(span: number, bits: number): number {
  return Math.fround(Math.fround(1 / (span > 0 ? span : 1)) * (2 ** bits - 1));
}
