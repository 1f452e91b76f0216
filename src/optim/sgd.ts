// SGD with momentum, dampening, Nesterov and L2 weight decay: PyTorch 1.13's update rule exactly.
import type { Tensor } from '../tensor/index.js';
import { keep } from '../tensor/index.js';
import { Optimizer, withDefaults, type BaseOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface SGDOptions extends BaseOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** L2 penalty added to the gradient (coupled, as PyTorch's SGD). */
  weightDecay: number;
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, o: Partial<SGDOptions> & { lr: number }) {
    super(params, withDefaults<SGDOptions>({ lr: NaN, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false }, o));
  }

  protected validate(g: ParamGroup<SGDOptions>): void {
    if (!(g.momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new RangeError(`SGD: invalid weightDecay ${g.weightDecay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new RangeError('SGD: nesterov needs momentum > 0 and dampening = 0');
  }

  // d = g + wd·p; buf = d (first step) or momentum·buf + (1−dampening)·d; d = nesterov ? d + momentum·buf : buf; p −= lr·d
  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, st: ParamState): void {
    let d = g.maximize ? grad.neg() : grad;
    if (g.weightDecay !== 0) d = d.add(p, g.weightDecay);
    if (g.momentum !== 0) {
      let buf = st.momentum_buffer as Tensor | undefined;
      if (buf === undefined) st.momentum_buffer = buf = keep(d.clone());
      else buf.mul_(g.momentum).add_(d, 1 - g.dampening);
      d = g.nesterov ? d.add(buf, g.momentum) : buf;
    }
    p.add_(d, -g.lr);
  }
}
