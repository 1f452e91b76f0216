// The differentiable entropy estimate of CAT (reference: customLoss.py / operations.py soft_entropy):
// a sample of the un-rounded clipped activations is mapped onto the integer grid by the sample's own
// min/max, softly assigned to the 2^b bin centres with softmax(-T·(u-k)^2), averaged into a soft
// histogram, and the histogram's Shannon entropy (bits) is returned with gradients to the activations.
import { Tensor, arange, randperm, tidy, F } from '../tensor/index.js';

export interface ActivationSampling {
  /** Spatial stride within each sampled image (reference: 16). */
  stride?: number;
  /** Number of leading images of the batch to sample (reference: 1). */
  images?: number;
  /** If set, instead take this many values uniformly at random from the whole tensor. */
  randomValues?: number;
}

export const REFERENCE_SAMPLING: Required<Omit<ActivationSampling, 'randomValues'>> = { stride: 16, images: 1 };

/**
 * The values the entropy is estimated from, as a 1-D tensor. For [N,C,H,W] the reference takes
 * every `stride`-th spatial position of the first `images` images, all channels; rank-2 [N,F]
 * and rank-3 [N,T,F] tensors are treated as images with H·W = F or T·F.
 */
export function sampleActivations(y: Tensor, o: ActivationSampling = {}): Tensor {
  return tidy(() => {
    if (o.randomValues !== undefined) {
      const flat = y.reshape([-1]);
      const k = Math.min(o.randomValues, flat.shape[0]!);
      return flat.indexSelect(0, randperm(flat.shape[0]!).narrow(0, 0, k));
    }
    const stride = o.stride ?? REFERENCE_SAMPLING.stride;
    const images = Math.min(o.images ?? REFERENCE_SAMPLING.images, y.shape[0]!);
    if (y.rank < 2) throw new RangeError(`softEntropy: activations must have a batch dim, got shape [${y.shape.join(', ')}]`);
    const n = y.shape[0]!;
    const c = y.rank === 4 ? y.shape[1]! : 1;
    const perImage = y.size / n / c;
    // [N, C, P] → first `images` images, every stride-th position, all channels.
    // Narrow before reshaping: a channels-last tensor copies on reshape, so only the sampled images are copied.
    return y.narrow(0, 0, images).reshape([images, c, perImage]).slice(2, 0, perImage, stride).reshape([-1]);
  });
}

export interface SoftEntropyOptions {
  /** Quantizer bit width b: the grid has 2^b bins. */
  bits: number;
  /** Inverse kernel width T in softmax(-T·d²); reference 10. */
  temperature?: number;
}

/**
 * Soft-histogram entropy (bits) of a 1-D sample. Returns a scalar tensor that is exactly zero
 * (zero gradient) when the sample is constant, as the reference does.
 */
export function softEntropyOfSample(sample: Tensor, o: SoftEntropyOptions): Tensor {
  const { bits } = o;
  const temperature = o.temperature ?? 10;
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`softEntropy: bits must be an integer in 1..16, got ${bits}`);
  return tidy(() => {
    const lo = sample.min(), hi = sample.max(); // differentiable (aminmax is not): the clip learns through max
    const range = hi.sub(lo);
    // No host read: a constant sample gets a placeholder range and the result is masked to 0.
    const varied = range.gt(0);
    const levels = (1 << bits) - 1;
    const u = sample.sub(lo).mul(levels).div(range.where(varied, 1));   // continuous positions on the integer grid
    const centres = arange(0, levels + 1, 1, { dtype: sample.dtype });
    const d2 = u.unsqueeze(1).sub(centres.unsqueeze(0)).square();        // [S, 2^b]
    const assign = F.softmax(d2.mul(-temperature), 1);
    const p = assign.mean(0);                                             // soft histogram
    const safe = p.where(p.gt(0), 1);                                     // 0·log 0 = 0 with a finite gradient
    return p.mul(safe.log2()).sum().neg().where(varied, 0);
  });
}

/** Soft entropy of an activation tensor, sampled as the reference does unless told otherwise. */
export function softEntropy(y: Tensor, o: SoftEntropyOptions & { sampling?: ActivationSampling }): Tensor {
  return tidy(() => softEntropyOfSample(sampleActivations(y, o.sampling), o));
}

/**
 * The "compression" alternative loss: ‖y‖₁ / ‖y‖₂ over the whole tensor (1 … √n; smallest for
 * sparse, peaky tensors). Zero tensors give 0.
 */
export function l1l2Ratio(y: Tensor): Tensor {
  return tidy(() => {
    const l2 = y.norm(2);
    const nonzero = l2.gt(0);
    return y.norm(1).div(l2.where(nonzero, 1)).where(nonzero, 0);
  });
}

/**
 * Soft entropy of a random `fraction` of a weight tensor on the 8-bit grid (reference: 5 %,
 * bits 8 regardless of the weight quantizer's width, a fresh subset each call).
 */
export function weightSoftEntropy(w: Tensor, o: { fraction?: number; bits?: number; temperature?: number } = {}): Tensor {
  const fraction = o.fraction ?? 0.05;
  return tidy(() => {
    const flat = w.reshape([-1]);
    const k = Math.max(2, Math.floor(flat.shape[0]! * fraction));
    const sample = k >= flat.shape[0]! ? flat : flat.indexSelect(0, randperm(flat.shape[0]!).narrow(0, 0, k));
    return softEntropyOfSample(sample, { bits: o.bits ?? 8, temperature: o.temperature });
  });
}
