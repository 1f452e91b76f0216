// Refuses a run whose batches could not fit in this machine's memory, before anything large is
// allocated (a --resize 4096 of a batch of 128 asks libtorch for tens of GB and dies there).
// The estimate comes from a probe: one forward pass of a single small image counts the elements
// every layer outputs; convolutional activations grow with the image area, so they are scaled to
// the real image size and batch.
import os from 'node:os';
import { CatkitError } from '../errors.js';
import { noGrad, tidy, zeros, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { BatchSource } from '../data/index.js';

/** Side of the probe image (smaller real images are probed at their own size). */
const PROBE_SIDE = 32;

export interface ActivationProfile {
  /** Elements of all leaf-module outputs for one image of the given shape. */
  total: number;
  /** The largest single output. */
  largest: number;
}

/** Counts leaf-module output elements for one image of shape [C, H, W] (scaled from a small probe). Null if the probe fails. */
export function activationProfile(model: Module, shape: readonly number[]): ActivationProfile | null {
  const [c, h, w] = shape as [number, number, number];
  const ph = Math.min(h, PROBE_SIDE), pw = Math.min(w, PROBE_SIDE);
  const scale = (h * w) / (ph * pw);
  let total = 0, largest = 0;
  const restore: [Module, Module['forward']][] = [];
  for (const [name, m] of model.namedModules()) {
    if (name === '' || m.children().length > 0) continue;
    const original = m.forward;
    restore.push([m, original]);
    m.forward = function (this: Module, input: Tensor): Tensor {
      const out = original.call(this, input);
      const n = (out as Partial<Tensor> | undefined)?.size;
      if (typeof n === 'number') { total += n; largest = Math.max(largest, n); }
      return out;
    };
  }
  const wasTraining = model.training;
  try {
    model.eval();
    noGrad(() => tidy(() => { model.forward(zeros([1, c, ph, pw])); }));
  } catch {
    return null; // a model that cannot take the probe size: no estimate (the run itself will say what is wrong)
  } finally {
    for (const [m, f] of restore) m.forward = f;
    model.train(wasTraining);
  }
  return { total: total * scale, largest: largest * scale };
}

const GB = 1024 ** 3;
const fmt = (bytes: number): string => `${(bytes / GB).toFixed(bytes < 10 * GB ? 1 : 0)} GB`;

interface Sized { batchSize?: number; sampleShape?: readonly number[] }

/**
 * Throws a user-facing error when training (activations kept for the backward pass, their
 * gradients) or evaluation batches of these sources would need more than the machine's memory.
 */
export function checkMemoryBudget(model: Module, parts: { train: BatchSource; test: BatchSource }, o: { quantized?: boolean; budget?: number } = {}): void {
  const budget = o.budget ?? os.totalmem();
  const train = parts.train as BatchSource & Sized, test = parts.test as BatchSource & Sized;
  const shape = train.sampleShape ?? test.sampleShape;
  if (!shape || shape.length !== 3) return;
  const profile = activationProfile(model, shape);
  const input = shape.reduce((a, b) => a * b, 1);
  const perImage = (kind: 'train' | 'eval'): number => profile === null ? 2 * input * 4
    : kind === 'train' ? 4 * (2 * input + profile.total + 2 * profile.largest) : 4 * (2 * input + 2 * profile.largest + (o.quantized ? profile.total : 0));
  for (const [kind, source] of [['train', train], ['eval', test]] as const) {
    const batch = source.batchSize ?? 1;
    const need = batch * perImage(kind);
    if (need > budget) {
      throw new CatkitError('memory_limit',
        `${kind === 'train' ? 'training' : 'evaluation'} batches of ${batch} images of ${shape.join('×')} need about ${fmt(need)} of memory; this machine has ${fmt(budget)}`,
        { hint: 'lower --resize / --image-size or --batch-size' });
    }
  }
}
