// BatchNorm2d and LayerNorm with PyTorch's parameter and buffer names, so torchvision checkpoints load.
import { F, zeros, ones, noGrad, type Tensor } from '../../tensor/index.js';
import { Module } from '../module.js';
import { positiveInt } from './util.js';
import { registerTransient } from '../transient.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the newest batch in the running stats; null = cumulative average (1/num_batches_tracked). */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * Batch norm over [N, C, H, W]. Buffers as PyTorch: running_mean (0), running_var (1, updated with
 * the unbiased batch variance) and num_batches_tracked (int64, +1 per training forward).
 */
export class BatchNorm2d extends Module {
  readonly eps: number;
  readonly momentum: number | null;

  constructor(readonly numFeatures: number, o: BatchNormOptions = {}) {
    super();
    positiveInt(numFeatures, 'numFeatures', 'BatchNorm2d');
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    if (o.affine ?? true) {
      this.registerParameter('weight', ones([numFeatures]));
      this.registerParameter('bias', zeros([numFeatures]));
    }
    if (o.trackRunningStats ?? true) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
    }
  }

  get weight(): Tensor | null { return this.optionalParam('weight'); }
  get bias(): Tensor | null { return this.optionalParam('bias'); }
  get tracksRunningStats(): boolean { return this.namedBuffers().length > 0; }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4) throw new RangeError(`BatchNorm2d: expected input [N, C, H, W], got shape [${x.shape.join(', ')}]`);
    const track = this.tracksRunningStats;
    let factor = this.momentum ?? 0;
    if (this.training && track) {
      const counter = this.buffer('num_batches_tracked');
      noGrad(() => counter.add_(1));
      if (this.momentum === null) factor = 1 / counter.item();
    }
    // Without running stats, eval mode normalises with batch statistics (as PyTorch).
    const useRunning = !this.training || track;
    return F.batchNorm(x, {
      weight: this.weight, bias: this.bias,
      runningMean: useRunning && track ? this.buffer('running_mean') : null,
      runningVar: useRunning && track ? this.buffer('running_var') : null,
      training: this.training || !track, momentum: factor, eps: this.eps,
    });
  }
}

export interface LayerNormOptions { eps?: number; elementwiseAffine?: boolean }

/** Normalises over the trailing `normalizedShape` dims; weight 1 and bias 0 of that shape. */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], o: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) positiveInt(d, 'normalizedShape', 'LayerNorm');
    this.eps = o.eps ?? 1e-5;
    if (o.elementwiseAffine ?? true) {
      this.registerParameter('weight', ones(this.normalizedShape));
      this.registerParameter('bias', zeros(this.normalizedShape));
    }
  }
  get weight(): Tensor | null { return this.optionalParam('weight'); }
  get bias(): Tensor | null { return this.optionalParam('bias'); }
  forward(x: Tensor): Tensor { return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps); }
}

registerTransient({ leaves: [BatchNorm2d, LayerNorm] });
