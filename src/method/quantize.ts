// Fake quantization with straight-through gradients, as in CAT's ReLUProj / Conv2d2.
import { Tensor, tidy } from '../tensor/index.js';
import { call1 } from '../tensor/tensor.js';
import { fusedDtype, fusedSite } from './fused-site.js';

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
 * PACT-style clipping to [0, |c|] of a non-negative (post-ReLU) x: min(x, |c|). Same values and
 * gradients as the reference's relu(x) - relu(x - |c|) on such inputs — 1 w.r.t. x below the clip,
 * sign(c) w.r.t. c where x > |c| — in one fused op.
 */
export function clipToLearned(x: Tensor, clip: Tensor): Tensor {
  return tidy(() => x.relu().clamp(null, clip.abs()));
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
 * rounding gradient. Returns the dequantized tensor and, when asked, the integer codes.
 */
export function fakeQuantize(y: Tensor, bits: number, range: QuantRange, o: { codes?: boolean } = { codes: true }): { value: Tensor; codes: Tensor | null } {
  checkBits(bits, 'quantize');
  return tidy(() => {
    const lo = typeof range.min === 'number' ? range.min : range.min.item();
    const hi = typeof range.max === 'number' ? range.max : range.max.item();
    if (!(hi > lo)) return { value: y.mul(1), codes: null };
    const levels = (1 << bits) - 1;
    const step = (hi - lo) / levels;
    if (lo === 0) {
      // Post-ReLU ranges start at 0: libtorch's fused fake-quantize op gives exactly
      // round(y / step) · step with an identity gradient inside the range, in one pass.
      const value = call1('fake_quantize_per_tensor_affine', '', [y.handle, step, 0, 0, levels]);
      return { value, codes: o.codes ? quantizationCodes(y, bits, range) : null };
    }
    const codes = quantizationCodes(y, bits, range)!;
    const dequant = codes.mul(step).add(lo);
    return { value: straightThrough(y, dequant), codes: o.codes ? codes : null };
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

/**
 * Dynamic per-tensor fake quantization over the tensor's own [min, max] (the reference's
 * part_quant): q = round((y − m)·(2^b − 1)/(M − m)), output q/s + m, with an identity gradient.
 * Nothing is read back to the host: the range stays a tensor. A constant tensor (M = m) comes back unchanged with codes 0.
 * The range is detached (no gradient flows through min/max), as in `fakeQuantize`. Float32/float64
 * run the fused native op (one min/max pass and one rounding pass; same bits as the composite).
 */
export function fakeQuantizeDynamic(y: Tensor, bits: number, o: CodeOptions = {}): { value: Tensor; codes: Tensor | null } {
  checkBits(bits, 'quantize');
  if (fusedDtype(y.dtype)) {
    const r = fusedSite(y, { activation: 'none', clip: null, clipMode: 'none', range: 'tensor', bits, quantize: true, codes: o.codes ?? false });
    const rows = o.codeRows ?? 0;
    if (r.codes && rows > 0 && r.codes.rank >= 1 && r.codes.shape[0]! > rows) return { value: r.value, codes: tidy(() => r.codes!.narrow(0, 0, rows).clone()) };
    return { value: r.value, codes: r.codes };
  }
  return fakeQuantizeDynamicComposite(y, bits, o);
}

/** fakeQuantizeDynamic from ATen ops (any floating dtype; the reference the fused op is tested against). */
export function fakeQuantizeDynamicComposite(y: Tensor, bits: number, o: CodeOptions = {}): { value: Tensor; codes: Tensor | null } {
  checkBits(bits, 'quantize');
  return tidy(() => {
    const [lo, hi] = y.detach().aminmax() as [Tensor, Tensor];
    return quantizeShifted(y, bits, lo, hi.sub(lo), o);
  });
}

/** Which integer codes a fake quantization also returns. */
export interface CodeOptions {
  codes?: boolean;
  /** Codes of the first n entries of dim 0 only (a batch's first n images; 0: all). */
  codeRows?: number;
}

/**
 * Fake quantization onto a fixed grid [lo, hi] given as tensors (the learned clip range; lo null
 * means 0), without host reads. Values outside are clamped onto the ends (zero gradient there).
 */
export function fakeQuantizeToRange(y: Tensor, bits: number, lo: Tensor | null, hi: Tensor, o: CodeOptions = {}): { value: Tensor; codes: Tensor | null } {
  checkBits(bits, 'quantize');
  return tidy(() => {
    const lo0 = lo?.detach() ?? null, hi0 = hi.detach();
    return quantizeShifted(y, bits, lo0, lo0 ? hi0.sub(lo0) : hi0, o, true);
  });
}

/**
 * The reference's q = round((y − lo)·s) with s = levels/span, output q/s + lo, straight-through:
 * the correction q/s + lo − y is computed in place on one detached buffer and added to y, so the
 * forward costs one allocation plus in-place passes and the backward nothing (identity).
 */
function quantizeShifted(y: Tensor, bits: number, lo: Tensor | null, span: Tensor, o: CodeOptions, clampCodes = false): { value: Tensor; codes: Tensor | null } {
  const levels = (1 << bits) - 1;
  const scale = span.where(span.gt(0), 1).reciprocal().mul(levels);
  const y0 = y.detach();
  const t = lo ? y0.sub(lo) : y0.clone();
  t.mul_(scale).round_();
  if (clampCodes) t.clamp_(0, levels);
  const rows = o.codeRows ?? 0;
  const codes = !o.codes ? null : rows > 0 && t.rank >= 1 && t.shape[0]! > rows ? t.narrow(0, 0, rows).clone() : t.clone();
  t.div_(scale);
  if (lo) t.add_(lo);
  t.sub_(y0);
  return { value: y.add(t), codes };
}
