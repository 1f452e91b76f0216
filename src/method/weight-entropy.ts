// The weight entropy term (reference --regul2): per conv, the soft entropy of a fresh random 5 % of
// its weights on the 8-bit grid, averaged over layers weighted by element count.
import { tidy, type Tensor } from '../tensor/index.js';
import { Conv2d, Linear, type AnyModule } from '../nn/index.js';
import { weightSoftEntropy } from './soft-entropy.js';

/** The layers the weight-entropy term covers: every Conv2d (reference), optionally every Linear too. */
export function convLayers(model: AnyModule, o: { linear?: boolean } = {}): [string, Conv2d | Linear][] {
  return model.namedModules().filter((e): e is [string, Conv2d | Linear] => e[1] instanceof Conv2d || (o.linear === true && e[1] instanceof Linear));
}

/** λ_w term: Σ m_i·H^w_i / Σ m_i over the layers (null when there is none). */
export function weightEntropyTerm(model: AnyModule, o: { fraction?: number; temperature?: number; linear?: boolean } = {}): Tensor | null {
  const layers = convLayers(model, o);
  if (layers.length === 0) return null;
  return tidy(() => {
    let total: Tensor | null = null;
    let numel = 0;
    for (const [, layer] of layers) {
      const w = layer.param('weight');
      const h = weightSoftEntropy(w, { fraction: o.fraction, temperature: o.temperature }).mul(w.size);
      total = total ? total.add(h) : h;
      numel += w.size;
    }
    return total!.div(numel);
  });
}
