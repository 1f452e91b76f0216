// The training loop shared by float training and CAT fine-tuning: per-step loss with its parts
// logged separately, NaN guard naming the layer, per-epoch evaluation, atomic checkpoints, resume.
import { mkdirSync } from 'node:fs';
import { F, dispose, manualSeed, tidy, type Tensor } from '../tensor/index.js';
import { shardedBatchCount, shardedBatches, type BatchSource, type Shard } from '../data/index.js';
import type { DistributedContext, GradientSync } from '../distributed/index.js';
import { buildOptimizer, type Session } from './session.js';
import type { Cat } from '../method/index.js';
import { resumeFrom, saveCheckpoint, type EpochRecord } from './checkpoint.js';
import { evaluateAccuracy } from './evaluate.js';
import { locateNonFinite, NonFiniteError } from './nonfinite.js';
import { freezeBatchNormStatistics, recalibrateBatchNormAsync } from './bn-recalibration.js';
import { silentProgress, type Progress } from './progress.js';
import { RateTarget, RATE_VALIDATION_BATCHES, rateTargetOptions, type RateTargetOptions } from './rate-target.js';
import { ConfigError } from './config.js';
import { measureSiteRates, overallBits } from './rate-measure.js';
import type { Json } from '../optim/index.js';
import { CatkitError } from '../errors.js';

export interface FitOptions {
  outDir: string;
  /** Continue from the checkpoint in outDir. */
  resume?: boolean;
  progress?: Progress;
  /** Stop after this many epochs of this call (tests use it to simulate an interruption). */
  stopAfterEpochs?: number;
  /**
   * A data-parallel run's view of its group: each rank trains on its shard with averaged
   * gradients, starts from rank 0's weights, and only rank 0 logs and writes checkpoints.
   */
  dist?: DistributedContext;
}

export interface StepStats { loss: number; task: number; act: number; weight: number; correct: number; count: number }

export interface FitResult {
  history: EpochRecord[];
  /** A rate-target run's controller, for the final outcome (null without a target). Dispose it. */
  rate: RateTarget | null;
  /** The epoch whose weights the model ended with, when an earlier one was closer to the target. */
  restoredEpoch: number | null;
}

/** Seeds each epoch from (seed, epoch) so a resumed run draws exactly what an uninterrupted one would. */
const epochSeed = (seed: number, epoch: number): number => (seed * 1_000_003 + epoch * 7919 + 1) % 2 ** 31;

/**
 * Trains `s` for its configured epochs (or continues a checkpointed run), reading batches from
 * its sources as they come (in memory or decoded by worker threads). Every batch is disposed,
 * also when a step fails; closing the sources is the caller's job (see disposeSession).
 */
