// Neural-network operators (convolution, pooling, normalisation, activations, losses), validated
// at the boundary so shape mistakes read as catkit messages, then run by one ATen operator each.
import { Tensor, call1 } from './tensor.js';
import { isFloating } from './dtype.js';

export type Pair = number | readonly [number, number];
export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;

function pair(v: Pair, name: string, op: string): number[] {
  const p = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new RangeError(`${op}: ${name} must be a non-negative integer or a pair, got ${JSON.stringify(v)}`);
  }
  return p;
}
function reduction(r: Reduction | undefined, op: string): number {
  const code = REDUCTION[r ?? 'mean'];
  if (code === undefined) throw new RangeError(`${op}: reduction must be 'none', 'mean' or 'sum', got '${r}'`);
  return code;
}
function expectRank(t: Tensor, ranks: number[], what: string, op: string): void {
  if (!ranks.includes(t.rank)) throw new RangeError(`${op}: ${what} must be rank ${ranks.join(' or ')}, got shape [${t.shape.join(', ')}]`);
}

export interface Conv2dOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }

/** 2-D convolution of x [N,C,H,W] with weight [O, C/groups, kh, kw]; groups = C gives depthwise. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  const groups = o.groups ?? 1;
  expectRank(x, [4], 'input', 'conv2d');
  expectRank(weight, [4], 'weight', 'conv2d');
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`conv2d: groups must be a positive integer, got ${groups}`);
  if (x.shape[1] !== weight.shape[1]! * groups) {
    throw new RangeError(`conv2d: input has ${x.shape[1]} channels, weight [${weight.shape.join(', ')}] expects ${weight.shape[1]! * groups} (groups=${groups})`);
  }
  if (weight.shape[0]! % groups !== 0) throw new RangeError(`conv2d: ${weight.shape[0]} output channels are not divisible by groups=${groups}`);
  for (const [name, t] of [['input', x], ['weight', weight], ['bias', bias]] as const) {
    if (t && !isFloating(t.dtype)) throw new TypeError(`conv2d: ${name} must be floating point, got ${t.dtype}`);
    if (t && t.dtype !== x.dtype) throw new TypeError(`conv2d: ${name} is ${t.dtype} but input is ${x.dtype}; convert one with .to()`);
  }
  return call1('conv2d', '', [x.handle, weight.handle, bias?.handle ?? null, pair(o.stride ?? 1, 'stride', 'conv2d'),
    pair(o.padding ?? 0, 'padding', 'conv2d'), pair(o.dilation ?? 1, 'dilation', 'conv2d'), groups]);
}

/** y = x Wᵀ + b, x [..., in], weight [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  expectRank(weight, [2], 'weight', 'linear');
  if (x.rank < 1) throw new RangeError('linear: input must have at least one dim, got a scalar');
  if (x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new RangeError(`linear: input's last dim is ${x.shape[x.rank - 1]}, weight [${weight.shape.join(', ')}] expects ${weight.shape[1]}`);
  }
  return call1('linear', '', [x.handle, weight.handle, bias?.handle ?? null]);
}

/**
 * Constant padding of the trailing dims; `pads` lists (before, after) pairs from the last dim
 * backwards, as torch.nn.functional.pad: [left, right, top, bottom] pads W then H.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.rank || !pads.every(Number.isInteger)) {
    throw new RangeError(`pad: pads must be integer (before, after) pairs for at most ${x.rank} dims, got [${pads.join(', ')}]`);
  }
  return call1('constant_pad_nd', '', [x.handle, [...pads], value]);
}

/** Bilinear resize of x [N, C, H, W] to [size[0], size[1]] (align_corners false, as torch's default). */
export function resizeBilinear(x: Tensor, size: Pair): Tensor {
  expectRank(x, [4], 'input', 'resizeBilinear');
  return call1('upsample_bilinear2d', '', [x.handle, pair(size, 'size', 'resizeBilinear'), false, null, null]);
}

