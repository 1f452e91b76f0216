// `catkit text cat`: CAT on a fine-tuned BERT classifier as a run folder (see train/text/cat.ts for
// the sites and the per-type bits/value).
import { manualSeed, noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { BertForSequenceClassification } from '../models/bert/index.js';
import { loadBertFromHub } from '../models/bert/index.js';
import { batchOf, chunks, epochOrder } from '../train/text/batches.js';
import { evaluateClassifier, finetune, prepareTask, type ClassifierForward } from '../train/text/finetune.js';
import { loadTextTask, type TaskOptions, type TextTaskName } from '../train/text/tasks.js';
import { attachBertCat, evaluateBertCat, siteType, type SiteBits } from '../train/text/cat.js';
import { claimRunFolder, readReport, saveBertFolder, tokenizerFor } from './text-runs.js';

export interface CatRunOptions {
  init: string; out: string; task: TextTaskName; taskOptions: TaskOptions; bits: number; weightBits: number; lambda: number; probs: boolean;
  epochs: number; batchSize: number; lr: number; warmupRatio: number; weightDecay: number; maxLength: number; seed: number;
  calibrationBatches: number; vocab?: string; log?: (line: string) => void;
}

const seconds = (t0: number): number => Math.round((Date.now() - t0) / 100) / 10;

export function catRun(o: CatRunOptions): Record<string, unknown> {
  claimRunFolder(o.out);
  const t0 = Date.now();
  manualSeed(o.seed);
  const tok = tokenizerFor(o.vocab);
  const task = loadTextTask(o.task, o.taskOptions);
  const p = prepareTask(task, tok, o.maxLength);
  const { model } = loadBertFromHub(o.init, { head: 'classification', labels: task.labels });
  const clf = model as BertForSequenceClassification;
  try {
    const floatEval = evaluateClassifier(clf, p, { batchSize: 64 });
    const cat = attachBertCat(clf, { bits: o.bits, weightBits: o.weightBits, probs: o.probs });
    // Clips from mean + 3·std of each site on a few training batches (eval mode, quantization off).
    const calib = chunks(epochOrder(p.train.length, o.seed, 1000), o.batchSize).slice(0, o.calibrationBatches)
      .map((idx) => batchOf(p.train, idx, p.padId));
    cat.calibrateSync(calib.map((b) => ({ inputIds: b.inputIds, tokenTypeIds: b.tokenTypeIds, attentionMask: b.attentionMask })) as unknown as Tensor[]);
    for (const b of calib) { b.inputIds.dispose(); b.tokenTypeIds.dispose(); b.attentionMask.dispose(); }
    const before = noGrad(() => evaluateBertCat(cat, p, 64));
    o.log?.(`CAT ${o.bits}-bit, λ ${o.lambda}: ${cat.sites.length} sites, ${cat.weightLayers.length} Linear layers at ${o.weightBits} bits; before training ${task.metric} ${before.eval.metric.toFixed(4)}, ${before.overall.toFixed(3)} bits/value`);
    const forward: ClassifierForward = (x, training) => {
      const { output, rate } = cat.forward(x, { terms: training && o.lambda > 0 });
      const term = training && o.lambda > 0 ? rate.weightedMean() : null;
      return { logits: output, penalty: term ? term.mul(o.lambda) : null };
    };
    const epochs: Record<string, unknown>[] = [];
    finetune(clf, p, {
      epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, warmupRatio: o.warmupRatio, weightDecay: o.weightDecay, maxLength: o.maxLength, seed: o.seed, forward,
      log: (e, _s, loss, pen) => o.log?.(`epoch ${e}/${o.epochs}: train loss ${loss.toFixed(4)} (λ·rate ${pen.toFixed(4)}), ${seconds(t0)} s`),
      afterEpoch: (e) => {
        const r = noGrad(() => evaluateBertCat(cat, p, 64));
        epochs.push({ epoch: e, metric: r.eval.metric, accuracy: r.eval.accuracy, mcc: r.eval.mcc, bitsPerValue: r.overall, perType: r.perType, seconds: seconds(t0) });
        o.log?.(`epoch ${e}: ${task.metric} ${r.eval.metric.toFixed(4)} (accuracy ${r.eval.accuracy.toFixed(4)}), ${r.overall.toFixed(3)} bits/value: ${r.perType.map((t) => `${t.type} ${t.bitsPerValue.toFixed(2)}`).join(', ')}`);
      },
    });
    const final = epochs.at(-1)! as { metric: number; bitsPerValue: number; perType: SiteBits[] };
    const initReport = readReport(o.init);
    const report = {
      kind: 'bert-cat', task: o.task, init: o.init, settings: { ...o, log: undefined }, metric: task.metric, train: p.train.length, dev: p.dev.length,
      sites: cat.rows().map((r: { site: string; bits: number; clip: number | null }) => ({ site: r.site, type: siteType(r.site), bits: r.bits, clip: r.clip })),
      float: { metric: floatEval.metric, accuracy: floatEval.accuracy, mcc: floatEval.mcc },
      beforeTraining: { metric: before.eval.metric, bitsPerValue: before.overall, perType: before.perType },
      epochs, final, initSeconds: initReport.seconds ?? null, seconds: seconds(t0),
    };
    tidy(() => saveBertFolder(o.out, clf, report)); // the clips are saved as `<site>.clip`; weights stay float (fake-quantized in the forward)
    return report;
  } finally { clf.dispose(); }
}
