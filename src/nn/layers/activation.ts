// Parameter-free activations and dropout. Each activation site is its own module, so a CAT
// quantizer can replace one site without touching the others.
import { F, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { registerTransient } from '../transient.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return x.relu(); }
}

/** min(max(x, 0), 6), as in MobileNetV2. */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor { return x.relu6(); }
}

/** x·relu6(x + 3)/6 (MobileNetV3). */
export class Hardswish extends Module {
  forward(x: Tensor): Tensor { return F.hardswish(x); }
}

/** relu6(x + 3)/6 (MobileNetV3's squeeze-excitation gate). */
export class Hardsigmoid extends Module {
  forward(x: Tensor): Tensor { return F.hardsigmoid(x); }
}

export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return x.gelu(this.approximate); }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor { return x.tanh(); }
}

/** Inverted dropout in training mode, identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
}

registerTransient({ leaves: [ReLU, ReLU6, Hardswish, Hardsigmoid, GELU, Tanh, Dropout] });
