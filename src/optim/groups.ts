// Parameter-group helpers for the common "no weight decay on biases and norm weights" recipe.
import type { Tensor } from '../tensor/index.js';
import type { AnyModule } from '../nn/module.js';

/** True for the parameters that usually skip weight decay: rank ≤ 1 (biases, BN/LN weights, clip scalars). */
export const isNormOrBias = (_name: string, p: Tensor): boolean => p.rank <= 1;

/**
 * Two groups over the module's parameters: the first takes the optimizer's weight decay, the second
 * (where `noDecay(name, p)` holds) gets weightDecay 0. Either group may be empty.
 */
export function paramGroupsNoDecay(module: AnyModule, noDecay: (name: string, p: Tensor) => boolean = isNormOrBias): [{ params: Tensor[] }, { params: Tensor[]; weightDecay: number }] {
  const decay: Tensor[] = [];
  const skip: Tensor[] = [];
  for (const [name, p] of module.namedParameters()) (noDecay(name, p) ? skip : decay).push(p);
  return [{ params: decay }, { params: skip, weightDecay: 0 }];
}
