// Run configs of detection runs (`catkit train|cat --task detection`, or a detector --model / a
// VOCdevkit --data implying it): the same layering as classification (defaults < the --init run <
// --config file < flags) with the detection settings, and a refusal of every option a detection run
// would not read. Engine-free, like run-config.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DETECTION_SETTINGS_DEFAULTS, TRAIN_DEFAULTS, ConfigError, validateConfig, type DetectionSettings, type RunConfig, type TaskKind,
} from '../train/config.js';
import { CHECKPOINT_JSON, readCheckpointMeta } from '../train/checkpoint-meta.js';
import { DETECTOR_INPUT_SIZES, DETECTOR_MODEL_NAMES, isDetectorName } from '../models/detection/names.js';
import { looksLikeVoc } from '../data/voc.js';
import { CatkitError } from '../errors.js';
import { catFields, commonFields, defined, fileFields, floatWeights, type CatFlags, type Given, type TrainFlags } from './run-config.js';

/** The detection options of train and cat (names as the CLI's flags, camel-cased). */
export interface DetectionFlags {
  task?: TaskKind;
  trainSets?: string;
  testSets?: string;
  numClasses?: number;
  augment?: DetectionSettings['augment'];
  warmupIters?: number;
  /** --area-metric: the VOC2010+ area under the curve instead of the VOC07 11-point AP. */
  areaMetric?: boolean;
  /** cat only. */
  sites?: DetectionSettings['sites'];
}

const FLAG_OF: Record<keyof DetectionFlags, string> = {
  task: '--task', trainSets: '--train-sets', testSets: '--test-sets', numClasses: '--num-classes', augment: '--augment', warmupIters: '--warmup-iters',
  areaMetric: '--area-metric', sites: '--sites',
};

/** Full-precision detection training when neither flags nor a file say otherwise (the SSD recipe's optimiser). */
export const DETECTION_TRAIN_DEFAULTS = {
  model: 'ssdlite320_mobilenet_v3_large', epochs: 10, batchSize: 8, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 5e-4, workers: 2,
} as const satisfies Partial<RunConfig>;

/**
 * CAT fine-tuning of a detector: a small cosine lr from the trained model, 4-bit activations, 8-bit
 * weights, clips initialised at the calibration maximum (mean + 3σ clips cut SSDLite's mAP from 32 %
 * to 4 % even at 16 bits: measured on the synthetic set, README "Detection").
 */
export const DETECTION_CAT_DEFAULTS = {
  epochs: 10, optimizer: 'sgd', lr: 0.001, momentum: 0.9, weightDecay: 5e-4, actBits: 4, weightBits: 8, lambda: 0, calibrationBatches: 8, clipInit: 'max',
} as const satisfies Partial<RunConfig>;

/** Run-config fields (and their flags) that only classification reads: given for a detection run, they are refused. */
const CLASSIFICATION_ONLY: [keyof RunConfig, string][] = [
  ['dataset', '--dataset'], ['widthMultiplier', '--width'], ['randomCrop', '--random-crop'], ['hflip', '--hflip'], ['padTo', '--pad-to'],
  ['resize', '--resize'], ['validation', '--validation'], ['schedule', '--schedule (detection: warm-up then cosine per iteration)'],
  ['gamma', '--gamma'], ['stepSize', '--step-size'], ['warmupEpochs', '--warmup (detection: --warmup-iters)'], ['nesterov', '--nesterov'],
  ['lambdaW', '--lambda-w'], ['method', '--method'], ['gradual', '--gradual'], ['temperatureAnneal', '--temperature-anneal'],
  ['bnRecalibration', '--bn-recalibrate'], ['quantizeLinear', '--quantize-linear'], ['sampleRandom', '--sample-random'], ['noQuantEdges', '--no-quant-edges'],
  ['freezeBatchNorm', '--freeze-bn'],
];

/**
 * Classification-only fields are refused when a flag gives them; a --config file may hold them at
 * their defaults (a checkpoint.json used as --config does), and they are dropped from the result.
 */
