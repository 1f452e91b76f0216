// Run configuration: everything that defines a training or CAT run, saved with every checkpoint
// and report so a run can be resumed or reproduced from its folder alone.
import type { ClipInit, RangeMode, RegularizerKind } from '../method/index.js';
import { IMAGE_FOLDER_LAYOUT, isImageFolderDataset } from '../data/registry.js';
import type { DetectionAugment } from '../data/ssd-augment.js';
import { CatkitError } from '../errors.js';
import type { RateMetric } from './rate-controller.js';

/** What a run's model does: classify images (the default) or detect objects (SSD on VOC-layout data). */
export type TaskKind = 'classification' | 'detection';
export const TASK_KINDS: readonly TaskKind[] = ['classification', 'detection'];

export type { DetectionAugment };

/** The settings only detection runs have (RunConfig.detection). */
export interface DetectionSettings {
  /** VOC sets to train on, year-split joined by + (07+12 trainval as usual). */
  trainSets: string;
  testSets: string;
  /** Classes including background (VOC: 21). */
  numClasses: number;
  augment: DetectionAugment;
  /** Linear warm-up iterations from lr/3, then a cosine decay to 0 per iteration (the SSD recipe's shape). */
  warmupIters: number;
  /** VOC07 11-point AP or the VOC2010+ area under the curve. */
  metric: 'voc07' | 'area';
  /** CAT sites: 'reference' (VGG base ReLUs of VGG SSDs, as CAT's SSD code; every ReLU/ReLU6 of SSDLite) or 'all'. */
  sites: 'reference' | 'all';
}

export const DETECTION_SETTINGS_DEFAULTS: DetectionSettings = {
  trainSets: '2007-trainval+2012-trainval', testSets: '2007-test', numClasses: 21, augment: 'ssd', warmupIters: 100, metric: 'voc07', sites: 'reference',
};

export interface RunConfig {
  task: 'train' | 'cat';
  /** Absent in runs saved before detection existed: classification. */
  taskKind?: TaskKind;
  /** Detection runs only. */
  detection?: DetectionSettings;
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
  /** In-memory datasets: samples of the training part after the split; imagenet: images listed from train/ (before the split). */
  limitTrain?: number;
  limitTest?: number;
  // ---- image folders (dataset 'imagenet') ----
  /** Side of the square crops fed to the model (RandomResizedCrop for training, Resize + CenterCrop for evaluation). */
  imageSize: number;
  /** Decoding worker threads per loader (0: min(4, cores)). Does not change results. */
  workers: number;
  /** Unreadable image files: 'fail' stops the run, 'skip' leaves them out (each logged once). */
  badImages: 'skip' | 'fail';
  /** Weights to start from: a run folder (train: fine-tune imported/pretrained weights; cat: the float model). */
  init?: string;
  // ---- CAT (task 'cat') ----
  actBits?: number;
  /** Per-site activation bits by dotted-name glob, applied in order (`--act-bits-at 'layer1.*=6'`); each must match a site. */
  actBitsAt?: { pattern: string; bits: number }[];
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
  /**
   * CAT: from this epoch on (1-based; 1: the whole run) batch-norm statistics are held fixed and
   * training normalises with them as evaluation does. They are the last re-estimate's (before the
   * first epoch when it is 1 and bnRecalibration > 0); frozen epochs are not re-estimated after.
   */
  freezeBatchNorm?: number;
  // ---- rate target (CAT): λ is adjusted so the activations reach these bits/value ----
  /** Target bits/value over all sites (or those no per-site pattern takes). */
  targetBits?: number;
  /** Per-site targets by dotted-name glob (first matching pattern wins). */
  targetBitsAt?: { pattern: string; bits: number }[];
  /** What the target measures: the Shannon entropy or a real coder's size (default entropy). */
  targetMetric?: RateMetric;
  /** A target counts as reached within ± this many bits (default 0.1). */
  targetTolerance?: number;
  /** The controller measures (counts codes, updates λ) on every n-th step (default 1). */
  targetMeasureEvery?: number;
}

export const TRAIN_DEFAULTS: RunConfig = {
  task: 'train', model: 'resnet20', dataset: 'digits', widthMultiplier: 1, epochs: 10, batchSize: 64, seed: 0,
  optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4, schedule: 'cosine', gamma: 0.01, stepSize: 10,
  warmupEpochs: 0, randomCrop: 2, hflip: false, padTo: 0, validation: 0.1, imageSize: 224, workers: 0, badImages: 'fail',
  lambda: 0, lambdaW: 0, method: 'entropy', temperature: 10, temperatureAnneal: 1, sampleRandom: 0, quantizeLinear: false, gradual: 0, noQuantEdges: false, clipInit: 'mean+3std',
  range: 'tensor', sampleStride: 16, sampleImages: 1, calibrationBatches: 20, bnRecalibration: 0,
};

