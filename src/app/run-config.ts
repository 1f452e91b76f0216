// Run configs from what a user gives: command-line flags, a --config file, the --init run's own
// config, defaults. The one place that layers and checks them, shared by the CLI, `demo`, `import`
// and the library. Pure and engine-free (no tensors), so `--help` and option errors never load libtorch.
import {
  CAT_DEFAULTS, CAT_RECIPES, IMAGENET_BATCH_SIZE, IN_MEMORY_ONLY_OPTIONS, IN_MEMORY_OPTIONS_OFF, TRAIN_DEFAULTS, ConfigError,
  imagenetTrainDefaults, notForImageFolder, validateConfig, type CatRecipe, type RunConfig,
} from '../train/config.js';
import { DATASET_NAMES, isImageFolderDataset } from '../data/registry.js';

/** Options about the data, shared by train and cat (names as the CLI's flags, camel-cased). */
export interface DataFlags {
  data?: string;
  randomCrop?: number;
  hflip?: boolean;
  padTo?: number;
  resize?: number;
  imageSize?: number;
  workers?: number;
  badImages?: RunConfig['badImages'];
  validation?: number;
  limitTrain?: number;
  limitTest?: number;
}

/** Optimisation options, shared by train and cat. */
export interface OptimFlags {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  optimizer?: RunConfig['optimizer'];
  schedule?: RunConfig['schedule'];
  gamma?: number;
  stepSize?: number;
  warmup?: number;
  seed?: number;
}

export interface TrainFlags extends DataFlags, OptimFlags {
  model?: string;
  dataset?: string;
  width?: number;
  init?: string;
}

export interface CatFlags extends DataFlags, OptimFlags {
  /** The full-precision run to start from (or `init` in the config file). */
  init?: string;
  recipe?: CatRecipe;
  actBits?: number;
  /** Per-site bits by glob (--act-bits-at, in order). */
  actBitsAt?: { pattern: string; bits: number }[];
  /** 32: float weights. */
  weightBits?: number;
  lambda?: number;
  lambdaW?: number;
  method?: RunConfig['method'];
  gradual?: number;
  temperature?: number;
  temperatureAnneal?: number;
  sampleRandom?: number;
  quantizeLinear?: boolean;
  bnRecalibrate?: number;
  freezeBn?: number;
  /** false when --no-quant-edges is given. */
  quantEdges?: boolean;
  clipInit?: RunConfig['clipInit'];
  range?: RunConfig['range'];
  sampleStride?: number;
  sampleImages?: number;
  /** Rate target (λ from the controller). */
  targetBits?: number;
  /** --target-bits-at PATTERN=B, already parsed. */
  targetBitsAt?: { pattern: string; bits: number }[];
  targetMetric?: RunConfig['targetMetric'];
  targetTolerance?: number;
  targetMeasureEvery?: number;
  /** Batches of held-out training data for the clip statistics. */
  calibrationBatches?: number;
}

export type Given = Partial<RunConfig>;

/** Copies the defined values only, so an option not given never hides a lower layer. */
export function defined(o: Given): Given {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Given;
}

/** The flags shared by train and cat, as config fields. */
export function commonFields(f: DataFlags & OptimFlags): Given {
  return defined({
    data: f.data, epochs: f.epochs, batchSize: f.batchSize, lr: f.lr, momentum: f.momentum, weightDecay: f.weightDecay,
    nesterov: f.nesterov, optimizer: f.optimizer, schedule: f.schedule, gamma: f.gamma, stepSize: f.stepSize, warmupEpochs: f.warmup,
    seed: f.seed, randomCrop: f.randomCrop, hflip: f.hflip, padTo: f.padTo, resize: f.resize, validation: f.validation,
    limitTrain: f.limitTrain, limitTest: f.limitTest, imageSize: f.imageSize, workers: f.workers, badImages: f.badImages,
  });
}

/** CAT flags as config fields (--weight-bits 32 means float weights, recorded as no weightBits). */
export function catFields(f: CatFlags): Given {
  return defined({
    ...commonFields(f), actBits: f.actBits, actBitsAt: f.actBitsAt, lambda: f.lambda, lambdaW: f.lambdaW, method: f.method, gradual: f.gradual,
    temperature: f.temperature, temperatureAnneal: f.temperatureAnneal, sampleRandom: f.sampleRandom, quantizeLinear: f.quantizeLinear,
    bnRecalibration: f.bnRecalibrate, freezeBatchNorm: f.freezeBn, noQuantEdges: f.quantEdges === undefined ? undefined : !f.quantEdges, clipInit: f.clipInit,
    range: f.range, sampleStride: f.sampleStride, sampleImages: f.sampleImages, weightBits: f.weightBits, calibrationBatches: f.calibrationBatches,
    targetBits: f.targetBits, targetBitsAt: f.targetBitsAt?.length ? f.targetBitsAt : undefined, targetMetric: f.targetMetric, targetTolerance: f.targetTolerance,
    targetMeasureEvery: f.targetMeasureEvery,
  });
}

