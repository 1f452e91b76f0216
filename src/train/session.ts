// Builds everything a run needs from its config: data splits and loaders, the model (float or
// CAT-converted, with initial weights), the optimizer and schedule.
import { dispose, manualSeed } from '../tensor/index.js';
import { DataLoader, closeSources, getDataset, limit, splitDataset, type BatchSource, type ImageDataset } from '../data/index.js';
import type { Module } from '../nn/index.js';
import { buildModel } from '../models/registry.js';
import { SGD, Adam, AdamW, CosineAnnealingLR, ExponentialLR, StepLR, LambdaLR, LinearWarmup, paramGroupsNoDecay, type LRScheduler, type Optimizer } from '../optim/index.js';
import { attachActQuant, quantizeWeights, type ActQuant } from '../method/index.js';
import type { RunConfig } from './config.js';
import { loadCheckpoint } from './checkpoint.js';

export interface Session {
  config: RunConfig;
  model: Module;
  /** Activation quantizers, input to output (empty for a float run). */
  quantizers: ActQuant[];
  train: BatchSource;
  /** Held-out part of the training split: calibration, static code tables, validation. */
  validation: BatchSource;
  test: BatchSource;
  classNames: string[];
  numClasses: number;
}

/** Ends a session: disposes the model and closes its batch sources (stopping decoding threads). */
export async function disposeSession(s: Session): Promise<void> {
  try { s.model.dispose(); } finally { await closeSources([s.train, s.validation, s.test]); }
}

export class ConfigError extends Error {
  override readonly name = 'UserError';
}

export function validateConfig(c: RunConfig): void {
  const positiveInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${what} must be a positive integer, got ${v}`);
  };
  positiveInt(c.epochs, '--epochs');
  positiveInt(c.batchSize, '--batch-size');
  if (!(c.lr > 0)) throw new ConfigError(`--lr must be positive, got ${c.lr}`);
  if (!(c.validation > 0 && c.validation < 1)) throw new ConfigError(`--validation must be a fraction in (0, 1), got ${c.validation}`);
  if (c.task === 'cat') {
    for (const [flag, bits] of [['--act-bits', c.actBits], ['--weight-bits', c.weightBits]] as const) {
      if (bits === undefined) continue;
      if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new ConfigError(`${flag} must be an integer from 1 to 16, got ${bits}`);
    }
    if (!(c.lambda >= 0)) throw new ConfigError(`--lambda must be >= 0, got ${c.lambda}`);
    if (!(c.lambdaW >= 0)) throw new ConfigError(`--lambda-w must be >= 0, got ${c.lambdaW}`);
    if (!['entropy', 'compression', 'none'].includes(c.method)) throw new ConfigError(`--method must be entropy, compression or none, got '${c.method}'`);
  }
}

function loaders(c: RunConfig, trainSet: ImageDataset, validationSet: ImageDataset, testSet: ImageDataset) {
  const padTo = c.padTo > 0 ? c.padTo : undefined;
  const train = new DataLoader(trainSet, { batchSize: c.batchSize, shuffle: true, seed: c.seed, dropLast: true, padTo, randomCrop: c.randomCrop, hflip: c.hflip });
  const evalOpts = { batchSize: Math.max(c.batchSize, 128), normalize: train.normalization, padTo };
  return { train, validation: new DataLoader(validationSet, evalOpts), test: new DataLoader(testSet, evalOpts) };
}

/** Builds the session for a config; for CAT runs, loads the float weights from config.init first. */
export function buildSession(config: RunConfig): Session {
  validateConfig(config);
  const splits = getDataset(config.dataset, { data: config.data });
  const parts = splitDataset(splits.train, { validation: config.validation, seed: config.seed });
  let trainSet = parts.train, testSet = splits.test;
  if (config.limitTrain) trainSet = limit(trainSet, config.limitTrain, config.seed);
  if (config.limitTest) testSet = limit(testSet, config.limitTest, config.seed);
  const { train, validation, test } = loaders(config, trainSet, parts.validation, testSet);
  const numClasses = splits.train.numClasses;
  manualSeed(config.seed); // initial weights are part of the run's identity
  const model = buildModel(config.model, { inChannels: splits.train.channels, numClasses, widthMultiplier: config.widthMultiplier });
  let quantizers: ActQuant[] = [];
  try {
    if (config.task === 'cat') {
      if (config.init) loadFloatWeights(model, config.init);
      quantizers = attachActQuant(model, {
        bits: config.actBits ?? 4, regularizer: config.method, temperature: config.temperature, range: config.range,
        noQuantEdges: config.noQuantEdges,
        sampling: { stride: config.sampleStride, images: config.sampleImages, randomValues: config.sampleRandom > 0 ? config.sampleRandom : undefined },
      });
      if (config.weightBits !== undefined && config.weightBits < 32) quantizeWeights(model, { bits: config.weightBits, includeLinear: config.quantizeLinear });
    }
  } catch (e) { model.dispose(); throw e; }
  return { config, model, quantizers, train, validation, test, classNames: [...splits.classNames], numClasses };
}

/** Loads a float run's weights (a run folder, checkpoint.json, or a .safetensors state dict). */
function loadFloatWeights(model: Module, init: string): void {
  if (init.endsWith('.safetensors')) { model.load(init); return; }
  const ck = loadCheckpoint(init);
  try {
    model.loadStateDict(ck.model, { allowMissing: (k) => k.endsWith('.clip') });
  } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }
}

export function buildOptimizer(s: Session): { optimizer: Optimizer; schedule: LRScheduler } {
  const c = s.config;
  // BN parameters, biases and learned clips (all rank <= 1) carry no weight decay; the reference
  // also decays clips, which only pulls them toward 0 at lr 1e-4 and wd 4e-5.
  const groups = paramGroupsNoDecay(s.model);
  const optimizer: Optimizer = c.optimizer === 'sgd'
    ? new SGD(groups, { lr: c.lr, momentum: c.momentum, nesterov: c.nesterov && c.momentum > 0, weightDecay: c.weightDecay })
    : new (c.optimizer === 'adam' ? Adam : AdamW)(groups, { lr: c.lr, weightDecay: c.weightDecay });
  const main = (): LRScheduler => {
    const span = Math.max(1, c.epochs - c.warmupEpochs);
    switch (c.schedule) {
      case 'cosine': return new CosineAnnealingLR(optimizer, { tMax: span });
      case 'exponential': return new ExponentialLR(optimizer, { gamma: c.gamma ** (1 / span) });
      case 'step': return new StepLR(optimizer, { stepSize: c.stepSize, gamma: c.gamma });
      case 'constant': return new LambdaLR(optimizer, () => 1);
    }
  };
  const schedule = c.warmupEpochs > 0 ? new LinearWarmup(optimizer, main(), { warmupEpochs: c.warmupEpochs }) : main();
  return { optimizer, schedule };
}

