// Builds everything a run needs from its config: data splits and batch sources (in-memory loaders,
// or image-folder loaders decoding with worker threads), the model (float or CAT-converted, with
// initial weights), the optimizer and schedule.
import { dispose, manualSeed } from '../tensor/index.js';
import {
  DataError, DataLoader, ImageFolderLoader, closeSources, getDataset, isImageFolderDataset, limit, openImageFolder, splitDataset,
  splitIndices, subsetImageFolder, type BatchSource, type ImageDataset,
} from '../data/index.js';
import type { Module } from '../nn/index.js';
import { buildModel } from '../models/registry.js';
import { SGD, Adam, AdamW, CosineAnnealingLR, ExponentialLR, StepLR, LambdaLR, LinearWarmup, paramGroupsNoDecay, type LRScheduler, type Optimizer } from '../optim/index.js';
import { attachCat, type Cat, type CatOptions } from '../method/index.js';
import { ConfigError, validateConfig, type RunConfig } from './config.js';
import { loadCheckpoint } from './checkpoint.js';

export interface Session {
  config: RunConfig;
  model: Module;
  /** The CAT attachment (sites input to output, weight layers); null for a float run. */
  cat: Cat | null;
  train: BatchSource;
  /** Held-out part of the training split: calibration, static code tables, validation. */
  validation: BatchSource;
  test: BatchSource;
  classNames: string[];
  numClasses: number;
}

/** The data of a run: three batch sources and what the model needs to know about the classes. */
interface DataSources { train: BatchSource; validation: BatchSource; test: BatchSource; classNames: readonly string[]; numClasses: number; channels: number }

/** Ends a session: disposes the model and closes its batch sources (stopping decoding threads). */
export async function disposeSession(s: Session): Promise<void> {
  try { s.model.dispose(); } finally { await closeSources([s.train, s.validation, s.test]); }
}

/** Digits, Fashion-MNIST, CIFAR: decoded into memory, split, and served by DataLoaders. */
function inMemorySources(c: RunConfig): DataSources {
  const splits = getDataset(c.dataset, { data: c.data });
  const parts = splitDataset(splits.train, { validation: c.validation, seed: c.seed });
  let trainSet: ImageDataset = parts.train, testSet = splits.test;
  if (c.limitTrain) trainSet = limit(trainSet, c.limitTrain, c.seed);
  if (c.limitTest) testSet = limit(testSet, c.limitTest, c.seed);
  const padTo = c.padTo > 0 ? c.padTo : undefined;
  const resize = c.resize ?? 0;
  const train = new DataLoader(trainSet, { batchSize: c.batchSize, shuffle: true, seed: c.seed, dropLast: true, padTo, randomCrop: c.randomCrop, hflip: c.hflip, resize });
  const evalOpts = { batchSize: Math.max(c.batchSize, 128), normalize: train.normalization, padTo, resize };
  const test = new DataLoader(testSet, evalOpts);
  // A model trained on one image size and tested on another would be measured on the wrong thing (or fail mid-run).
  if (train.sampleShape.join() !== test.sampleShape.join()) {
    throw new DataError(`${c.dataset}${c.data ? ` (${c.data})` : ''}: training images are ${train.sampleShape.join('×')} but test images are ${test.sampleShape.join('×')}`,
      { code: 'shape_mismatch', hint: 'give both splits one image size, or bring them to one with --pad-to S or --resize S' });
  }
  return {
    train, validation: new DataLoader(parts.validation, evalOpts), test,
    classNames: splits.classNames, numClasses: splits.train.numClasses, channels: splits.train.channels,
  };
}

/**
 * An ImageNet-style folder: train/ (at most --limit-train images, stratified) minus a stratified
 * held-out --validation share, and val/ (at most --limit-test) as the test split. Images are
 * decoded by worker threads as batches are consumed. Evaluation batches are as large as training
 * ones (224 px activations of a batch of 128 do not fit a small machine), and the held-out and
 * test splits are read in a fixed shuffled order so their first batches (calibration, static
 * code tables, --coded-batches) mix all classes.
 */
function imageFolderSources(c: RunConfig): DataSources {
  const root = c.data!; // validateConfig checked it
  const all = openImageFolder(root, { split: 'train', limit: c.limitTrain, seed: c.seed });
  const parts = splitIndices(all.labels, all.numClasses, { validation: c.validation, seed: c.seed });
  const trainSplit = subsetImageFolder(all, parts.train);
  const heldOut = subsetImageFolder(all, parts.validation, `${all.name} (held out)`);
  const testSplit = openImageFolder(root, { split: 'val', limit: c.limitTest, seed: c.seed });
  const limitHint = c.limitTrain ? ' or raise --limit-train' : '';
  if (heldOut.n === 0) throw new ConfigError(`--validation ${c.validation} of ${all.n} training images holds out none; raise --validation${limitHint}`);
  if (trainSplit.n < c.batchSize) {
    throw new ConfigError(`${trainSplit.n} training images (after holding out ${heldOut.n}) do not fill one batch of ${c.batchSize}; lower --batch-size${limitHint}`);
  }
  const common = { batchSize: c.batchSize, size: c.imageSize, seed: c.seed, workers: c.workers > 0 ? c.workers : undefined, onBadImage: c.badImages };
  return {
    train: new ImageFolderLoader(trainSplit, { ...common, augment: true, shuffle: true, dropLast: true }),
    validation: new ImageFolderLoader(heldOut, { ...common, augment: false, shuffle: true }),
    test: new ImageFolderLoader(testSplit, { ...common, augment: false, shuffle: true }),
    classNames: all.classNames, numClasses: all.numClasses, channels: 3,
  };
}

/** Builds the session for a config, starting from config.init's weights when given (CAT: before quantizers attach). */
export function buildSession(config: RunConfig): Session {
  validateConfig(config);
  const data = isImageFolderDataset(config.dataset) ? imageFolderSources(config) : inMemorySources(config);
  const { train, validation, test, numClasses } = data;
  manualSeed(config.seed); // initial weights are part of the run's identity
  const model = buildModel(config.model, { inChannels: data.channels, numClasses, widthMultiplier: config.widthMultiplier });
  let cat: Cat | null = null;
  try {
    if (config.init) loadFloatWeights(model, config.init);
    if (config.task === 'cat') cat = attachCat(model, catOptions(config));
  } catch (e) { model.dispose(); throw e; }
  return { config, model, cat, train, validation, test, classNames: [...data.classNames], numClasses };
}

/** The CAT attachment a run config describes: every ReLU/ReLU6 site, per-site bits by glob, conv (+ Linear) weights. */
export function catOptions(c: RunConfig): CatOptions {
  return {
    defaults: {
      bits: c.actBits ?? 4, regularizer: c.method, temperature: c.temperature, range: c.range, clipInit: c.clipInit,
      sampling: { stride: c.sampleStride, images: c.sampleImages, randomValues: c.sampleRandom > 0 ? c.sampleRandom : undefined },
    },
    at: (c.actBitsAt ?? []).map(({ pattern, bits }) => ({ pattern, bits })),
    noQuantEdges: c.noQuantEdges,
    weights: c.weightBits !== undefined && c.weightBits < 32 ? { bits: c.weightBits, linear: c.quantizeLinear } : null,
  };
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