/**
 * CAT fine-tuning settings, by name. Each is a complete optimisation recipe; `catkit cat --recipe`
 * picks one, and options given on the command line or in a config file override its values.
 * - `default`: what the λ sweep found to lower the entropy within a few epochs on small data
 *   (scripts/lambda-sweep.sh): SGD lr 0.01 with a cosine decay, the entropy sampled from 16 images
 *   per batch, batch-norm statistics re-estimated on 50 batches after each epoch.
 * - `paper`: the seed's ImageNet fine-tuning value (paper.md §2.9): lr 1e-4 constant, momentum 0.9,
 *   weight decay 4e-5, T = 10. At this lr, λ barely moves the entropy in a few epochs.
 * - `reference`: the reference code's: lr 0.1 Nesterov, weight decay 4e-4, exponential decay to 1 %
 *   over the run.
 */
export const CAT_RECIPES = {
  default: {
    optimizer: 'sgd', lr: 0.01, momentum: 0.9, nesterov: false, weightDecay: 4e-5, schedule: 'cosine', gamma: 0.01,
    temperature: 10, sampleImages: 16, bnRecalibration: 50,
  },
  paper: {
    optimizer: 'sgd', lr: 1e-4, momentum: 0.9, nesterov: false, weightDecay: 4e-5, schedule: 'constant', gamma: 0.01,
    temperature: 10, sampleImages: 1, bnRecalibration: 0,
  },
  reference: {
    optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 4e-4, schedule: 'exponential', gamma: 0.01,
    temperature: 10, sampleImages: 1, bnRecalibration: 0,
  },
} as const satisfies Record<string, Partial<RunConfig>>;

export type CatRecipe = keyof typeof CAT_RECIPES;
export const CAT_RECIPE_NAMES = Object.keys(CAT_RECIPES) as readonly CatRecipe[];

/** What a CAT run uses where neither its --init run nor the user says otherwise: the default recipe, 10 epochs, 4-bit activations, 8-bit weights. */
export const CAT_DEFAULTS = {
  task: 'cat', epochs: 10, actBits: 4, weightBits: 8, ...CAT_RECIPES.default,
} as const satisfies Partial<RunConfig>;

/** Options of the in-memory loader that an image-folder loader (its own RandomResizedCrop + flip) has no use for. */
export const IN_MEMORY_ONLY_OPTIONS = Object.freeze([['randomCrop', '--random-crop'], ['hflip', '--hflip'], ['padTo', '--pad-to'], ['resize', '--resize']] as const);

/** IN_MEMORY_ONLY_OPTIONS switched off: what image-folder runs carry (an imported run may hold the in-memory defaults). */
export const IN_MEMORY_OPTIONS_OFF = Object.freeze({ randomCrop: 0, hflip: false, padTo: 0, resize: 0 }) satisfies Partial<RunConfig>;

/** The refusal of one of IN_MEMORY_ONLY_OPTIONS for an image-folder dataset. */
export const notForImageFolder = (flag: string, dataset: string): string =>
  `${flag} does not apply to --dataset ${dataset}: its training loader does RandomResizedCrop + horizontal flip to --image-size`;

/** Batch size of ImageNet runs when none is given: sized for a CPU machine's memory and speed, not torchvision's 256. */
export const IMAGENET_BATCH_SIZE = 32;

/**
 * ImageNet training defaults, torchvision's reference recipe (SGD momentum 0.9 without Nesterov,
 * weight decay 1e-4, lr ×0.1 every 30 epochs, 90 epochs) with lr scaled linearly to the batch:
 * 0.1 × batch / 256. Augmentation is the image loader's RandomResizedCrop + flip, so the
 * in-memory loader's crop, flip and padding are off.
 */
export function imagenetTrainDefaults(batchSize: number = IMAGENET_BATCH_SIZE): Partial<RunConfig> {
  return {
    model: 'resnet18', batchSize, lr: (0.1 * batchSize) / 256, optimizer: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 1e-4,
    schedule: 'step', stepSize: 30, gamma: 0.1, epochs: 90, warmupEpochs: 0, randomCrop: 0, hflip: false, padTo: 0,
  };
}

