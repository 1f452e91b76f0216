// Weight fake quantization by module swap (torch.ao's qat.Conv2d pattern): QuantConv2d / QuantLinear
// are subclasses that take over an existing layer's tensors under the same names, and whose
// forward convolves with the per-tensor min/max b-bit quantized weight (reference Conv2d2). The
// gradient is straight-through, so it is computed with quantized weights and applied to the float
// ones; the state dict, the optimizer and the weight entropy term all see the float weight.
import { F, isGradEnabled, tidy, type Tensor } from '../tensor/index.js';
import { Conv2d, Linear } from '../nn/index.js';
import { checkBits } from './quantize.js';

/** w's per-tensor grid: its minimum and the multiplier s = (2^b − 1)·(1/(max − min)) in float32 (span 0 counts as 1). */
function weightGrid(w0: Tensor, bits: number): { lo: Tensor; s: Tensor } {
  const [lo, hi] = w0.aminmax() as [Tensor, Tensor];
  const span = hi.sub(lo);
  return { lo, s: span.where(span.gt(0), 1).reciprocal().mul((1 << bits) - 1) };
}

/**
 * The b-bit codes round((w − min)·s) of w over its own [min, max] (no gradient) — the codes the
 * forward's weight is a function of, so the ledger codes exactly what the model computes with.
 */
export function weightCodes(w: Tensor, bits: number): Tensor {
  checkBits(bits, 'weightCodes');
  return tidy(() => {
    const w0 = w.detach();
    const { lo, s } = weightGrid(w0, bits);
    return w0.sub(lo).mul_(s).round_();
  });
}

/**
 * Fake-quantized copy of w over its own [min, max]: exactly code/s + min with the codes of
 * `weightCodes`, the arithmetic of the activation quantizer. The value is a function of the codes
 * alone (a model file holding the codes reproduces it bit for bit, src/export/weights.ts); the
 * gradient reaches w unchanged (straight-through) by adding w − w.detach(), which is exactly 0.
 * No host reads.
 */
export function quantizeWeightTensor(w: Tensor, bits: number): Tensor {
  return tidy(() => {
    const w0 = w.detach();
    const { lo, s } = weightGrid(w0, bits);
    const q = w0.sub(lo);
    q.mul_(s).round_().div_(s).add_(lo);
    return w.requiresGrad && isGradEnabled() ? q.add(w.sub(w0)) : q;
  });
}

export class QuantConv2d extends Conv2d {
  /**
   * Takes over `source`'s weight and bias tensors (same objects, same names). `source` itself only
   * convolves (a subclass keeps its own padding, e.g. Keras' stride-2 convolutions) and is what
   * detaching puts back.
   */
  constructor(readonly source: Conv2d, readonly bits: number) {
    super(source.inChannels, source.outChannels, source.kernelSize, {
      stride: source.stride, padding: source.padding, dilation: source.dilation, groups: source.groups, bias: source.bias !== null, init: false,
    });
    checkBits(bits, 'QuantConv2d');
    this.registerParameter('weight', source.weight, { requiresGrad: source.weight.requiresGrad });
    if (source.bias) this.registerParameter('bias', source.bias, { requiresGrad: source.bias.requiresGrad });
    this.training = source.training;
  }

  /** The weight the forward uses. */
  quantizedWeight(): Tensor { return quantizeWeightTensor(this.weight, this.bits); }

  override forward(x: Tensor): Tensor {
    return tidy(() => this.source.convolve(x, this.quantizedWeight(), this.bias));
  }
}

export class QuantLinear extends Linear {
  constructor(linear: Linear, readonly bits: number) {
    super(linear.inFeatures, linear.outFeatures, { bias: linear.bias !== null, init: false });
    checkBits(bits, 'QuantLinear');
    this.registerParameter('weight', linear.weight, { requiresGrad: linear.weight.requiresGrad });
    if (linear.bias) this.registerParameter('bias', linear.bias, { requiresGrad: linear.bias.requiresGrad });
    this.training = linear.training;
  }

  quantizedWeight(): Tensor { return quantizeWeightTensor(this.weight, this.bits); }

  override forward(x: Tensor): Tensor {
    return tidy(() => F.linear(x, this.quantizedWeight(), this.bias));
  }
}
