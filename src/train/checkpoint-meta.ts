// checkpoint.json: the part of a checkpoint that describes the run. Reading it needs no engine,
// so the CLI can check --init / --resume folders before libtorch loads.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Json, OptimizerStateDict, ScheduleState } from '../optim/index.js';
import { CatkitError } from '../errors.js';
import { DETECTION_SETTINGS_DEFAULTS, TASK_KINDS, TRAIN_DEFAULTS, type DetectionSettings, type RunConfig } from './config.js';

export interface EpochRecord { epoch: number; [metric: string]: number }

export interface CheckpointMeta {
  format: 'catkit-checkpoint';
  version: 1;
  /** Epochs completed. */
  epoch: number;
  config: RunConfig;
  tensorsFile: string;
  optimizer: OptimizerStateDict['scalars'] | null;
  schedule: ScheduleState | null;
  history: EpochRecord[];
  /** Clip values etc. that a reader may want without loading tensors. */
  extra: { [k: string]: Json };
}

export const CHECKPOINT_JSON = 'checkpoint.json';

/** A run folder or checkpoint that cannot be used (missing, malformed, a field out of range): user-facing. */
export class CheckpointError extends CatkitError {
  override name = 'CheckpointError';
  constructor(message: string, o: { file?: string; hint?: string; code?: string } = {}) {
    super(o.code ?? 'checkpoint_invalid', message, { file: o.file, hint: o.hint });
  }
}

/**
 * Reads and validates checkpoint.json only (no tensors), from a run folder or the file itself.
 * Options added after a run was saved take their defaults.
 */
export function readCheckpointMeta(dirOrFile: string): { meta: CheckpointMeta; dir: string } {
  const jsonFile = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, CHECKPOINT_JSON);
  if (!existsSync(jsonFile)) throw new CheckpointError(`no checkpoint at ${dirOrFile} (expected ${jsonFile})`);
  let meta: CheckpointMeta;
  try { meta = JSON.parse(readFileSync(jsonFile, 'utf8')) as CheckpointMeta; } catch (e) {
    throw new CheckpointError(`checkpoint ${jsonFile} is not valid JSON: ${(e as Error).message}`);
  }
  if (meta?.format !== 'catkit-checkpoint' || meta.version !== 1 || typeof meta.tensorsFile !== 'string' || !meta.config) {
    throw new CheckpointError(`${jsonFile} is not a catkit checkpoint (format/version/tensorsFile/config missing)`);
  }
  meta.config = { ...TRAIN_DEFAULTS, ...meta.config };
  if (meta.config.detection) meta.config.detection = { ...DETECTION_SETTINGS_DEFAULTS, ...meta.config.detection };
  const dir = path.dirname(jsonFile);
  validateMeta(meta, jsonFile, dir);
  return { meta, dir };
}

type Rule = readonly ['bitsAt'] | readonly ['targetsAt'] | readonly ['detection'] | readonly ['int', number, number] | readonly ['num', number, number, 'open'?] | readonly ['bool'] | readonly ['str'] | readonly ['one', readonly string[]];
const BIG = Number.MAX_SAFE_INTEGER;

/** What each saved config field may hold: the CLI's ranges, so a saved run is one the CLI could have made. */
const CONFIG_RULES: { [K in keyof RunConfig]-?: Rule } = {
  task: ['one', ['train', 'cat']], taskKind: ['one', TASK_KINDS], detection: ['detection'], model: ['str'], dataset: ['str'], data: ['str'], init: ['str'],
  widthMultiplier: ['num', 0.01, 64], epochs: ['int', 1, BIG], batchSize: ['int', 1, BIG], seed: ['int', 0, BIG],
  optimizer: ['one', ['sgd', 'adam', 'adamw']], lr: ['num', 0, Infinity, 'open'], momentum: ['num', 0, 1], nesterov: ['bool'],
  weightDecay: ['num', 0, Infinity], schedule: ['one', ['cosine', 'exponential', 'step', 'constant']], gamma: ['num', 0, Infinity],
  stepSize: ['int', 1, BIG], warmupEpochs: ['int', 0, BIG], randomCrop: ['int', 0, 16], hflip: ['bool'], padTo: ['int', 0, 4096],
  resize: ['int', 0, 4096], validation: ['num', 0, 1, 'open'], limitTrain: ['int', 1, BIG], limitTest: ['int', 1, BIG],
  imageSize: ['int', 1, 4096], workers: ['int', 0, 256], badImages: ['one', ['skip', 'fail']],
  actBits: ['int', 1, 16], actBitsAt: ['bitsAt'], weightBits: ['int', 1, 32], lambda: ['num', 0, Infinity], lambdaW: ['num', 0, Infinity],
  method: ['one', ['entropy', 'compression', 'none']], temperature: ['num', 0, Infinity], temperatureAnneal: ['num', 0, Infinity],
  sampleRandom: ['int', 0, BIG], quantizeLinear: ['bool'], gradual: ['int', 0, BIG], noQuantEdges: ['bool'],
  clipInit: ['one', ['mean+3std', 'aciq-laplace', 'aciq-gauss', 'max']], range: ['one', ['tensor', 'clip', 'channel']],
  sampleStride: ['int', 1, BIG], sampleImages: ['int', 1, BIG], calibrationBatches: ['int', 1, BIG], bnRecalibration: ['int', 0, BIG], freezeBatchNorm: ['int', 1, BIG],
  targetBits: ['num', 0, Infinity, 'open'], targetBitsAt: ['targetsAt'], targetMetric: ['one', ['entropy', 'huffman', 'rans', 'zerorun']],
  targetTolerance: ['num', 0, Infinity, 'open'], targetMeasureEvery: ['int', 1, BIG],
};