/** The settings that define a run, on one line (the first line a run logs). */
export function describeConfig(c: RunConfig): string {
  const g = (x: number): string => String(Number(x.toPrecision(4)));
  const data = c.dataset === 'imagenet'
    ? `imagenet (${c.data ?? 'no --data'}; ${c.imageSize} px, RandomResizedCrop + flip; decode workers ${c.workers || 'auto'}; bad images: ${c.badImages})`
    : `${c.dataset}${c.data ? ` (${c.data})` : ''}${c.randomCrop ? `; crop pad ${c.randomCrop}` : ''}${c.hflip ? '; hflip' : ''}${c.padTo ? `; pad to ${c.padTo}` : ''}${c.resize ? `; resize ${c.resize}` : ''}`;
  const limits = [c.limitTrain ? `≤ ${c.limitTrain} train` : '', c.limitTest ? `≤ ${c.limitTest} test` : ''].filter(Boolean).join(', ');
  const opt = c.optimizer === 'sgd' ? `sgd momentum ${g(c.momentum)}${c.nesterov && c.momentum > 0 ? ' nesterov' : ''}` : c.optimizer;
  const schedule = c.schedule === 'step' ? `step ×${g(c.gamma)} every ${c.stepSize} epochs`
    : c.schedule === 'exponential' ? `exponential ×${g(c.gamma)} over the run` : c.schedule;
  const cat = c.task === 'cat'
    ? `; CAT ${c.actBits ?? 4}-bit activations${c.actBitsAt?.length ? ` (${c.actBitsAt.map((e) => `${e.pattern}: ${e.bits}`).join(', ')})` : ''}, ${c.weightBits === undefined ? 'float' : `${c.weightBits}-bit`} weights, ` +
      (c.targetBits !== undefined || c.targetBitsAt?.length
        ? `target ${[...(c.targetBits !== undefined ? [`${c.targetBits}`] : []), ...(c.targetBitsAt ?? []).map((t) => `${t.pattern}=${t.bits}`)].join(', ')} bits (${c.targetMetric ?? 'entropy'}, λ from the controller)`
        : `λ ${g(c.lambda)}`) + `, λ_w ${g(c.lambdaW)}, ${c.method}${c.freezeBatchNorm ? `, BN statistics frozen from epoch ${c.freezeBatchNorm}` : ''}`
    : '';
  return `${c.task} ${c.model}${c.widthMultiplier !== 1 ? ` ×${g(c.widthMultiplier)}` : ''} on ${data}${limits ? ` (${limits})` : ''}: `
    + `${c.epochs} epochs, batch ${c.batchSize}, ${opt}, lr ${g(c.lr)}, weight decay ${g(c.weightDecay)}, ${schedule}`
    + `${c.warmupEpochs ? `, warm-up ${c.warmupEpochs}` : ''}, validation ${g(c.validation)}, seed ${c.seed}${cat}${c.init ? `; from ${c.init}` : ''}`;
}

/** A run config that cannot run: an option out of range or two options that do not go together. */
export class ConfigError extends CatkitError {
  override name = 'ConfigError';
  constructor(message: string) { super('bad_config', message); }
}