export interface Pool2dOptions { stride?: Pair; padding?: Pair; ceilMode?: boolean }
export function maxPool2d(x: Tensor, kernel: Pair, o: Pool2dOptions & { dilation?: Pair } = {}): Tensor {
  expectRank(x, [3, 4], 'input', 'maxPool2d');
  return call1('max_pool2d', '', [x.handle, pair(kernel, 'kernel', 'maxPool2d'), pair(o.stride ?? kernel, 'stride', 'maxPool2d'),
    pair(o.padding ?? 0, 'padding', 'maxPool2d'), pair(o.dilation ?? 1, 'dilation', 'maxPool2d'), o.ceilMode ?? false]);
}
export function avgPool2d(x: Tensor, kernel: Pair, o: Pool2dOptions & { countIncludePad?: boolean } = {}): Tensor {
  expectRank(x, [3, 4], 'input', 'avgPool2d');
  return call1('avg_pool2d', '', [x.handle, pair(kernel, 'kernel', 'avgPool2d'), pair(o.stride ?? kernel, 'stride', 'avgPool2d'),
    pair(o.padding ?? 0, 'padding', 'avgPool2d'), o.ceilMode ?? false, o.countIncludePad ?? true, null]);
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  expectRank(x, [3, 4], 'input', 'adaptiveAvgPool2d');
  return call1('adaptive_avg_pool2d', '', [x.handle, pair(outputSize, 'outputSize', 'adaptiveAvgPool2d')]);
}

export interface BatchNormOptions {
  weight?: Tensor | null; bias?: Tensor | null; runningMean?: Tensor | null; runningVar?: Tensor | null;
  training: boolean; momentum?: number; eps?: number;
}
/** Batch norm over dim 1; in training, running stats (when given) are updated in place. */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  if (x.rank < 2) throw new RangeError(`batchNorm: input must have a channel dim, got shape [${x.shape.join(', ')}]`);
  const c = x.shape[1];
  for (const [name, t] of [['weight', o.weight], ['bias', o.bias], ['runningMean', o.runningMean], ['runningVar', o.runningVar]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new RangeError(`batchNorm: ${name} has shape [${t.shape.join(', ')}], input has ${c} channels`);
  }
  if (!o.training && (!o.runningMean || !o.runningVar)) throw new Error('batchNorm: eval mode needs runningMean and runningVar');
  return call1('batch_norm', '', [x.handle, o.weight?.handle ?? null, o.bias?.handle ?? null, o.runningMean?.handle ?? null,
    o.runningVar?.handle ?? null, o.training, o.momentum ?? 0.1, o.eps ?? 1e-5, false]);
}

export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const tail = x.shape.slice(x.rank - normalizedShape.length);
  if (tail.join() !== normalizedShape.join()) {
    throw new RangeError(`layerNorm: input shape [${x.shape.join(', ')}] does not end with normalized shape [${normalizedShape.join(', ')}]`);
  }
  return call1('layer_norm', '', [x.handle, [...normalizedShape], weight?.handle ?? null, bias?.handle ?? null, eps, false]);
}

export const softmax = (x: Tensor, dim = -1): Tensor => call1('softmax', 'int', [x.handle, dim, null]);
export const logSoftmax = (x: Tensor, dim = -1): Tensor => call1('log_softmax', 'int', [x.handle, dim, null]);
export const relu = (x: Tensor): Tensor => x.relu();
export const relu6 = (x: Tensor): Tensor => x.relu6();
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => x.gelu(approximate);
/** x·relu6(x + 3)/6 (MobileNetV3). */
export const hardswish = (x: Tensor): Tensor => call1('hardswish', '', [x.handle]);
/** relu6(x + 3)/6 (MobileNetV3's squeeze-excitation gate). */
export const hardsigmoid = (x: Tensor): Tensor => call1('hardsigmoid', '', [x.handle]);

