// Weight fake quantization (reference Conv2d2): per-tensor min/max, b_w bits, straight-through,
// so gradients are computed with quantized weights and applied to the float weights.
import { Tensor, tidy } from '../tensor/index.js';
import { Conv2d, Linear, type AnyModule, type Module } from '../nn/index.js';
import { checkBits, fakeQuantize } from './quantize.js';
import { weightSoftEntropy } from './soft-entropy.js';

/** Fake-quantized copy of w over its own [min, max]. */
export function quantizeWeightTensor(w: Tensor, bits: number): Tensor {
  return tidy(() => fakeQuantize(w, bits, { min: w.min(), max: w.max() }).value);
}

export interface WeightQuantOptions { bits: number; includeLinear?: boolean }

type Quantizable = Conv2d | Linear;
const ORIGINAL_WEIGHT = Symbol('catkit.originalWeightGetter');

/**
 * Makes every Conv2d (and optionally Linear) of `model` run with b-bit weights. The layer's
 * `weight` getter returns a fake-quantized view during forward; its parameter stays float.
 * Returns the names of the layers affected.
 */
export function quantizeWeights(model: AnyModule, o: WeightQuantOptions): string[] {
  checkBits(o.bits, 'quantizeWeights');
  const affected: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof Conv2d) && !(o.includeLinear && m instanceof Linear)) continue;
    const layer = m as Quantizable & { [ORIGINAL_WEIGHT]?: boolean };
    if (layer[ORIGINAL_WEIGHT]) continue;
    // Shadow the prototype's `weight` getter on this instance only: forward reads this.weight.
    Object.defineProperty(layer, 'weight', {
      configurable: true,
      get: () => quantizeWeightTensor(layer.param('weight'), o.bits),
    });
    layer[ORIGINAL_WEIGHT] = true;
    affected.push(name);
  }
  return affected;
}

/** The convolution layers whose weights the weight-entropy term covers (reference: every Conv2d). */
export function convLayers(model: AnyModule): [string, Conv2d][] {
  return model.namedModules().filter((e): e is [string, Conv2d] => e[1] instanceof Conv2d);
}

/** λ_w term: numel-weighted mean over convs of the soft entropy of a random 5 % of weights (8-bit grid). */
export function weightEntropyTerm(model: Module, o: { fraction?: number; temperature?: number } = {}): Tensor | null {
  const convs = convLayers(model);
  if (convs.length === 0) return null;
  return tidy(() => {
    let total: Tensor | null = null;
    let numel = 0;
    for (const [, conv] of convs) {
      const w = conv.param('weight');
      const h = weightSoftEntropy(w, { fraction: o.fraction, temperature: o.temperature }).mul(w.size);
      total = total ? total.add(h) : h;
      numel += w.size;
    }
    return total!.div(numel);
  });
}
