// Run configuration: everything that defines a training or CAT run, saved with every checkpoint
// and report so a run can be resumed or reproduced from its folder alone.
import type { ClipInit, RangeMode, RegularizerKind } from '../method/index.js';

export interface RunConfig {
  task: 'train' | 'cat';
  model: string;
  dataset: string;
  data?: string;
  widthMultiplier: number;
  epochs: number;
  batchSize: number;
  seed: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  schedule: 'cosine' | 'exponential' | 'step' | 'constant';
  /** exponential: total decay over the run (reference: 0.01); step: factor per stepSize epochs. */
  gamma: number;
  stepSize: number;
  warmupEpochs: number;
  randomCrop: number;
  hflip: boolean;
  /** Pad images to this square size (e.g. 28 → 32); 0 keeps them. */
  padTo: number;
  /** Bilinear resize of every batch to this square side (e.g. digits 20 → 64 for ImageNet backbones); 0: off. */
  resize?: number;
  /** Fraction of the training split held out for validation, calibration and static code tables. */
  validation: number;
  limitTrain?: number;
  limitTest?: number;
  /** Weights to start from: a run folder (train: fine-tune imported/pretrained weights; cat: the float model). */
  init?: string;
  // ---- CAT (task 'cat') ----
  actBits?: number;
  weightBits?: number;
  lambda: number;
  lambdaW: number;
  method: RegularizerKind;
  temperature: number;
  /** Temperature multiplier applied once per epoch (1: constant, as the paper settled on). */
  temperatureAnneal: number;
  /** Entropy sample of k random values from the whole tensor instead of the strided first image (0: off). */
  sampleRandom: number;
  /** Also fake-quantize Linear weights (the reference quantizes convs only). */
  quantizeLinear: boolean;
  /** Epochs per gradual stage (0: all sites quantize from the start). */
  gradual: number;
  noQuantEdges: boolean;
  clipInit: ClipInit;
  range: RangeMode;
  sampleStride: number;
  sampleImages: number;
  calibrationBatches: number;
  /** Re-estimate batch-norm statistics on this many training batches after each CAT epoch (0: off). */
  bnRecalibration: number;
}

export const TRAIN_DEFAULTS: RunConfig = {
  task: 'train', model: 'resnet20', dataset: 'digits', widthMultiplier: 1, epochs: 10, batchSize: 64, seed: 0,
  optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, schedule: 'cosine', gamma: 0.01, stepSize: 10,
  warmupEpochs: 0, randomCrop: 2, hflip: false, padTo: 0, validation: 0.1,
  lambda: 0, lambdaW: 0, method: 'entropy', temperature: 10, temperatureAnneal: 1, sampleRandom: 0, quantizeLinear: false, gradual: 0, noQuantEdges: false, clipInit: 'mean+3std',
  range: 'tensor', sampleStride: 16, sampleImages: 1, calibrationBatches: 20, bnRecalibration: 0,
};

/** The seed's fine-tuning setting (paper.md §2.9): SGD lr 1e-4, momentum 0.9, weight decay 4e-5. */
export const CAT_DEFAULTS: Partial<RunConfig> = {
  task: 'cat', lr: 1e-4, momentum: 0.9, nesterov: false, weightDecay: 4e-5, schedule: 'constant', epochs: 10,
  actBits: 4, weightBits: 8,
};
