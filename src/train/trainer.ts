// The training loop shared by float training and CAT fine-tuning: per-step loss with its parts
// logged separately, NaN guard naming the layer, per-epoch evaluation, atomic checkpoints, resume.
import { mkdirSync } from 'node:fs';
import { F, dispose, manualSeed, tidy, type Tensor } from '../tensor/index.js';
import { activationRegularizer, calibrateClipsAsync, setGradualStage, weightEntropyTerm } from '../method/index.js';
import type { BatchSource } from '../data/index.js';
import { buildOptimizer, type Session } from './session.js';
import { loadCheckpoint, saveCheckpoint, type EpochRecord } from './checkpoint.js';
import { evaluateAccuracy } from './evaluate.js';
import { locateNonFinite, NonFiniteError } from './nonfinite.js';
import { recalibrateBatchNormAsync } from './bn-recalibration.js';
import { createProgress, type Progress } from './progress.js';

export interface FitOptions {
  outDir: string;
  /** Continue from the checkpoint in outDir. */
  resume?: boolean;
  progress?: Progress;
  /** Stop after this many epochs of this call (tests use it to simulate an interruption). */
  stopAfterEpochs?: number;
}

export interface StepStats { loss: number; task: number; act: number; weight: number; correct: number; count: number }

/** Seeds each epoch from (seed, epoch) so a resumed run draws exactly what an uninterrupted one would. */
const epochSeed = (seed: number, epoch: number): number => (seed * 1_000_003 + epoch * 7919 + 1) % 2 ** 31;

/**
 * Trains `s` for its configured epochs (or continues a checkpointed run), reading batches from
 * its sources as they come (in memory or decoded by worker threads). Every batch is disposed,
 * also when a step fails; closing the sources is the caller's job (see disposeSession).
 */
export async function fit(s: Session, o: FitOptions): Promise<EpochRecord[]> {
  const c = s.config;
  mkdirSync(o.outDir, { recursive: true });
  const progress = o.progress ?? createProgress();
  const { optimizer, schedule } = buildOptimizer(s);
  try {
    let startEpoch = 0;
    let history: EpochRecord[] = [];

    if (o.resume) {
      const ck = loadCheckpoint(o.outDir);
      try {
        s.model.loadStateDict(ck.model);
        if (ck.meta.optimizer) optimizer.loadStateDict({ tensors: ck.optimizer, scalars: ck.meta.optimizer });
        if (ck.meta.schedule) schedule.loadStateDict(ck.meta.schedule);
      } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }
      startEpoch = ck.meta.epoch;
      history = ck.meta.history;
      progress.stop(`resuming ${o.outDir} after epoch ${startEpoch}`);
    } else if (c.task === 'cat' && s.quantizers.some((q) => q.clip)) {
      // Clip initialisation from activation statistics on held-out training data.
      const clips = await calibrateClipsAsync(s.model, s.quantizers, streamInputs(s.validation, 0, c.calibrationBatches), c.clipInit);
      progress.stop(`calibrated ${clips.length} clips (${c.clipInit}): ${clips.map((x) => x.clip.toFixed(2)).join(' ')}`);
    }

    const stages = s.quantizers.length;
    const lastEpoch = Math.min(c.epochs, o.stopAfterEpochs !== undefined ? startEpoch + o.stopAfterEpochs : c.epochs);
    for (let epoch = startEpoch; epoch < lastEpoch; epoch++) {
      manualSeed(epochSeed(c.seed, epoch));
      if (c.task === 'cat' && c.gradual > 0) setGradualStage(s.quantizers, Math.min(stages - 1, Math.floor(epoch / c.gradual)));
      // Annealing is per epoch (the reference compounds it on every forward, eval included).
      for (const q of s.quantizers) q.temperature = c.temperature * c.temperatureAnneal ** epoch;
      const t0 = performance.now();
      s.model.train();
      const sum: StepStats = { loss: 0, task: 0, act: 0, weight: 0, correct: 0, count: 0 };
      let steps = 0;
      progress.start(`epoch ${epoch + 1}/${c.epochs}`, s.train.numBatches);
      for await (const batch of s.train.batches(epoch)) {
        // An image batch whose every file was skipped as unreadable.
        if (batch.y.shape[0] === 0) { dispose(batch); continue; }
        let st: StepStats;
        try { st = trainStep(s, batch.x, batch.y, optimizer); } finally { dispose(batch); }
        for (const k of Object.keys(sum) as (keyof StepStats)[]) sum[k] += st[k];
        steps++;
        progress.update(steps, { loss: (sum.loss / steps).toFixed(3), acc: (sum.correct / sum.count).toFixed(3), ...(s.quantizers.length ? { H: (sum.act / steps).toFixed(3) } : {}) });
      }
      schedule.step();
      if (c.task === 'cat' && c.bnRecalibration > 0) {
        await recalibrateBatchNormAsync(s.model, streamInputs(s.train, epoch, c.bnRecalibration));
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const testAcc = await evaluateAccuracy(s.model, s.test);
      const record: EpochRecord = {
        epoch: epoch + 1, loss: sum.loss / steps, taskLoss: sum.task / steps, actRegularizer: sum.act / steps, weightRegularizer: sum.weight / steps,
        trainAccuracy: sum.correct / sum.count, testAccuracy: testAcc.top1, lr: optimizer.paramGroups[0]!.lr, epochSeconds: trainSeconds,
      };
      history.push(record);
      const clips = Object.fromEntries(s.quantizers.filter((q) => q.clip).map((q) => [q.site, q.clip!.item()]));
      saveCheckpoint(o.outDir, { epoch: epoch + 1, config: c, schedule: schedule.stateDict(), history, extra: { clips } }, s.model.stateDict(), optimizer.stateDict());
      progress.stop(`epoch ${epoch + 1}/${c.epochs}  loss ${record.loss.toFixed(4)} (task ${record.taskLoss.toFixed(4)}` +
        (s.quantizers.length ? `, act ${record.actRegularizer.toFixed(3)}, w ${record.weightRegularizer.toFixed(3)}` : '') +
        `)  train acc ${record.trainAccuracy.toFixed(4)}  test acc ${record.testAccuracy.toFixed(4)}  ${trainSeconds.toFixed(1)} s`);
    }
    return history;
  } finally { optimizer.dispose(); } // its state lives in the checkpoint
}