const DETECTION_RULES: { [K in keyof DetectionSettings]-?: Rule } = {
  trainSets: ['str'], testSets: ['str'], numClasses: ['int', 2, 100_000], augment: ['one', ['ssd', 'light', 'none']], warmupIters: ['int', 0, BIG],
  metric: ['one', ['voc07', 'area']], sites: ['one', ['reference', 'all']],
};

/** Why `v` breaks `rule`, or null. */
function breaks(rule: Rule, v: unknown): string | null {
  switch (rule[0]) {
    case 'int': return Number.isSafeInteger(v) && (v as number) >= rule[1] && (v as number) <= rule[2] ? null : `an integer from ${rule[1]} to ${rule[2] === BIG ? '2^53' : rule[2]}`;
    case 'num': {
      const ok = typeof v === 'number' && Number.isFinite(v) && (rule[3] === 'open' ? v > rule[1] && (rule[2] === Infinity || v < rule[2]) : v >= rule[1] && v <= rule[2]);
      return ok ? null : `a finite number ${rule[3] === 'open' ? `> ${rule[1]}` : `>= ${rule[1]}`}${rule[2] === Infinity ? '' : rule[3] === 'open' ? ` and < ${rule[2]}` : ` and <= ${rule[2]}`}`;
    }
    case 'bool': return typeof v === 'boolean' ? null : 'true or false';
    case 'str': return typeof v === 'string' && v.length > 0 ? null : 'a non-empty string';
    case 'one': return typeof v === 'string' && rule[1].includes(v) ? null : `one of ${rule[1].join(', ')}`;
    case 'detection': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'an object of detection settings';
      for (const [k, r] of Object.entries(DETECTION_RULES) as [keyof DetectionSettings, Rule][]) {
        const why = breaks(r, (v as Record<string, unknown>)[k]);
        if (why) return `an object whose ${k} is ${why}`;
      }
      const extra = Object.keys(v).find((k) => !Object.hasOwn(DETECTION_RULES, k));
      return extra ? `an object without the unknown field ${extra}` : null;
    }
    case 'bitsAt': {
      const ok = Array.isArray(v) && v.every((e: unknown) => e !== null && typeof e === 'object' && typeof (e as { pattern?: unknown }).pattern === 'string'
        && Number.isSafeInteger((e as { bits?: unknown }).bits) && (e as { bits: number }).bits >= 1 && (e as { bits: number }).bits <= 16);
      return ok ? null : 'a list of { pattern, bits } with bits an integer from 1 to 16';
    }
    case 'targetsAt': {
      const ok = Array.isArray(v) && v.every((e: unknown) => e !== null && typeof e === 'object' && typeof (e as { pattern?: unknown }).pattern === 'string'
        && (e as { pattern: string }).pattern !== '' && typeof (e as { bits?: unknown }).bits === 'number' && (e as { bits: number }).bits > 0 && Number.isFinite((e as { bits: number }).bits));
      return ok ? null : 'a list of { pattern, bits } with bits a positive number of bits';
    }
  }
}

/**
 * Checks checkpoint.json field by field, naming the file and the field: a hand-edited or corrupt
 * file is refused here instead of resuming as a silent no-op or failing deep inside training.
 */
function validateMeta(meta: CheckpointMeta, file: string, dir: string): void {
  const bad = (field: string, want: string, v: unknown): never => {
    throw new CheckpointError(`${file}: ${field} must be ${want}, got ${JSON.stringify(v) ?? String(v)}`, { file, code: 'checkpoint_field_invalid' });
  };
  for (const [key, rule] of Object.entries(CONFIG_RULES) as [keyof RunConfig, Rule][]) {
    const v = meta.config[key];
    if (v === undefined || (v === null && ['data', 'init', 'limitTrain', 'limitTest', 'actBits', 'weightBits', 'resize'].includes(key))) continue;
    const why = breaks(rule, v);
    if (why) bad(`config.${key}`, why, v);
  }
  if (!Number.isSafeInteger(meta.epoch) || meta.epoch < 0) bad('epoch', 'a non-negative integer (epochs completed)', meta.epoch);
  if (meta.epoch > meta.config.epochs) bad('epoch', `at most config.epochs (${meta.config.epochs})`, meta.epoch);
  const name = meta.tensorsFile;
  if (name !== path.basename(name) || !/^[\w.-]+\.safetensors$/.test(name)) bad('tensorsFile', 'the name of a .safetensors file in the run folder', name);
  const m = /^checkpoint-epoch(\d+)\.safetensors$/.exec(name);
  if (m && Number(m[1]) !== meta.epoch) bad('epoch', `${m[1]}, the epoch of its tensors file ${name}`, meta.epoch);
  if (!existsSync(path.join(dir, name))) {
    throw new CheckpointError(`${file}: tensorsFile ${name} is missing from ${dir}`, { file, code: 'checkpoint_field_invalid' });
  }
  if (!Array.isArray(meta.history)) bad('history', 'a list of epoch records', meta.history);
  if (meta.history.length !== meta.epoch) bad('history', `${meta.epoch} epoch records (one per completed epoch)`, `${meta.history.length} records`);
  meta.history.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r) || Object.values(r).some((x) => typeof x !== 'number' && x !== null)) bad(`history[${i}]`, 'an object of numbers', r);
  });
}