function onlyDetectionFields(fromFlags: Given, fromFile: Given, cmd: 'train' | 'cat'): Given {
  const refuse = (flag: string): never => {
    const [name, ...why] = flag.split(' ');
    throw new ConfigError(`${name} does not apply to detection runs (catkit ${cmd} --task detection)${why.length ? ` ${why.join(' ')}` : ''}`);
  };
  const out: Given = { ...fromFile, ...fromFlags };
  for (const [key, flag] of CLASSIFICATION_ONLY) {
    if (key === 'dataset' && out.dataset === 'voc') { delete out.dataset; continue; }
    // --no-quant-edges is a negation: commander reports its absence as quantEdges true (noQuantEdges false).
    if (fromFlags[key] !== undefined && !(key === 'noQuantEdges' && fromFlags[key] === false)) refuse(flag);
    if (fromFile[key] !== undefined && fromFile[key] !== TRAIN_DEFAULTS[key] && !(key === 'resize' && fromFile.resize === 0)) refuse(flag);
    delete out[key];
  }
  return out;
}

/** Detection flags given to a classification run are refused. */
export function refuseDetectionFlags(flags: DetectionFlags): void {
  const key = (Object.keys(FLAG_OF) as (keyof DetectionFlags)[]).find((k) => k !== 'task' && flags[k] !== undefined);
  if (key) throw new ConfigError(`${FLAG_OF[key]} applies to detection runs only (--task detection, a detector --model or a VOCdevkit --data)`);
}

/** A run folder of main's earlier `catkit detect train`: model.safetensors and a report.json of kind catkit-detection-report. */
interface LegacyDetectionConfig {
  model: string; data: string; trainSets: string; testSets: string; numClasses: number; imageSize: number | null; epochs: number; batchSize: number;
  optimizer: 'sgd' | 'adamw'; lr: number; momentum: number; weightDecay: number; warmupIters: number; seed: number; workers: number;
  augment?: DetectionSettings['augment']; badImages: 'fail' | 'skip'; limitTrain: number | null; limitTest: number | null; use07Metric: boolean;
}

function legacyConfig(dir: string): RunConfig | undefined {
  const report = path.join(dir, 'report.json');
  if (existsSync(path.join(dir, CHECKPOINT_JSON)) || !existsSync(path.join(dir, 'model.safetensors')) || !existsSync(report)) return undefined;
  let r: { kind?: string; config?: LegacyDetectionConfig };
  try { r = JSON.parse(readFileSync(report, 'utf8')) as typeof r; } catch { return undefined; }
  if (r.kind !== 'catkit-detection-report' || !r.config) return undefined;
  const c = r.config;
  return {
    ...TRAIN_DEFAULTS, task: 'train', taskKind: 'detection', model: c.model, dataset: 'voc', data: c.data, imageSize: c.imageSize ?? DETECTOR_INPUT_SIZES[c.model] ?? 300,
    epochs: Math.max(1, c.epochs), batchSize: c.batchSize, optimizer: c.optimizer, lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay, seed: c.seed,
    workers: c.workers, badImages: c.badImages, ...(c.limitTrain ? { limitTrain: c.limitTrain } : {}), ...(c.limitTest ? { limitTest: c.limitTest } : {}),
    detection: { ...DETECTION_SETTINGS_DEFAULTS, trainSets: c.trainSets, testSets: c.testSets, numClasses: c.numClasses, augment: c.augment ?? 'ssd', warmupIters: c.warmupIters, metric: c.use07Metric ? 'voc07' : 'area' },
  };
}

/**
 * The config of an --init run: a catkit run folder (or its checkpoint.json), a folder of the earlier
 * `catkit detect train`, or none for a bare .safetensors weights file (model and data from flags).
 */
export function readInitConfig(init: string): RunConfig | undefined {
  if (init.endsWith('.safetensors')) {
    if (!existsSync(init)) throw new CatkitError('no_checkpoint', `--init ${init}: no such weights file`, { file: init });
    return undefined;
  }
  return legacyConfig(init) ?? readCheckpointMeta(init).meta.config;
}

