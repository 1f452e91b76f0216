// Inference shortcuts for module chains, taken only without autograd, where they cannot change what a
// gradient sees. On by default (bit-identical results): a ReLU / ReLU6 right after a conv or BN acts in
// place on that fresh output instead of allocating another activation-sized tensor (residual sums
// likewise, in the models). Opt-in (setEvalFusion({ foldBatchNorm: true })): in eval mode a Conv2d
// followed by a BatchNorm2d (running statistics) runs as one convolution with the normalisation folded
// into its weights and bias — exact up to float rounding (≲ 1e-6 relative per layer; tested within
// 1e-4 of the output range on ResNet-18/50 and MobileNetV2), which is enough to reorder near-tied
// scores, hence not the default. Quantized layers (subclasses) are never folded: their grid would change.
import { F, isGradEnabled, type Tensor } from '../tensor/index.js';
import type { AnyModule } from './module.js';
import { Conv2d } from './layers/conv.js';
import { BatchNorm2d } from './layers/norm.js';
import { ReLU, ReLU6 } from './layers/activation.js';
import { isTransient } from './transient.js';

export interface EvalFusion {
  /** In-place ReLU / residual sums without autograd (default true; bit-identical). */
  inPlace: boolean;
  /** Fold Conv2d + BatchNorm2d in eval mode (default false; float rounding differs). */
  foldBatchNorm: boolean;
}
let settings: EvalFusion = { inPlace: true, foldBatchNorm: false };

/** Changes the shortcuts (unspecified fields keep their value); returns the previous settings. */
export function setEvalFusion(o: Partial<EvalFusion>): EvalFusion {
  const was = settings;
  settings = { ...settings, ...o };
  return was;
}
/** True when in-place shortcuts apply (used by the models' residual sums). */
export const evalFusionEnabled = (): boolean => settings.inPlace;

const isPlainConv = (m: AnyModule): m is Conv2d => m.constructor === Conv2d;
const isPlainBn = (m: AnyModule): m is BatchNorm2d => m.constructor === BatchNorm2d;
const kindOf = (m: AnyModule): unknown => m.constructor;
const isFresh = (m: AnyModule | undefined): boolean => !!m && (m.constructor === Conv2d || m.constructor === BatchNorm2d);

/**
 * conv then bn as one convolution with w' = w·γ/√(σ²+ε), b' = β + (b − μ)·γ/√(σ²+ε). Folding costs a
 * pass over the weights each call, so it is taken only when the activations it saves a pass over are
 * larger (per output channel: N·H_out·W_out values against C_in/groups·k_h·k_w weights).
 */
function foldedConvBn(conv: Conv2d, bn: BatchNorm2d, x: Tensor): Tensor | null {
  if (conv.training || bn.training || !bn.tracksRunningStats || x.rank !== 4) return null;
  const [n, , h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = conv.kernelSize;
  const hOut = Math.floor((h + 2 * conv.padding[0] - conv.dilation[0] * (kh - 1) - 1) / conv.stride[0]) + 1;
  const wOut = Math.floor((w + 2 * conv.padding[1] - conv.dilation[1] * (kw - 1) - 1) / conv.stride[1]) + 1;
  if (n * hOut * wOut < ((conv.inChannels / conv.groups) * kh * kw)) return null;
  const weight = conv.weight;
  const c = weight.shape[0]!;
  const scale = bn.buffer('running_var').add(bn.eps).rsqrt();
  const gamma = bn.weight;
  if (gamma) { const s = scale.mul(gamma); scale.dispose(); return finish(s); }
  return finish(scale);

  function finish(s: Tensor): Tensor {
    const s4 = s.view([c, 1, 1, 1]);
    const wf = weight.mul(s4);
    const shift = conv.bias ? conv.bias.sub(bn.buffer('running_mean')) : bn.buffer('running_mean').neg();
    const shifted = shift.mul(s);
    const bias = bn.bias ? shifted.add(bn.bias) : shifted;
    const out = F.conv2d(x, wf, bias, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups });
    for (const t of new Set([s, s4, wf, shift, shifted, bias])) t.dispose();
    return out;
  }
}

/**
 * Applies `modules` in order. Each intermediate (never the input `x`) is disposed once consumed: always
 * with release 'all' (pipe's contract), with 'transient' only where both the module that made it and
 * the one that consumed it are transient (transient.ts; Sequential's choice). Other intermediates are
 * left to the caller's tidy scope.
 */
export function runChain(x: Tensor, modules: readonly AnyModule[], release: 'all' | 'transient'): Tensor {
  const { inPlace, foldBatchNorm } = settings;
  const fast = (inPlace || foldBatchNorm) && !isGradEnabled();
  let y = x;
  let madeByTransient = false;  // whether the module that made y is transient
  for (let i = 0; i < modules.length; i++) {
    const m = modules[i]!;
    let next: Tensor | null = null;
    let last = m;  // the last module this step ran (the BN when a pair was folded)
    if (fast) {
      const after = modules[i + 1];
      if (foldBatchNorm && after && isPlainConv(m) && isPlainBn(after)) {
        next = foldedConvBn(m, after, y);
        if (next) last = modules[++i]!;
      }
      if (!next && inPlace && y !== x && isFresh(modules[i - 1]) && (kindOf(m) === ReLU || kindOf(m) === ReLU6)) {
        next = y.clamp_(0, kindOf(m) === ReLU6 ? 6 : null);
      }
    }
    next ??= m.forward(y) as Tensor;
    const transient = release === 'transient' && isTransient(last) && (last === m || isTransient(m));
    if (y !== x && next !== y && (release === 'all' || (transient && madeByTransient))) y.dispose();
    // A module that handed back its input leaves y's maker as it was.
    madeByTransient = next === y ? madeByTransient && transient : transient;
    y = next;
  }
  return y;
}
