// Conv2d with PyTorch's parameter names (weight [out, in/groups, kh, kw], bias [out]) and default init.
import { F, zeros, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { defaultLayerInit_ } from '../init.js';
import { pair, positiveInt } from './util.js';
import { registerTransient } from '../transient.js';

export interface Conv2dOptions {
  stride?: F.Pair; padding?: F.Pair; dilation?: F.Pair; groups?: number; bias?: boolean;
  /** false: leave the parameters at zero without drawing random numbers (they are loaded or replaced next). */
  init?: boolean;
}

export class Conv2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: F.Pair, o: Conv2dOptions = {}) {
    super();
    positiveInt(inChannels, 'inChannels', 'Conv2d');
    positiveInt(outChannels, 'outChannels', 'Conv2d');
    this.kernelSize = pair(kernelSize, 'kernelSize', 'Conv2d', 1);
    this.stride = pair(o.stride ?? 1, 'stride', 'Conv2d', 1);
    this.padding = pair(o.padding ?? 0, 'padding', 'Conv2d', 0);
    this.dilation = pair(o.dilation ?? 1, 'dilation', 'Conv2d', 1);
    this.groups = positiveInt(o.groups ?? 1, 'groups', 'Conv2d');
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new RangeError(`Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${this.groups})`);
    }
    this.registerParameter('weight', zeros([outChannels, inChannels / this.groups, ...this.kernelSize]));
    if (o.bias ?? true) this.registerParameter('bias', zeros([outChannels]));
    if (o.init ?? true) this.resetParameters();
  }

  get weight(): Tensor { return this.param('weight'); }
  get bias(): Tensor | null { return this.optionalParam('bias'); }

  resetParameters(): void { defaultLayerInit_(this.weight, this.bias); }

  forward(x: Tensor): Tensor { return this.convolve(x, this.weight, this.bias); }

  /**
   * This layer's convolution of x with the given weight and bias (its stride, padding, dilation and
   * groups). A layer with its own padding scheme overrides this, so a weight-quantized stand-in
   * that convolves through it keeps that scheme.
   */
  convolve(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    return F.conv2d(x, weight, bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

registerTransient({ leaves: [Conv2d] });