/** Which task a command's flags, --config file and --init run describe: said outright, or implied by a detector model or a VOCdevkit folder. */
export function taskKindOf(flags: { task?: TaskKind; model?: string; data?: string }, file?: Given, init?: RunConfig): TaskKind {
  const initKind = init ? init.taskKind ?? 'classification' : undefined;
  const said = flags.task ?? file?.taskKind;
  if (said && initKind && said !== initKind) throw new ConfigError(`--task ${said} conflicts with the --init run, a ${initKind} run`);
  if (said ?? initKind) return (said ?? initKind)!;
  const model = flags.model ?? file?.model;
  if (model !== undefined && isDetectorName(model)) return 'detection';
  const data = flags.data ?? file?.data;
  return data !== undefined && looksLikeVoc(data) ? 'detection' : 'classification';
}

function settings(base: DetectionSettings, file: Given | undefined, f: DetectionFlags): DetectionSettings {
  return {
    ...base, ...(file?.detection ?? {}),
    ...defined({
      trainSets: f.trainSets, testSets: f.testSets, numClasses: f.numClasses, augment: f.augment, warmupIters: f.warmupIters, sites: f.sites,
      metric: f.areaMetric ? 'area' : undefined,
    } as Given) as Partial<DetectionSettings>,
  };
}

function checkModel(model: string): void {
  if (!isDetectorName(model)) throw new ConfigError(`--model ${model} is not a detector; detection models: ${DETECTOR_MODEL_NAMES.join(', ')}`);
}

/** `catkit train --task detection`: defaults < the --init run's model, data and settings < file < flags. */
export function buildDetectionTrainConfig(s: { flags: TrainFlags & DetectionFlags; file?: Given; init?: RunConfig }): RunConfig {
  const { flags, file, init } = s;
  if (flags.sites !== undefined) throw new ConfigError('--sites applies to catkit cat only');
  const given = onlyDetectionFields({ ...commonFields(flags), ...defined({ model: flags.model, dataset: flags.dataset, widthMultiplier: flags.width }) }, fileFields(file, 'train'), 'train');
  const fromInit = init?.taskKind === 'detection' ? init : undefined;
  if (fromInit && given.model !== undefined && given.model !== fromInit.model) throw new ConfigError(`model ${given.model} conflicts with the --init run's model ${fromInit.model}`);
  const model = fromInit?.model ?? given.model ?? DETECTION_TRAIN_DEFAULTS.model;
  checkModel(model);
  const config: RunConfig = {
    ...TRAIN_DEFAULTS, ...DETECTION_TRAIN_DEFAULTS, ...given, task: 'train', taskKind: 'detection', model, dataset: 'voc',
    data: given.data ?? fromInit?.data, imageSize: given.imageSize ?? fromInit?.imageSize ?? DETECTOR_INPUT_SIZES[model]!,
    detection: settings({ ...DETECTION_SETTINGS_DEFAULTS, ...(fromInit?.detection ?? {}) }, file, flags),
    ...(flags.init ?? given.init ? { init: flags.init ?? given.init } : {}),
  };
  validateConfig(config);
  return config;
}

/**
 * `catkit cat` from a detection run: its model, data, input size, batch, seed and detection
 * settings < the detection CAT defaults < file < flags. Optimisation never comes from the --init run.
 */
export function buildDetectionCatConfig(s: { flags: CatFlags & DetectionFlags & { init: string }; file?: Given; init: RunConfig }): RunConfig {
  const { flags, file, init: base } = s;
  if (flags.recipe !== undefined) throw new ConfigError('--recipe does not apply to detection runs (their CAT defaults: sgd lr 0.001, momentum 0.9, weight decay 5e-4)');
  if (base.taskKind !== 'detection') throw new ConfigError(`--init ${flags.init} is not a detection run`);
  if (base.task !== 'train') throw new ConfigError(`--init ${flags.init} is a '${base.task}' run; start CAT from a full-precision detection run`);
  const given = onlyDetectionFields(catFields(flags), fileFields(file, 'cat'), 'cat');
  const config: RunConfig = {
    ...TRAIN_DEFAULTS, model: base.model, dataset: 'voc', data: base.data, imageSize: base.imageSize, batchSize: base.batchSize, seed: base.seed,
    workers: base.workers, badImages: base.badImages,
    ...DETECTION_CAT_DEFAULTS, ...given,
    task: 'cat', taskKind: 'detection', init: flags.init,
    detection: settings({ ...base.detection!, warmupIters: 0 }, file, flags),
  };
  const out = floatWeights(config);
  validateConfig(out);
  return out;
}
