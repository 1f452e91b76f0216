// CAT on a fine-tuned BERT classifier. Sites: the inputs of the six Linear layers of every
// encoder block — the hidden states after a LayerNorm (embeddings.LayerNorm and each block's
// output.LayerNorm feed the next Q/K/V; attention.output.LayerNorm feeds intermediate.dense), the
// attention context (attention.self.context feeds attention.output.dense) and the GELU output
// (feeds output.dense) — all signed, quantized over each tensor's dynamic min/max with a learned
// clip; optionally the attention probabilities. Every Linear (encoder, pooler, classifier) gets
// 8-bit weight fake quantization. Loss = cross-entropy + λ · (element-weighted mean soft entropy).
// Evaluation reports bits/value per site type: the Shannon entropy of each site's codes over the
// dev set (histograms summed over batches), element-weighted within the type.
import { GELU, LayerNorm } from '../../nn/index.js';
import { manualSeed, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import { attachCat, type Cat } from '../../method/index.js';
import type { BertForSequenceClassification, BertInputs } from '../../models/bert/index.js';
import { loadBertFromHub } from '../../models/bert/index.js';
import { batchOf, chunks, epochOrder } from './batches.js';
import { evaluateClassifier, finetune, prepareTask, type ClassifierForward, type PreparedTask } from './finetune.js';
import { loadTextTask, type TaskOptions, type TextTaskName } from './tasks.js';
import { claimRunFolder, readReport, saveBertFolder, tokenizerFor } from './runs.js';

export const SITE_TYPES = {
  'LayerNorm → Q/K/V': /(^|\.)embeddings\.LayerNorm$|\.output\.LayerNorm$/,
  'LayerNorm → FFN': /\.attention\.output\.LayerNorm$/,
  'context → attn out': /\.attention\.self\.context$/,
  'GELU → FFN out': /\.intermediate\.intermediate_act_fn$/,
  'attention probs': /\.attention\.self\.probs$/,
} as const;
export type SiteType = keyof typeof SITE_TYPES;

export function siteType(name: string): SiteType {
  // attention.output.LayerNorm also ends in '.output.LayerNorm': test the specific pattern first.
  if (SITE_TYPES['LayerNorm → FFN'].test(name)) return 'LayerNorm → FFN';
  for (const [t, re] of Object.entries(SITE_TYPES)) if (re.test(name)) return t as SiteType;
  throw new Error(`internal: '${name}' is not a BERT CAT site`);
}

export interface BertCatOptions { bits: number; weightBits?: number; probs?: boolean }

/** Attaches CAT to a BERT classifier at the Linear-input sites (and optionally the attention probabilities). */
export function attachBertCat(model: BertForSequenceClassification, o: BertCatOptions): Cat<BertInputs, Tensor> {
  const sites = [LayerNorm, GELU, '*.attention.self.context', ...(o.probs ? ['*.attention.self.probs'] : [])];
  return attachCat(model, {
    sites, defaults: { bits: o.bits, signed: true, sampling: { images: 4, stride: 16 } },
    weights: o.weightBits ? { bits: o.weightBits, linear: true } : null,
  });
}

export interface SiteBits { type: SiteType; sites: number; numel: number; bitsPerValue: number }

/** Dev-set evaluation through the CAT model: predictions and bits/value per site type. */
export function evaluateBertCat(cat: Cat<BertInputs, Tensor>, p: PreparedTask, batchSize: number): { eval: ReturnType<typeof evaluateClassifier>; perType: SiteBits[]; overall: number } {
  const counts = new Map<string, { numel: number; hist: Float64Array }>();
  const forward: ClassifierForward = (x) => {
    const { output, rate } = cat.forward(x, { terms: false, histogram: true });
    for (const s of rate.sites) {
      const h = s.histogram!.to('float64').dataSync() as Float64Array;
      const c = counts.get(s.site) ?? { numel: 0, hist: new Float64Array(h.length) };
      c.numel += s.numel;
      h.forEach((v, i) => { c.hist[i]! += v; });
      counts.set(s.site, c);
    }
    return { logits: output };
  };
  const ev = evaluateClassifier(cat.model as BertForSequenceClassification, p, { batchSize, forward });
  const byType = new Map<SiteType, { sites: number; numel: number; bits: number }>();
  let allBits = 0, allNumel = 0;
  for (const [site, c] of counts) {
    const total = c.hist.reduce((a, b) => a + b, 0);
    let h = 0;
    for (const v of c.hist) if (v > 0) h -= (v / total) * Math.log2(v / total);
    const t = byType.get(siteType(site)) ?? { sites: 0, numel: 0, bits: 0 };
    t.sites++; t.numel += c.numel; t.bits += h * c.numel;
    byType.set(siteType(site), t);
    allBits += h * c.numel; allNumel += c.numel;
  }
  const perType = [...byType].map(([type, t]) => ({ type, sites: t.sites, numel: t.numel, bitsPerValue: t.bits / t.numel }));
  return { eval: ev, perType, overall: allBits / allNumel };
}

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
