// 2-D pooling layers; stride defaults to the kernel size, as in PyTorch.
import { F, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { registerTransient } from '../transient.js';

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: F.Pair, readonly options: F.Pool2dOptions & { dilation?: F.Pair } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, this.options); }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: F.Pair, readonly options: F.Pool2dOptions & { countIncludePad?: boolean } = {}) { super(); }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, this.options); }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: F.Pair) { super(); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool2d(x, this.outputSize); }
}

registerTransient({ leaves: [MaxPool2d, AvgPool2d, AdaptiveAvgPool2d] });