/** The fields of a --config file for `task`: `task`, if present, must be that command. */
export function fileFields(file: Given | undefined, task: RunConfig['task']): Given {
  if (!file) return {};
  if (file.task !== undefined && file.task !== task) throw new ConfigError(`the config file describes a '${file.task}' run; use \`catkit ${file.task}\` or drop its "task"`);
  const { task: _, ...rest } = defined(file);
  return rest;
}

/** Fields that only CAT runs read; in a train config they must keep their defaults (a train checkpoint.json holds them so). */
const CAT_ONLY_FIELDS = [
  'actBits', 'actBitsAt', 'weightBits', 'lambda', 'lambdaW', 'method', 'temperature', 'temperatureAnneal', 'sampleRandom', 'quantizeLinear', 'gradual',
  'noQuantEdges', 'clipInit', 'range', 'sampleStride', 'sampleImages', 'calibrationBatches', 'bnRecalibration', 'freezeBatchNorm',
  'targetBits', 'targetBitsAt', 'targetMetric', 'targetTolerance', 'targetMeasureEvery',
] as const satisfies readonly (keyof RunConfig)[];

function refuseCatFields(file: Given | undefined): void {
  const key = CAT_ONLY_FIELDS.find((k) => file?.[k] !== undefined && file[k] !== TRAIN_DEFAULTS[k]);
  if (key) throw new ConfigError(`${key} ${String(file![key])} in the config file applies to \`catkit cat\` only; drop it for \`catkit train\``);
}

/** The model and dataset come from the --init run; a file or flag naming others is a mistake, not an override. */
function sameAsInit(given: Given, base: RunConfig): void {
  for (const key of ['model', 'dataset', 'widthMultiplier'] as const) {
    if (given[key] !== undefined && given[key] !== base[key]) {
      throw new ConfigError(`${key} ${String(given[key])} conflicts with the --init run's ${key} ${String(base[key])}; a run started from --init keeps its model and dataset`);
    }
  }
}

/** The --init run of `catkit cat`: the flag, else the config file's `init`. */
export function catInitPath(flags: { init?: string }, file?: Given): string {
  const init = flags.init ?? file?.init;
  if (init === undefined) throw new ConfigError('cat needs --init RUN (or "init" in the --config file): the full-precision run to start from');
  if (init.endsWith('.safetensors')) {
    throw new ConfigError('--init takes a run folder (from `catkit train` or `catkit import`), not a bare .safetensors file');
  }
  return init;
}

const FLAG: Partial<Record<keyof RunConfig, string>> = { imageSize: '--image-size', workers: '--workers', badImages: '--bad-images' };

/** Options that only make sense for one kind of dataset are refused, not silently ignored. */
function checkDataOptions(given: Given, dataset: string): void {
  if (isImageFolderDataset(dataset)) {
    const wrong = IN_MEMORY_ONLY_OPTIONS.find(([k]) => given[k] !== undefined);
    if (wrong) throw new ConfigError(notForImageFolder(wrong[1], dataset));
    return;
  }
  const key = (['imageSize', 'workers', 'badImages'] as const).find((k) => given[k] !== undefined);
  if (key) {
    throw new ConfigError(`${FLAG[key]} applies to image-folder datasets (--dataset ${DATASET_NAMES.filter(isImageFolderDataset).join(', ')}) only, not to ${dataset}`);
  }
}

/** weightBits ≥ 32 means float weights, which a config records as no weightBits. */
export function floatWeights(c: RunConfig): RunConfig {
  if (c.weightBits !== undefined && c.weightBits >= 32) {
    const { weightBits: _, ...rest } = c;
    return rest;
  }
  return c;
}

export interface TrainSources {
  flags: TrainFlags;
  /** Fields of a --config file (already schema-checked); flags override them. */
  file?: Given;
  /** The config of the --init run, if any: its model, width, dataset and data folder are used. */
  init?: RunConfig;
}