/** Checks what the types cannot: ranges and combinations. Every run passes here before it builds anything. */
export function validateConfig(c: RunConfig): void {
  const positiveInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${what} must be a positive integer, got ${v}`);
  };
  if (c.taskKind === 'detection') {
    const d = c.detection;
    if (!d) throw new ConfigError('a detection run needs its detection settings');
    if (!c.data) throw new ConfigError('--task detection needs --data DIR, a VOCdevkit folder (VOC2007/, VOC2012/)');
    if (!Number.isInteger(d.numClasses) || d.numClasses < 2) throw new ConfigError(`--num-classes (background included) must be an integer >= 2, got ${d.numClasses}`);
    if (!Number.isInteger(d.warmupIters) || d.warmupIters < 0) throw new ConfigError(`--warmup-iters must be a non-negative integer, got ${d.warmupIters}`);
    if (!Number.isInteger(c.imageSize) || c.imageSize < 32) throw new ConfigError(`--image-size must be an integer >= 32 for a detector, got ${c.imageSize}`);
  } else if (c.detection) {
    throw new ConfigError('detection settings in a classification run; add --task detection (or "taskKind": "detection")');
  }
  positiveInt(c.epochs, '--epochs');
  positiveInt(c.batchSize, '--batch-size');
  if (!(c.lr > 0)) throw new ConfigError(`--lr must be positive, got ${c.lr}`);
  if (!(c.validation > 0 && c.validation < 1)) throw new ConfigError(`--validation must be a fraction in (0, 1), got ${c.validation}`);
  if (isImageFolderDataset(c.dataset)) {
    if (!c.data) throw new ConfigError(`--dataset ${c.dataset} needs --data DIR, an ImageNet-style folder: ${IMAGE_FOLDER_LAYOUT}`);
    for (const [key, flag] of IN_MEMORY_ONLY_OPTIONS) if (c[key]) throw new ConfigError(notForImageFolder(flag, c.dataset));
    positiveInt(c.imageSize, '--image-size');
    if (!Number.isInteger(c.workers) || c.workers < 0) throw new ConfigError(`--workers must be a non-negative integer (0: automatic), got ${c.workers}`);
    if (c.badImages !== 'skip' && c.badImages !== 'fail') throw new ConfigError(`--bad-images must be skip or fail, got '${String(c.badImages)}'`);
  }
  if (c.task === 'cat') {
    for (const [flag, bits] of [['--act-bits', c.actBits], ['--weight-bits', c.weightBits]] as const) {
      if (bits === undefined) continue;
      if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new ConfigError(`${flag} must be an integer from 1 to 16, got ${bits}`);
    }
    for (const e of c.actBitsAt ?? []) {
      if (typeof e?.pattern !== 'string' || e.pattern === '') throw new ConfigError(`--act-bits-at: each entry needs a non-empty site pattern, got ${JSON.stringify(e)}`);
      if (!Number.isInteger(e.bits) || e.bits < 1 || e.bits > 16) throw new ConfigError(`--act-bits-at ${e.pattern}: bits must be an integer from 1 to 16, got ${e.bits}`);
    }
    if (!(c.lambda >= 0)) throw new ConfigError(`--lambda must be >= 0, got ${c.lambda}`);
    if (!(c.lambdaW >= 0)) throw new ConfigError(`--lambda-w must be >= 0, got ${c.lambdaW}`);
    if (!['entropy', 'compression', 'none'].includes(c.method)) throw new ConfigError(`--method must be entropy, compression or none, got '${c.method}'`);
    const targeted = c.targetBits !== undefined || (c.targetBitsAt?.length ?? 0) > 0;
    if (c.targetBits !== undefined && !(c.targetBits > 0 && Number.isFinite(c.targetBits))) throw new ConfigError(`--target-bits must be a positive number of bits, got ${c.targetBits}`);
    for (const t of c.targetBitsAt ?? []) if (!(t.bits > 0) || !t.pattern) throw new ConfigError(`--target-bits-at ${t.pattern}=${t.bits}: needs a pattern and a positive number of bits`);
    if (c.targetMetric !== undefined && !['entropy', 'huffman', 'rans', 'zerorun'].includes(c.targetMetric)) throw new ConfigError(`--target-metric must be entropy, huffman, rans or zerorun, got '${c.targetMetric}'`);
    if (c.targetTolerance !== undefined && !(c.targetTolerance > 0)) throw new ConfigError(`--target-tolerance must be positive, got ${c.targetTolerance}`);
    if (c.freezeBatchNorm !== undefined && !(Number.isInteger(c.freezeBatchNorm) && c.freezeBatchNorm >= 1)) throw new ConfigError(`--freeze-bn takes the first epoch with fixed statistics (1 or more), got ${c.freezeBatchNorm}`);
    if (c.targetMeasureEvery !== undefined && !(Number.isInteger(c.targetMeasureEvery) && c.targetMeasureEvery >= 1)) throw new ConfigError(`--target-measure-every must be a positive integer, got ${c.targetMeasureEvery}`);
    if (!targeted && (c.targetMetric !== undefined || c.targetTolerance !== undefined || c.targetMeasureEvery !== undefined)) throw new ConfigError('--target-metric, --target-tolerance and --target-measure-every go with --target-bits or --target-bits-at');
    if (targeted && c.method === 'none') throw new ConfigError('--target-bits needs an activation term to steer: --method entropy (default) or compression');
    if (targeted && c.range === 'channel') throw new ConfigError('--target-bits measures rounded codes on one grid per tensor: use --range tensor or clip, not channel');
  }
}

/**
 * Parses one `PATTERN=BITS` per-site setting (`--act-bits-at 'layer1.*=6'`): a dotted-name glob
 * (`*` any characters, `?` one) and a bit width from 1 to 16.
 */
export function parseSiteBits(spec: string, flag = '--act-bits-at'): { pattern: string; bits: number } {
  const eq = spec.lastIndexOf('=');
  const pattern = eq > 0 ? spec.slice(0, eq).trim() : '';
  const bitsText = eq > 0 ? spec.slice(eq + 1).trim() : '';
  const bits = Number(bitsText);
  if (!pattern || !/^\d+$/.test(bitsText) || bits < 1 || bits > 16) {
    throw new CatkitError('bad_option', `${flag} takes PATTERN=BITS with BITS an integer from 1 to 16 (e.g. 'layer1.*=6'), got '${spec}'`);
  }
  return { pattern, bits };
}
