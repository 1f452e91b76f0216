// Linear (y = x Wᵀ + b) with PyTorch's names and default init, plus the parameter-free Identity and Flatten.
import { F, zeros, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { defaultLayerInit_ } from '../init.js';
import { positiveInt } from './util.js';
import { registerTransient } from '../transient.js';

export class Linear extends Module {
  /** `init: false` leaves the parameters at zero without drawing random numbers (they are loaded or replaced next). */
  constructor(readonly inFeatures: number, readonly outFeatures: number, o: { bias?: boolean; init?: boolean } = {}) {
    super();
    positiveInt(inFeatures, 'inFeatures', 'Linear');
    positiveInt(outFeatures, 'outFeatures', 'Linear');
    this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    if (o.bias ?? true) this.registerParameter('bias', zeros([outFeatures]));
    if (o.init ?? true) this.resetParameters();
  }
  get weight(): Tensor { return this.param('weight'); }
  get bias(): Tensor | null { return this.optionalParam('bias'); }
  resetParameters(): void { defaultLayerInit_(this.weight, this.bias); }
  forward(x: Tensor): Tensor { return F.linear(x, this.weight, this.bias); }
}

/** Returns its input unchanged (the same Tensor object). */
export class Identity extends Module {
  forward(x: Tensor): Tensor { return x; }
}

/** Flattens dims startDim..endDim into one (default: everything but the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
}

registerTransient({ leaves: [Linear, Identity, Flatten] });