/** x / max(‖x‖_p along dim, eps), as torch.nn.functional.normalize. */
export function normalize(x: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor {
  const norm = call1('linalg_vector_norm', '', [x.handle, p, [dim], true, null]);
  const denom = norm.clamp(eps);
  norm.dispose();
  const y = x.div(denom);
  denom.dispose();
  return y;
}

/** Inverted dropout: zeroes with probability p and scales by 1/(1-p) in training; identity otherwise. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  return call1('dropout', '', [x.handle, p, training]);
}

/** Rows of weight [num, dim] picked by integer indices. */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx = -1): Tensor {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new TypeError(`embedding: indices must be int64 or int32, got ${indices.dtype}`);
  return call1('embedding', '', [weight.handle, indices.handle, paddingIdx, false, false]);
}

// ---- losses ----
export interface CrossEntropyOptions { weight?: Tensor | null; ignoreIndex?: number; labelSmoothing?: number; reduction?: Reduction }
/** Softmax cross-entropy of logits [N, C, ...] against class indices [N, ...] (int64). */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  if (target.dtype !== 'int64') throw new TypeError(`crossEntropy: target must hold int64 class indices, got ${target.dtype}`);
  if (logits.rank < 2 || target.shape[0] !== logits.shape[0]) {
    throw new RangeError(`crossEntropy: logits [${logits.shape.join(', ')}] and target [${target.shape.join(', ')}] disagree on the batch size`);
  }
  const ls = o.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${ls}`);
  return call1('cross_entropy_loss', '', [logits.handle, target.handle, o.weight?.handle ?? null, reduction(o.reduction, 'crossEntropy'), o.ignoreIndex ?? -100, ls]);
}
export function nllLoss(logProbs: Tensor, target: Tensor, o: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction } = {}): Tensor {
  if (target.dtype !== 'int64') throw new TypeError(`nllLoss: target must hold int64 class indices, got ${target.dtype}`);
  return call1('nll_loss', '', [logProbs.handle, target.handle, o.weight?.handle ?? null, reduction(o.reduction, 'nllLoss'), o.ignoreIndex ?? -100]);
}
function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.join() !== b.shape.join()) throw new RangeError(`${op}: input [${a.shape.join(', ')}] and target [${b.shape.join(', ')}] must have the same shape`);
}
export function mseLoss(x: Tensor, target: Tensor, r?: Reduction): Tensor {
  sameShape(x, target, 'mseLoss');
  return call1('mse_loss', '', [x.handle, target.handle, reduction(r, 'mseLoss')]);
}
/** Huber-style loss: quadratic below beta, linear above. */
export function smoothL1Loss(x: Tensor, target: Tensor, o: { beta?: number; reduction?: Reduction } = {}): Tensor {
  sameShape(x, target, 'smoothL1Loss');
  return call1('smooth_l1_loss', '', [x.handle, target.handle, reduction(o.reduction, 'smoothL1Loss'), o.beta ?? 1.0]);
}
/** BCE on probabilities in [0, 1]. */
export function binaryCrossEntropy(p: Tensor, target: Tensor, o: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  sameShape(p, target, 'binaryCrossEntropy');
  return call1('binary_cross_entropy', '', [p.handle, target.handle, o.weight?.handle ?? null, reduction(o.reduction, 'binaryCrossEntropy')]);
}
/** BCE on logits (numerically stable sigmoid + BCE). */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, o: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  sameShape(logits, target, 'binaryCrossEntropyWithLogits');
  return call1('binary_cross_entropy_with_logits', '', [logits.handle, target.handle, o.weight?.handle ?? null, o.posWeight?.handle ?? null, reduction(o.reduction, 'binaryCrossEntropyWithLogits')]);
}

// ---- counting ----
/** Histogram of float values into `bins` equal bins over [min, max] (both 0: the data's range). */
export const histc = (x: Tensor, bins = 100, min = 0, max = 0): Tensor => call1('histc', '', [x.handle, bins, min, max]);
/** Occurrences of each non-negative integer in a 1-D int tensor. */
export function bincount(x: Tensor, minlength = 0, weights: Tensor | null = null): Tensor {
  if (x.rank !== 1) throw new RangeError(`bincount: input must be 1-D, got shape [${x.shape.join(', ')}]`);
  return call1('bincount', '', [x.handle, weights?.handle ?? null, minlength]);
}