/** The config of `catkit train`: defaults < dataset defaults (imagenet) < file < flags; --init fixes the model and data. */
export function buildTrainConfig(s: TrainSources): RunConfig {
  refuseCatFields(s.file);
  const given: Given = { ...fileFields(s.file, 'train'), ...commonFields(s.flags), ...defined({ model: s.flags.model, widthMultiplier: s.flags.width, dataset: s.flags.dataset }) };
  const dataset = s.init ? s.init.dataset : given.dataset ?? TRAIN_DEFAULTS.dataset;
  if (s.init) sameAsInit(given, s.init);
  checkDataOptions(given, dataset);
  const imagenet = isImageFolderDataset(dataset);
  const config: RunConfig = {
    ...TRAIN_DEFAULTS, ...(imagenet ? imagenetTrainDefaults(given.batchSize ?? IMAGENET_BATCH_SIZE) : {}), ...given, task: 'train', dataset,
    ...(s.init ? { model: s.init.model, widthMultiplier: s.init.widthMultiplier, data: given.data ?? s.init.data, init: s.flags.init ?? given.init } : {}),
  };
  validateConfig(config);
  return config;
}

export interface CatSources {
  flags: CatFlags;
  file?: Given;
  /** The config of the --init run (a full-precision run). */
  init: RunConfig;
}

/**
 * The config of `catkit cat`: defaults < the --init run's model, data and batch < the recipe < file < flags.
 * Optimisation settings never come from the --init run: its lr was for training from scratch.
 */
export function buildCatConfig(s: CatSources): RunConfig {
  const { init: base, flags } = s;
  const given: Given = { ...fileFields(s.file, 'cat'), ...catFields(flags) };
  const init = catInitPath(flags, s.file);
  if (base.task !== 'train') throw new ConfigError(`--init ${init} is a '${base.task}' run; start CAT from a full-precision 'catkit train' run`);
  sameAsInit(given, base);
  checkDataOptions(given, base.dataset);
  const recipe = CAT_RECIPES[flags.recipe ?? 'default'];
  const config: RunConfig = {
    ...TRAIN_DEFAULTS, model: base.model, dataset: base.dataset, data: base.data, widthMultiplier: base.widthMultiplier, padTo: base.padTo,
    resize: base.resize ?? 0, randomCrop: base.randomCrop, hflip: base.hflip, validation: base.validation, seed: base.seed,
    batchSize: base.batchSize, imageSize: base.imageSize, workers: base.workers, badImages: base.badImages,
    // An imported run may carry the in-memory augmentation defaults; the image loader does its own.
    ...(isImageFolderDataset(base.dataset) ? { batchSize: IMAGENET_BATCH_SIZE, ...IN_MEMORY_OPTIONS_OFF } : {}),
    ...CAT_DEFAULTS, ...recipe, ...given, task: 'cat', init,
  };
  const out = floatWeights(config);
  validateConfig(out);
  return out;
}

/** A resumed run keeps its own config; only --epochs may extend it and --workers (results unchanged) may differ. */
export function buildResumeConfig(saved: RunConfig, flags: { epochs?: number; workers?: number }): RunConfig {
  const config: RunConfig = { ...saved, ...defined({ epochs: flags.epochs, workers: flags.workers }) };
  validateConfig(config);
  return config;
}

/** The config `catkit import` records: a float run of 0 epochs that `cat --init` and `eval` rebuild from model/dataset/width. */
export function buildImportConfig(o: { model: string; dataset: string; data?: string; widthMultiplier?: number }): RunConfig {
  const config: RunConfig = {
    ...TRAIN_DEFAULTS, ...(isImageFolderDataset(o.dataset) ? imagenetTrainDefaults() : {}),
    task: 'train', model: o.model, dataset: o.dataset, widthMultiplier: o.widthMultiplier ?? 1,
  };
  if (o.data !== undefined) config.data = o.data;
  return config;
}

/** The demo's three runs: a full-precision model on the embedded digits, then CAT at λ = 0 and λ > 0. */
export interface DemoSettings { model: string; epochs: number; catEpochs: number; lambda: number; actBits: number }

export const DEMO_DEFAULTS: DemoSettings = { model: 'resnet8', epochs: 8, catEpochs: 4, lambda: 1.5, actBits: 4 };

/** Full-precision settings of the demo: a short cosine run at lr 0.05 with crop augmentation. */
export function demoFullPrecisionConfig(d: DemoSettings): RunConfig {
  const config: RunConfig = { ...TRAIN_DEFAULTS, model: d.model, dataset: 'digits', randomCrop: 2, epochs: d.epochs, lr: 0.05 };
  validateConfig(config);
  return config;
}

/** A demo CAT run from the full-precision run in `fpDir`: what `catkit cat --init fpDir --lambda λ` would run. */
export function demoCatConfig(d: DemoSettings, fpDir: string, fp: RunConfig, lambda: number): RunConfig {
  return buildCatConfig({ init: fp, flags: { init: fpDir, actBits: d.actBits, weightBits: 8, lambda, epochs: d.catEpochs } });
}
