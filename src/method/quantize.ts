// Fake quantization with straight-through gradients, as in CAT's ReLUProj / Conv2d2.
import { Tensor, tidy } from '../tensor/index.js';

export function checkBits(bits: number, what: string): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
    throw new RangeError(`${what}: bit width must be an integer from 1 to 16, got ${bits}`);
  }
}

/** x in the forward pass, identity gradient in the backward pass: x + (q - x).detach(). */
export function straightThrough(x: Tensor, q: Tensor): Tensor {
  return tidy(() => x.add(q.sub(x).detach()));
}

/**
 * PACT-style clipping to [0, |c|] written as relu(x) - relu(x - |c|), the reference's form:
 * gradient 1 w.r.t. x inside (0, |c|), and sign(c) w.r.t. c where x > |c|.
 */
export function clipToLearned(x: Tensor, clip: Tensor): Tensor {
  return tidy(() => x.relu().sub(x.sub(clip.abs()).relu()));
}

export interface QuantRange { min: Tensor | number; max: Tensor | number }

/**
 * Integer codes round((y - m)·(2^b - 1)/(M - m)) for a given range (no gradient), or null when
 * M == m (the reference passes such tensors through unquantized).
 */
export function quantizationCodes(y: Tensor, bits: number, range: QuantRange): Tensor | null {
  checkBits(bits, 'quantize');
  return tidy(() => {
    const y0 = y.detach();
    const lo = typeof range.min === 'number' ? range.min : range.min.item();
    const hi = typeof range.max === 'number' ? range.max : range.max.item();
    if (!(hi > lo)) return null;
    const scale = ((1 << bits) - 1) / (hi - lo);
    return y0.sub(lo).mul(scale).round().clamp(0, (1 << bits) - 1);
  });
}

/**
 * Uniform asymmetric fake quantization over [min, max] (per tensor) with a straight-through
 * rounding gradient. Returns the dequantized tensor and the integer codes (as float values).
 */
export function fakeQuantize(y: Tensor, bits: number, range: QuantRange): { value: Tensor; codes: Tensor | null } {
  return tidy(() => {
    const codes = quantizationCodes(y, bits, range);
    if (codes === null) return { value: y.mul(1), codes: null };
    const lo = typeof range.min === 'number' ? range.min : range.min.item();
    const hi = typeof range.max === 'number' ? range.max : range.max.item();
    const step = (hi - lo) / ((1 << bits) - 1);
    const dequant = codes.mul(step).add(lo);
    return { value: straightThrough(y, dequant), codes };
  });
}

/**
 * Per-channel variant (dim 1): each channel uses its own min/max. Channels with max == min are
 * passed through. Codes are returned per element.
 */
export function fakeQuantizePerChannel(y: Tensor, bits: number): { value: Tensor; codes: Tensor } {
  checkBits(bits, 'quantize');
  return tidy(() => {
    const y0 = y.detach();
    const dims = y.shape.map((_, i) => i).filter((i) => i !== 1);
    const lo = y0.amin(dims, true), hi = y0.amax(dims, true);
    const levels = (1 << bits) - 1;
    const span = hi.sub(lo);
    const safeSpan = span.where(span.gt(0), 1);
    const codes = y0.sub(lo).div(safeSpan).mul(levels).round().clamp(0, levels);
    const dequant = codes.mul(safeSpan).div(levels).add(lo).where(span.gt(0), y0);
    return { value: straightThrough(y, dequant), codes };
  });
}