export async function fit(s: Session, o: FitOptions): Promise<FitResult> {
  const c = s.config;
  mkdirSync(o.outDir, { recursive: true });
  const dist = o.dist;
  const main = !dist || dist.isMain;
  const progress = main ? o.progress ?? silentProgress() : silentProgress();
  const targetOptions = s.cat ? rateTargetOptions(c, c.epochs * s.train.numBatches) : null;
  if (targetOptions && dist) throw new CatkitError('bad_config', '--target-bits is not supported with data-parallel training yet: run it in one process');
  const rate = targetOptions && s.cat ? newRateTarget(s.cat, targetOptions) : null;
  const { optimizer, schedule } = buildOptimizer(s);
  let sync: GradientSync | undefined;
  let ok = false;
  try {
    let startEpoch = 0;
    let history: EpochRecord[] = [];

    if (o.resume) {
      const meta = resumeFrom(o.outDir, s.model, optimizer, schedule);
      startEpoch = meta.epoch;
      history = meta.history;
      rate?.load(meta.extra.rate);
      progress.stop(`resuming ${o.outDir} after epoch ${startEpoch}`);
    } else if (s.cat && s.cat.sites.some((q) => q.clip)) {
      // Clip initialisation from activation statistics on held-out training data.
      const clips = await s.cat.calibrate(streamInputs(s.validation, 0, c.calibrationBatches));
      progress.stop(`calibrated ${clips.length} clips (${c.clipInit}): ${clips.map((x) => x.clip.toFixed(2)).join(' ')}`);
    }
    // Epochs from this one on (0-based) train against fixed batch-norm statistics.
    const frozenFrom = c.task === 'cat' && c.freezeBatchNorm !== undefined ? c.freezeBatchNorm - 1 : Infinity;
    if (frozenFrom === 0 && !o.resume && c.bnRecalibration > 0) {
      // The statistics the whole run normalises with: estimated once, with the quantizers on.
      // (rank 0's, broadcast below with the weights)
      await recalibrateBatchNormAsync(s.model, streamInputs(s.train, 0, c.bnRecalibration, dist?.trainShard));
    }

    if (dist) {
      // Every rank continues from rank 0's weights, buffers and calibrated clips.
      await dist.broadcastModule(s.model);
      sync = dist.gradientSync(s.model);
    }
    const shard = dist?.trainShard;
    const cat = s.cat;
    const stages = cat?.sites.length ?? 0;
    const lastEpoch = Math.min(c.epochs, o.stopAfterEpochs !== undefined ? startEpoch + o.stopAfterEpochs : c.epochs);
    for (let epoch = startEpoch; epoch < lastEpoch; epoch++) {
      manualSeed(epochSeed(c.seed, epoch));
      if (cat && c.gradual > 0) cat.setGradualStage(Math.min(stages - 1, Math.floor(epoch / c.gradual)));
      // Annealing is per epoch (the reference compounds it on every forward, eval included).
      cat?.setTemperatureFactor(c.temperatureAnneal ** epoch);
      const t0 = performance.now();
      s.model.train();
      const frozenBn = epoch >= frozenFrom;
      if (frozenBn) freezeBatchNormStatistics(s.model);
      const sum: StepStats = { loss: 0, task: 0, act: 0, weight: 0, correct: 0, count: 0 };
      let steps = 0;
      progress.start(`epoch ${epoch + 1}/${c.epochs}`, shardedBatchCount(s.train, shard));
      for await (const batch of shardedBatches(s.train, epoch, shard)) {
        // An image batch whose every file was skipped as unreadable (other ranks still step: join their allreduce).
        if (batch.y.shape[0] === 0) { dispose(batch); if (sync) emptyStep(sync, optimizer); continue; }
        let st: StepStats;
        try { st = trainStep(s, batch.x, batch.y, optimizer, sync, rate ?? undefined); } finally { dispose(batch); }
        for (const k of Object.keys(sum) as (keyof StepStats)[]) sum[k] += st[k];
        steps++;
        // In-memory batches arrive as resolved promises, so without this turn of the event loop
        // signals (Ctrl-C) and timers would wait for the whole run to finish.
        await new Promise<void>((resolve) => setImmediate(resolve));
        progress.update(steps, {
          loss: (sum.loss / steps).toFixed(3), acc: (sum.correct / sum.count).toFixed(3), ...(cat && (c.lambda > 0 || rate) ? { H: (sum.act / steps).toFixed(3) } : {}),
          ...(rate ? { 'λ': rate.controller.lambdas.map((l) => l.toPrecision(3)).join('/') } : {}),
        });
      }
      if (dist) {
        // The epoch's figures over all ranks; batch-norm running statistics are rank 0's (DDP's broadcast_buffers).
        const keys = Object.keys(sum) as (keyof StepStats)[];
        const [total, ...parts] = await dist.sum([steps, ...keys.map((k) => sum[k])]);
        keys.forEach((k, i) => { sum[k] = parts[i]!; });
        steps = total!;
        await dist.broadcastBuffers(s.model);
      }
      // The rate this epoch trained at (after step() it is the next epoch's).
      const epochLr = optimizer.paramGroups[0]!.lr;
      schedule.step();
      if (c.task === 'cat' && c.bnRecalibration > 0 && !frozenBn) {
        // Each rank re-estimates on its own shard; the statistics are averaged across ranks.
        await recalibrateBatchNormAsync(s.model, streamInputs(s.train, epoch, c.bnRecalibration, shard));
        if (dist) await dist.averageBuffers(s.model);
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const testAcc = await evaluateAccuracy(s.model, s.test, { dist });
      // Achieved bits after the epoch, on the validation split (a target run calibrates on it).
      const rates: { bits: number; metricBits?: number; lambda?: number } | null =
        rate ? rate.endEpoch(epoch + 1, await measureSiteRates(rate.cat, s.validation, rate.metric, RATE_VALIDATION_BATCHES),
          (await evaluateAccuracy(s.model, s.validation, { dist })).top1)
          : cat ? await validationBits(cat, s.validation) : null;
      const record: EpochRecord = {
        epoch: epoch + 1, loss: sum.loss / steps, taskLoss: sum.task / steps, actRegularizer: sum.act / steps, weightRegularizer: sum.weight / steps,
        trainAccuracy: sum.correct / sum.count, testAccuracy: testAcc.top1, lr: epochLr, epochSeconds: trainSeconds,
        ...(rates ?? {}),
      };
      history.push(record);
      const clips = cat ? cat.clips() : {};
      const extra: { [k: string]: Json } = rate ? { clips, rate: rate.state() } : { clips };
      if (main) saveCheckpoint(o.outDir, { epoch: epoch + 1, config: c, schedule: schedule.stateDict(), history, extra }, s.model.stateDict(), optimizer.stateDict());
      progress.stop(`epoch ${epoch + 1}/${c.epochs}  loss ${record.loss.toFixed(4)} (task ${record.taskLoss.toFixed(4)}` +
        (cat ? `, act ${record.actRegularizer.toFixed(3)}, w ${record.weightRegularizer.toFixed(3)}` : '') +
        `)  train acc ${record.trainAccuracy.toFixed(4)}  test acc ${record.testAccuracy.toFixed(4)}` +
        (rates ? `  bits ${rates.bits.toFixed(3)}` : '') + (rate && rates?.lambda !== undefined ? ` (${rate.metric} ${rates.metricBits!.toFixed(3)}) λ ${rates.lambda.toPrecision(3)}` : '') +
        `  ${trainSeconds.toFixed(1)} s`);
    }
    const restoredEpoch = rate && lastEpoch === c.epochs ? rate.restoreBest(lastEpoch) : null;
    if (restoredEpoch !== null) progress.stop(`the model goes back to epoch ${restoredEpoch}, the most accurate on validation data within the rate tolerance`);
    ok = true;
    return { history, rate, restoredEpoch };
  } finally {
    sync?.dispose();
    optimizer.dispose(); // its state lives in the checkpoint
    if (!ok) rate?.dispose();
  }
}

/** The run's rate target; a --target-bits-at pattern that selects no site is the user's mistake. */
function newRateTarget(cat: Cat, o: RateTargetOptions): RateTarget {
  try { return new RateTarget(cat, o); } catch (e) { throw e instanceof RangeError ? new ConfigError(e.message) : e; }
}

/** Validation entropy of a CAT model after an epoch (the `bits` of its history). */
async function validationBits(cat: Cat, validation: BatchSource): Promise<{ bits: number }> {
  const m = await measureSiteRates(cat, validation, 'entropy', RATE_VALIDATION_BATCHES);
  return { bits: overallBits(m.entropy, m.numel) };
}

/**
 * One optimisation step: task loss + λ_a·(activation term) + λ_w·(weight term). With a rate target
 * the activation term carries each site's λ from the target's controller (Σ λ_s·n_s·H_s / Σ n_s),
 * which then hears the step's measured rate.
 */
export function trainStep(s: Session, x: Tensor, y: Tensor, optimizer: ReturnType<typeof buildOptimizer>['optimizer'], sync?: GradientSync, target?: RateTarget): StepStats {
  const c = s.config;
  return tidy(() => {
    // At λ = 0 the sites skip the soft entropy: a plain QAT step.
    const request = target ? target.request() : { terms: c.lambda > 0 };
    const { output: logits, rate } = s.cat ? s.cat.forward(x, request) : { output: s.model.forward(x), rate: null };
    const task = F.crossEntropy(logits, y);
    let loss = task;
    let act = 0, weight = 0;
    if (s.cat && rate) {
      const term = s.cat.activationTerm(rate);
      if (term) {
        act = term.item();
        const penalty = target ? target.penalty(rate, term) : c.lambda > 0 ? term.mul(c.lambda) : null;
        if (penalty) loss = loss.add(penalty);
      }
      if (c.lambdaW > 0) {
        const w = s.cat.weightTerm();
        if (w) { weight = w.item(); loss = loss.add(w.mul(c.lambdaW)); }
      }
    }
    const lossValue = loss.item();
    if (!Number.isFinite(lossValue)) {
      throw new NonFiniteError(`training stopped: the loss is ${lossValue} (task ${task.item()}, activation term ${act}, weight term ${weight}); ${locateNonFinite(s.model, x, { output: logits, cat: s.cat })}. ` +
        'Lower --lr or --lambda, or resume from the last checkpoint.');
    }
    optimizer.zeroGrad();
    sync?.prepare();
    loss.backward();
    sync?.finish(); // gradients averaged over the ranks of a data-parallel run
    optimizer.step();
    if (target && rate) target.observe(rate);
    const correct = logits.argmax(1).eq(y).sum().item();
    return { loss: lossValue, task: task.item(), act, weight, correct, count: y.shape[0]! };
  });
}

/** A rank with nothing to train on this step still joins the gradient allreduce and applies the average. */
function emptyStep(sync: GradientSync, optimizer: ReturnType<typeof buildOptimizer>['optimizer']): void {
  tidy(() => { optimizer.zeroGrad(); sync.prepare(); sync.finish(); optimizer.step(); });
}

/**
 * The inputs of the first n batches of an epoch, one at a time: each batch's labels are disposed
 * at once and its input when the consumer asks for the next one (or stops). No batch beyond the
 * n-th is requested.
 */
export async function* streamInputs(source: BatchSource, epoch: number, n: number, shard?: Shard): AsyncGenerator<Tensor, void, undefined> {
  if (n <= 0) return;
  let taken = 0;
  for await (const b of shardedBatches(source, epoch, shard)) {
    b.y.dispose();
    try { yield b.x; } finally { b.x.dispose(); }
    if (++taken >= n) break;
  }
}
