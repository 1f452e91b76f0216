// `catkit text cat`: CAT on a fine-tuned BERT classifier as a run folder (see train/text/cat.ts for
// the sites and the per-type bits/value).
import { manualSeed, noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { BertForSequenceClassification } from '../models/bert/index.js';
import { loadBertFromHub } from '../models/bert/index.js';
import { batchOf, chunks, epochOrder } from '../train/text/batches.js';
import { evaluateClassifier, finetune, prepareTask, type ClassifierForward } from '../train/text/finetune.js';
import { loadTextTask, type TaskOptions, type TextTaskName } from '../train/text/tasks.js';
import { attachBertCat, evaluateBertCat, siteType, type SiteBits } from '../train/text/cat.js';
import { RateTarget, RATE_VALIDATION_BATCHES } from '../train/rate-target.js';
import type { SiteRates } from '../train/rate-measure.js';
import type { Json } from '../optim/index.js';
import { finishTextRun, openTextRun, readReport, restoreFromCheckpoint, runSettings, saveTextCheckpoint, tokenizerFor, type RunFolderOptions } from './text-runs.js';

export interface CatRunOptions extends RunFolderOptions {
  init: string; out: string; task: TextTaskName; taskOptions: TaskOptions; bits: number; weightBits: number; lambda: number; probs: boolean;
  /** Target bits/value (entropy, all sites): the library's RateTarget sets λ per step instead of `lambda`. */
  targetBits?: number; targetTolerance?: number;
  epochs: number; batchSize: number; lr: number; warmupRatio: number; weightDecay: number; maxLength: number; seed: number;
  calibrationBatches: number; vocab?: string; log?: (line: string) => void;
  /** Stop after this many epochs without finishing the folder (an interruption, for tests). */
  stopAfter?: number;
}

/** CAT from a fine-tuned classifier; checkpoints every epoch (clips included). Returns the report (null if stopped early). */
export function catRun(o: CatRunOptions): Record<string, unknown> | null {
  const settings = runSettings(o);
  const { lock, resume } = openTextRun(o.out, 'bert-cat', settings, o);
  try { return catLocked(o, settings, resume ? Number(resume.extra.seconds) : null); } finally { lock.release(); }
}

function catLocked(o: CatRunOptions, settings: { [k: string]: Json }, resumedAfter: number | null): Record<string, unknown> | null {
  const t0 = Date.now();
  const seconds = (): number => Math.round((resumedAfter ?? 0) * 10 + (Date.now() - t0) / 100) / 10;
  manualSeed(o.seed);
  const tok = tokenizerFor(o.vocab);
  const task = loadTextTask(o.task, o.taskOptions);
  const p = prepareTask(task, tok, o.maxLength);
  const { model } = loadBertFromHub(o.init, { head: 'classification', labels: task.labels });
  const clf = model as BertForSequenceClassification;
  try {
    type Before = { eval: { metric: number }; overall: number; perType: SiteBits[] };
    let floatEval: { metric: number; accuracy: number; mcc: number } | null = null;
    let before: Before | null = null;
    if (resumedAfter === null) {
      const f = evaluateClassifier(clf, p, { batchSize: 64 });
      floatEval = { metric: f.metric, accuracy: f.accuracy, mcc: f.mcc };
    }
    const cat = attachBertCat(clf, { bits: o.bits, weightBits: o.weightBits, probs: o.probs });
    const restored = resumedAfter !== null ? restoreFromCheckpoint(o.out, clf) : null; // weights and the learned clips
    if (restored) {
      ({ floatEval, before } = restored.meta.extra as unknown as { floatEval: typeof floatEval; before: Before });
      o.log?.(`resuming ${o.out} after epoch ${restored.state.done}/${o.epochs}`);
    } else {
      // Clips from mean + 3·std of each site on a few training batches (eval mode, quantization off).
      const calib = chunks(epochOrder(p.train.length, o.seed, 1000), o.batchSize).slice(0, o.calibrationBatches)
        .map((idx) => batchOf(p.train, idx, p.padId));
      cat.calibrateSync(calib.map((b) => ({ inputIds: b.inputIds, tokenTypeIds: b.tokenTypeIds, attentionMask: b.attentionMask })) as unknown as Tensor[]);
      for (const b of calib) { b.inputIds.dispose(); b.tokenTypeIds.dispose(); b.attentionMask.dispose(); }
      const r = noGrad(() => evaluateBertCat(cat, p, 64));
      before = { eval: { metric: r.eval.metric }, overall: r.overall, perType: r.perType };
    }
    if (!floatEval || !before) throw new Error(`internal: ${o.out}: checkpoint without the float and pre-training evaluations`);
    o.log?.(`CAT ${o.bits}-bit, ${o.targetBits === undefined ? `λ ${o.lambda}` : `target ${o.targetBits} bits/value`}: ${cat.sites.length} sites, ${cat.weightLayers.length} Linear layers at ${o.weightBits} bits; float ${task.metric} ${floatEval.metric.toFixed(4)}, before training ${before.eval.metric.toFixed(4)} at ${before.overall.toFixed(3)} bits/value`);
    const stepsPerEpoch = Math.ceil(p.train.length / o.batchSize);
    const target = o.targetBits === undefined ? null
      : new RateTarget(cat, { bits: o.targetBits, totalSteps: stepsPerEpoch * o.epochs, tolerance: o.targetTolerance });
    if (target && restored) target.load(restored.meta.extra.rate);
    const forward: ClassifierForward = (x, training) => {
      if (training && target) {
        // λ per site from the controller; this step's code counts set the next step's λ
        const { output, rate } = cat.forward(x, target.request());
        const penalty = target.penalty(rate);
        target.observe(rate);
        return { logits: output, penalty };
      }
      const { output, rate } = cat.forward(x, { terms: training && o.lambda > 0 });
      const term = training && o.lambda > 0 ? rate.weightedMean() : null;
      return { logits: output, penalty: term ? term.mul(o.lambda) : null };
    };
    // The controller calibrates on training sentences in eval mode (the dev set only reports).
    const calibration = target ? { ...p, dev: chunks(epochOrder(p.train.length, o.seed, 2000), o.batchSize).slice(0, RATE_VALIDATION_BATCHES).flat().map((i) => p.train[i]!) } : null;
    const epochs = (restored?.meta.history ?? []) as Record<string, Json>[];
    let stepTime = { steps: 0, ms: 0 };
    try {
      finetune(clf, p, {
        epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, warmupRatio: o.warmupRatio, weightDecay: o.weightDecay, maxLength: o.maxLength, seed: o.seed, forward,
        start: restored?.state, stopAfter: o.stopAfter,
        log: (e, _s, loss, pen) => o.log?.(`epoch ${e}/${o.epochs}: train loss ${loss.toFixed(4)} (λ·rate ${pen.toFixed(4)}), ${seconds()} s`),
        onStepTime: (ms) => { stepTime = { steps: stepTime.steps + 1, ms: stepTime.ms + ms }; },
        afterEpoch: (e) => {
          const rateEpoch = target && calibration ? target.endEpoch(e, siteRates(target, noGrad(() => evaluateBertCat(cat, calibration, 64)))) : null;
          const r = noGrad(() => evaluateBertCat(cat, p, 64));
          epochs.push({
            epoch: e, metric: r.eval.metric, accuracy: r.eval.accuracy, mcc: r.eval.mcc, bitsPerValue: r.overall, perType: r.perType,
            ...(rateEpoch ? { lambda: rateEpoch.lambda, calibrationBits: rateEpoch.bits } : {}),
            msPerStep: stepTime.ms / Math.max(1, stepTime.steps), seconds: seconds(),
          } as unknown as Record<string, Json>);
          stepTime = { steps: 0, ms: 0 };
          o.log?.(`epoch ${e}: ${task.metric} ${r.eval.metric.toFixed(4)} (accuracy ${r.eval.accuracy.toFixed(4)}), ${r.overall.toFixed(3)} bits/value: ${r.perType.map((t) => `${t.type} ${t.bitsPerValue.toFixed(2)}`).join(', ')}`
            + (rateEpoch ? `; mean λ ${rateEpoch.lambda.toPrecision(3)}, ${rateEpoch.bits.toFixed(3)} bits/value on the calibration batches (target ${o.targetBits})` : ''));
        },
        checkpoint: (state) => saveTextCheckpoint(o.out, { kind: 'bert-cat', settings, history: epochs, extra: { floatEval, before, seconds: seconds(), ...(target ? { rate: target.state() } : {}) } as unknown as { [k: string]: Json } }, clf.stateDict(), state),
      });
    } finally { restored?.dispose(); }
    if (epochs.length < o.epochs) { target?.dispose(); return null; }
    let final = epochs.at(-1)! as unknown as { metric: number; bitsPerValue: number; perType: SiteBits[] };
    let rate: Record<string, unknown> | null = null;
    if (target) {
      try {
        // an earlier epoch within the tolerance replaces a last one outside it (as image runs do)
        const bestEpoch = target.restoreBest(o.epochs);
        const r = noGrad(() => evaluateBertCat(cat, p, 64));
        if (bestEpoch !== null) {
          final = { ...(epochs[bestEpoch - 1] as unknown as typeof final), metric: r.eval.metric, bitsPerValue: r.overall, perType: r.perType };
          o.log?.(`rate target not met after the last epoch: the model goes back to epoch ${bestEpoch}, the last one within the tolerance`);
        }
        const bySite = new Map(r.perSite.map((x) => [x.site, x]));
        const out = target.outcome(target.sites.map((n) => bySite.get(n)?.bitsPerValue ?? NaN), target.sites.map((n) => bySite.get(n)?.numel ?? 0), bestEpoch);
        rate = { metric: out.metric, reached: out.reached, message: out.message, bestEpoch, targetBits: o.targetBits, achievedBits: r.overall, lambda: target.controller.lambdas[0]!, trajectory: [...out.trajectory] };
        o.log?.(out.message);
      } finally { target.dispose(); }
    }
    const initReport = readReport(o.init);
    const report = {
      kind: 'bert-cat', task: o.task, init: o.init, settings, metric: task.metric, train: p.train.length, dev: p.dev.length,
      sites: cat.rows().map((r: { site: string; bits: number; clip: number | null }) => ({ site: r.site, type: siteType(r.site), bits: r.bits, clip: r.clip })),
      float: floatEval,
      beforeTraining: { metric: before.eval.metric, bitsPerValue: before.overall, perType: before.perType },
      epochs, final, ...(rate ? { rate } : {}), initSeconds: initReport.seconds ?? null, seconds: seconds(),
    };
    tidy(() => finishTextRun(o.out, clf, report)); // the clips are saved as `<site>.clip`; weights stay float (fake-quantized in the forward)
    return report;
  } finally { clf.dispose(); }
}

/** A RateTarget's epoch-end measurement from a histogram evaluation (entropy, the text target's metric). */
function siteRates(target: RateTarget, r: ReturnType<typeof evaluateBertCat>): SiteRates {
  const bySite = new Map(r.perSite.map((x) => [x.site, x]));
  const entropy = target.sites.map((n) => bySite.get(n)?.bitsPerValue ?? NaN);
  return { sites: [...target.sites], numel: target.sites.map((n) => bySite.get(n)?.numel ?? 0), entropy, metric: entropy, accuracy: { top1: r.eval.accuracy, top5: null, n: r.eval.examples } };
}
