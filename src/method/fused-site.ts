// The fused CAT site: the addon's catkit::cat_site operator (native/src/cat_site.cc) computes
// activation → learned clip → round-to-grid (and, when asked, the integer codes, their histogram
// and the soft-entropy sample) in one reduction and one elementwise pass, and its backward in one
// pass. It gives the same bits as the composite in quantize.ts (which stays the path for other
// dtypes and per-channel ranges, and the reference the tests hold the fused op to).
import { Tensor, keep, randperm, tensor, tidy, type DType } from '../tensor/index.js';
import { catkitOp } from '../tensor/ops.js';
import { wrap, wrapMaybe } from '../tensor/tensor.js';
import type { OpResult } from '../tensor/native.js';
import { REFERENCE_SAMPLING, type ActivationSampling } from './soft-entropy.js';

/** The activation the op applies first ('none': the input is already the site's output). */
export type FusedActivation = 'none' | 'relu' | 'relu6';
/** The learned clip: none, min(y, |c|), or clamp(y, −|c|, |c|). */
export type FusedClip = 'none' | 'upper' | 'symmetric';

export interface FusedSiteOptions {
  activation: FusedActivation;
  /** The clip parameter (its |value| is the bound); needed unless clipMode is 'none'. */
  clip: Tensor | null;
  clipMode: FusedClip;
  /** 'tensor': the grid spans the clipped tensor's min … max; 'clip': it spans [0 or −|c|, |c|] (codes clamped). */
  range: 'tensor' | 'clip';
  bits: number;
  /** false: only activation and clip (gradual mode's sites that do not quantize yet). */
  quantize: boolean;
  /** Logical flat indices of the elements to return un-rounded as `sample` (differentiable). */
  sampleIndex?: Tensor | null;
  codes?: boolean;
  histogram?: boolean;
  /** Count only the codes of the first n entries along dim 0 (0: all). */
  histogramRows?: number;
}

export interface FusedSiteResult {
  /** The fake-quantized (or only clipped) activations, laid out like the input. */
  value: Tensor;
  /** The clipped, un-rounded values at sampleIndex, in its order; null without a sampleIndex. */
  sample: Tensor | null;
  /** Integer codes 0 … 2^b − 1 in the input's dtype and layout, when asked. */
  codes: Tensor | null;
  /** int64 counts of each code (length 2^b), when asked. */
  histogram: Tensor | null;
}

const ACTIVATION = { none: 0, relu: 1, relu6: 2 } as const;
const CLIP = { none: 0, upper: 1, symmetric: 2 } as const;
const RANGE = { tensor: 0, clip: 1 } as const;

let fusedOn = true;

/**
 * Switches the fused op off (sites then run the composite of ATen ops) or
 * back on; returns the previous setting. For A/B checks of results and speed.
 */
export function useFusedSites(on: boolean): boolean {
  const was = fusedOn;
  fusedOn = on;
  return was;
}

/** True when the fused op is on and handles tensors of this dtype (float32 and float64). */
export function fusedDtype(dtype: DType): boolean { return fusedOn && (dtype === 'float32' || dtype === 'float64'); }

/** Runs catkit::cat_site. Gradients reach x and the clip (PACT: the sum of the gradient where the clip cut). */
export function fusedSite(x: Tensor, o: FusedSiteOptions): FusedSiteResult {
  if (!Number.isInteger(o.bits) || o.bits < 1 || o.bits > 16) throw new RangeError(`fused CAT site: bit width must be an integer from 1 to 16, got ${o.bits}`);
  const r = catkitOp('cat_site').call([
    x.handle, o.clip?.handle ?? null, ACTIVATION[o.activation], CLIP[o.clipMode], RANGE[o.range], o.bits, o.quantize,
    o.sampleIndex?.handle ?? null, o.codes ?? false, o.histogram ?? false, o.histogramRows ?? 0,
  ]) as OpResult[];
  const value = wrap(r[0]!), sample = wrap(r[1]!);
  const hasSample = o.sampleIndex != null;
  if (!hasSample) sample.dispose();
  return { value, sample: hasSample ? sample : null, codes: wrapMaybe(r[2]!), histogram: wrapMaybe(r[3]!) };
}

const strideIndexCache = new Map<string, Tensor>();

/**
 * The logical flat indices `sampleActivations` (soft-entropy.ts) takes from a tensor of this
 * shape, in its order: every `stride`-th position of the first `images` images, all channels
 * ([N,C,H,W]; rank 2 and 3 count as one channel). Random sampling draws a fresh subset each call
 * (the same random stream as sampleActivations).
 */
export function sampleIndex(shape: readonly number[], o: ActivationSampling = {}): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (o.randomValues !== undefined) {
    const k = Math.min(o.randomValues, size);
    return tidy(() => randperm(size).narrow(0, 0, k));
  }
  if (shape.length < 2) throw new RangeError(`softEntropy: activations must have a batch dim, got shape [${shape.join(', ')}]`);
  const stride = o.stride ?? REFERENCE_SAMPLING.stride;
  const n = shape[0]!;
  const images = Math.min(o.images ?? REFERENCE_SAMPLING.images, n);
  const key = `${shape.join(',')}|${stride}|${images}`;
  let cached = strideIndexCache.get(key);
  if (!cached) {
    const c = shape.length === 4 ? shape[1]! : 1;
    const perImage = size / n / c;
    const idx: number[] = [];
    for (let i = 0; i < images; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < perImage; p += stride) idx.push((i * c + ch) * perImage + p);
    cached = keep(tensor(idx, [idx.length], { dtype: 'int64' }));
    if (strideIndexCache.size >= 256) { // shapes vary (last batch, detection sizes): keep the cache bounded
      const [oldKey, old] = strideIndexCache.entries().next().value as [string, Tensor];
      strideIndexCache.delete(oldKey);
      old.dispose();
    }
    strideIndexCache.set(key, cached);
  }
  return cached;
}