/** One optimisation step: task loss + λ_a·(activation term) + λ_w·(weight term). */
export function trainStep(s: Session, x: Tensor, y: Tensor, optimizer: ReturnType<typeof buildOptimizer>['optimizer']): StepStats {
  const c = s.config;
  return tidy(() => {
    const logits = s.model.forward(x);
    const task = F.crossEntropy(logits, y);
    let loss = task;
    let act = 0, weight = 0;
    if (c.task === 'cat') {
      const { term } = activationRegularizer(s.quantizers);
      if (term) { act = term.item(); if (c.lambda > 0) loss = loss.add(term.mul(c.lambda)); }
      if (c.lambdaW > 0) {
        const w = weightEntropyTerm(s.model);
        if (w) { weight = w.item(); loss = loss.add(w.mul(c.lambdaW)); }
      }
    }
    const lossValue = loss.item();
    if (!Number.isFinite(lossValue)) {
      throw new NonFiniteError(`training stopped: the loss is ${lossValue} (task ${task.item()}, activation term ${act}, weight term ${weight}); ${locateNonFinite(s.model, x)}. ` +
        'Lower --lr or --lambda, or resume from the last checkpoint.');
    }
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    const correct = logits.argmax(1).eq(y).sum().item();
    return { loss: lossValue, task: task.item(), act, weight, correct, count: y.shape[0]! };
  });
}

/**
 * The inputs of the first n batches of an epoch, one at a time: each batch's labels are disposed
 * at once and its input when the consumer asks for the next one (or stops). No batch beyond the
 * n-th is requested.
 */
export async function* streamInputs(source: BatchSource, epoch: number, n: number): AsyncGenerator<Tensor, void, undefined> {
  if (n <= 0) return;
  let taken = 0;
  for await (const b of source.batches(epoch)) {
    b.y.dispose();
    try { yield b.x; } finally { b.x.dispose(); }
    if (++taken >= n) break;
  }
}
