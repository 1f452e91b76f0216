// Adam and AdamW with PyTorch 1.13's single-tensor update rules (bias correction, optional AMSGrad).
import type { Tensor } from '../tensor/index.js';
import { Optimizer, withDefaults, type BaseOptions, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface AdamOptions extends BaseOptions {
  betas: readonly [number, number];
  eps: number;
  /** Adam: L2 added to the gradient. AdamW: decoupled decay p ← p·(1 − lr·wd). */
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export class Adam extends Optimizer<AdamOptions> {
  protected readonly decoupledDecay: boolean = false;

  constructor(params: Params<AdamOptions>, o: Partial<AdamOptions> = {}) {
    super(params, withDefaults<AdamOptions>({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false }, o));
  }

  protected validate(g: ParamGroup<AdamOptions>): void {
    const n = this.constructor.name;
    if (!(g.eps >= 0)) throw new RangeError(`${n}: invalid eps ${g.eps}`);
    if (!Array.isArray(g.betas) || g.betas.length !== 2 || !g.betas.every((b) => b >= 0 && b < 1)) {
      throw new RangeError(`${n}: betas must be two numbers in [0, 1), got ${JSON.stringify(g.betas)}`);
    }
    if (!(g.weightDecay >= 0)) throw new RangeError(`${n}: invalid weightDecay ${g.weightDecay}`);
  }

  protected updateParameter(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, st: ParamState): void {
    const [beta1, beta2] = g.betas;
    let d = g.maximize ? grad.neg() : grad;
    if (st.exp_avg === undefined) {
      st.step = 0;
      st.exp_avg = this.newState(p);
      st.exp_avg_sq = this.newState(p);
      if (g.amsgrad) st.max_exp_avg_sq = this.newState(p);
    }
    const step = (st.step as number) + 1;
    st.step = step;
    if (this.decoupledDecay) p.mul_(1 - g.lr * g.weightDecay);
    else if (g.weightDecay !== 0) d = d.add(p, g.weightDecay);

    const m = st.exp_avg as Tensor, v = st.exp_avg_sq as Tensor;
    m.mul_(beta1).add_(d, 1 - beta1);
    v.mul_(beta2).addcmul_(d, d, 1 - beta2);
    const stepSize = g.lr / (1 - beta1 ** step);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
    let second = v;
    if (g.amsgrad) {
      // Created lazily too, so amsgrad may be switched on for a group that already has state.
      const vmax = (st.max_exp_avg_sq ??= this.newState(p)) as Tensor;
      vmax.copy_(vmax.maximum(v));
      second = vmax;
    }
    const denom = second.sqrt().div(bc2Sqrt).add_(g.eps);
    p.addcdiv_(m, denom, -stepSize);
  }
}

/** Adam with decoupled weight decay (default 1e-2), PyTorch's AdamW. */
export class AdamW extends Adam {
  protected override readonly decoupledDecay: boolean = true;

  constructor(params: Params<AdamOptions>, o: Partial<AdamOptions> = {}) {
    super(params, withDefaults<Partial<AdamOptions>>({ weightDecay: 1e-2 }, o));
  }
}
