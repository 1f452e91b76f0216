// Detection runs (SSD on VOC-layout data), on the run machinery classification uses: the run config,
// checkpoint.json + tensors every epoch (resume continues exactly: the data order and augmentation
// are drawn from (seed, epoch, image) and the lr from the global iteration), and the activation
// meter of the bandwidth ledger. CAT fine-tuning quantizes the activation sites with a learned clip
// (mean + 3σ), 8-bit weights, and the SSD reference's loss MultiBox + λ·Σ_l H_l. Evaluation: VOC mAP
// from the detections and bits per value from the real coded streams of every site.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { noGrad, tidy, dispose, manualSeed, type Tensor } from '../tensor/index.js';
import { Adam, AdamW, SGD, paramGroupsNoDecay, type Optimizer } from '../optim/index.js';
import { attachCat, toCodeArray, type Cat, type Rate, type RateRequest } from '../method/index.js';
import { buildDetector } from '../models/detection/registry.js';
import { VGG_SSD_REFERENCE_SITES } from '../models/detection/vgg-ssd.js';
import { scaleDetections, type SSD, type SsdOutputs } from '../models/detection/ssd.js';
import { evaluateVoc, type VocImageResult, type VocEvalResult } from '../detection/voc-eval.js';
import { openVoc, type VocSplit } from '../data/voc.js';
import { VocLoader } from '../data/voc-loader.js';
import { CatkitError } from '../errors.js';
import { catOptions } from './session.js';
import { LedgerAccumulator } from '../ledger/index.js';
import { RateTarget, RATE_VALIDATION_BATCHES, rateTargetOptions } from './rate-target.js';
import { siteRatesOf, type SiteRates } from './rate-measure.js';
import type { RateMetric } from './rate-controller.js';
import { ConfigError } from './config.js';
import type { Json } from '../optim/index.js';
import { ActivationMeter, type BandwidthReport } from './bandwidth.js';
import { loadCheckpoint, resumeFrom, saveCheckpoint, type EpochRecord } from './checkpoint.js';
import type { DetectionSettings, RunConfig } from './config.js';

/** A legacy `catkit detect train` run folder held only this file (and a report.json). */
export const LEGACY_WEIGHTS_FILE = 'model.safetensors';

export interface DetectionSession {
  config: RunConfig;
  settings: DetectionSettings;
  model: SSD;
  cat: Cat<Tensor, SsdOutputs> | null;
  train: VocSplit;
  test: VocSplit;
  trainLoader: VocLoader;
  testLoader: VocLoader;
  /** Training images with the evaluation transform: clip statistics and static code tables. */
  calibLoader: VocLoader;
}

export interface DetectionMetrics {
  /** Mean AP at IoU 0.5 over the classes with objects, 0–1. */
  map: number;
  metric: DetectionSettings['metric'];
  perClass: VocEvalResult['perClass'];
  images: number;
}

export interface DetectionEvaluation {
  metrics: DetectionMetrics;
  /** CAT models: the activation meter's figures over the test set. */
  bandwidth: Omit<BandwidthReport, 'accuracy' | 'ledger'> | null;
}

/** Starting weights: a run folder's checkpoint, a legacy detect run's model.safetensors, or a .safetensors file. */
function loadInitWeights(model: SSD, init: string): void {
  const allowMissing = (k: string) => k.endsWith('.clip') || k.endsWith('num_batches_tracked');
  if (init.endsWith('.safetensors')) { model.load(init, { allowMissing }); return; }
  if (!existsSync(path.join(init, 'checkpoint.json')) && existsSync(path.join(init, LEGACY_WEIGHTS_FILE))) {
    model.load(path.join(init, LEGACY_WEIGHTS_FILE), { allowMissing });
    return;
  }
  const ck = loadCheckpoint(init);
  try { model.loadStateDict(ck.model, { allowMissing, source: init }); } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }
}

/** Model (float or CAT, from config.init's weights unless `bare`) and the VOC loaders of a detection run. */
export function buildDetectionSession(c: RunConfig, o: { bare?: boolean; log?: (m: string) => void } = {}): DetectionSession {
  const d = c.detection;
  if (c.taskKind !== 'detection' || !d || !c.data) throw new CatkitError('bad_config', 'not a detection run config', { userFacing: false });
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const train = openVoc(c.data, d.trainSets, { badImages: c.badImages, log, limit: c.limitTrain });
  const test = openVoc(c.data, d.testSets, { badImages: c.badImages, log, limit: c.limitTest });
  manualSeed(c.seed); // initial weights are part of the run's identity
  const model = buildDetector(c.model, { numClasses: d.numClasses });
  let cat: DetectionSession['cat'] = null;
  try {
    model.setInputSize(c.imageSize);
    if (c.init && !o.bare) loadInitWeights(model, c.init);
    if (c.task === 'cat') {
      cat = attachCat(model, { ...catOptions(c), ...(d.sites === 'reference' && c.model.includes('vgg') ? { sites: VGG_SSD_REFERENCE_SITES } : {}) });
    }
  } catch (e) { model.dispose(); throw e; }
  const common = { size: c.imageSize, workers: c.workers > 0 ? c.workers : undefined, badImages: c.badImages, log, seed: c.seed, batchSize: c.batchSize };
  return {
    config: c, settings: d, model, cat, train, test,
    trainLoader: new VocLoader(train, { ...common, train: true, augment: d.augment }),
    testLoader: new VocLoader(test, { ...common, train: false }),
    calibLoader: new VocLoader(train, { ...common, train: false }),
  };
}

export async function disposeDetectionSession(s: DetectionSession): Promise<void> {
  try { s.model.dispose(); } finally { await Promise.all([s.trainLoader.close(), s.testLoader.close(), s.calibLoader.close()]); }
}

const forward = (s: DetectionSession, x: Tensor, request?: RateRequest): { out: SsdOutputs; rate: Rate | null } => {
  const input = s.model.preprocess(x);
  if (!s.cat) return { out: s.model.forward(input), rate: null };
  const r = s.cat.forward(input, request);
  return { out: r.output, rate: r.rate };
};

/** Each site's integer codes of a batch, handed to `sink`. */
function codesOf(rate: Rate | null, sink: (site: string, codes: ReturnType<typeof toCodeArray>, bits: number) => void): void {
  if (rate) for (const r of rate.sites) if (r.codes) sink(r.site, toCodeArray(r.codes, r.bits), r.bits);
}

/**
 * VOC mAP on the test loader (boxes scaled back to each original image) and, for CAT models, the
 * bits per value of every site, coded for real over the first `codedBatches` test batches with
 * static tables fitted on `calibrationBatches` training batches.
 */
export async function evaluateDetection(s: DetectionSession, o: { codedBatches?: number; calibrationBatches?: number } = {}): Promise<DetectionEvaluation> {
  const wasTraining = s.model.training;
  s.model.eval();
  const results: VocImageResult[] = [];
  const meter = s.cat ? new ActivationMeter() : null;
  const coded = o.codedBatches ?? Infinity;
  let batches = 0, codedImages = 0;
  try {
    if (meter) {
      let n = 0;
      for await (const batch of s.calibLoader.batches(0)) {
        try {
          if (n++ >= (o.calibrationBatches ?? 8)) break;
          noGrad(() => tidy(() => codesOf(forward(s, batch.x, { codes: true, terms: false }).rate, (site, c, bits) => meter.calibrate(site, c, bits))));
        } finally { dispose(batch); }
      }
    }
    for await (const batch of s.testLoader.batches(0)) {
      try {
        const withCodes = meter !== null && batches < coded;
        const dets = noGrad(() => tidy(() => {
          const { out, rate } = forward(s, batch.x, withCodes ? { codes: true, terms: false } : { terms: false });
          if (withCodes) codesOf(rate, (site, c, bits) => meter.add(site, c, bits));
          return s.model.postprocess(out);
        }));
        batches++;
        if (withCodes) codedImages += batch.items.length;
        batch.items.forEach((it, k) => {
          const d = scaleDetections(dets[k]!, it.height / s.testLoader.size, it.width / s.testLoader.size);
          const boxes: [number, number, number, number][] = [];
          for (let j = 0; j < d.count; j++) boxes.push([d.boxes[4 * j]!, d.boxes[4 * j + 1]!, d.boxes[4 * j + 2]!, d.boxes[4 * j + 3]!]);
          results.push({
            gtBoxes: it.objects.map((ob) => ob.box), gtLabels: it.objects.map((ob) => ob.label), gtDifficult: it.objects.map((ob) => ob.difficult),
            boxes, labels: [...d.labels], scores: [...d.scores],
          });
        });
      } finally { dispose(batch); }
    }
  } finally { s.model.train(wasTraining); }
  const classes = Array.from({ length: s.settings.numClasses - 1 }, (_, i) => i + 1);
  const voc = evaluateVoc(results, { use07Metric: s.settings.metric === 'voc07', classes });
  const fin = meter ? meter.finish() : null;
  return {
    metrics: { map: voc.map, metric: s.settings.metric, perClass: voc.perClass, images: results.length },
    bandwidth: fin ? { bitsPerValue: fin.bitsPerValue, staticBitsPerValue: fin.staticBitsPerValue, layers: fin.layers, codedBatches: Math.min(coded, batches), codedImages } : null,
  };
}

async function* calibrationInputs(s: DetectionSession, batches: number): AsyncGenerator<Tensor> {
  let n = 0;
  for await (const batch of s.calibLoader.batches(0)) {
    if (n++ >= batches) { dispose(batch); break; }
    const x = tidy(() => s.model.preprocess(batch.x));
    dispose(batch);
    try { yield x; } finally { x.dispose(); }
  }
}

function buildOptimizer(s: DetectionSession): Optimizer {
  const c = s.config;
  const [decay, noDecay] = paramGroupsNoDecay(s.model);
  const groups = [{ params: decay.params, weightDecay: c.weightDecay }, { params: noDecay.params, weightDecay: 0 }];
  if (c.optimizer === 'sgd') return new SGD(groups, { lr: c.lr, momentum: c.momentum });
  return new (c.optimizer === 'adam' ? Adam : AdamW)(groups, { lr: c.lr });
}

export interface DetectionFitOptions {
  outDir: string;
  resume?: boolean;
  /** Stop after this many epochs of this call (tests simulate an interruption with it). */
  stopAfterEpochs?: number;
  log?: (m: string) => void;
}

export interface DetectionFitResult {
  history: EpochRecord[];
  /** A --target-bits run's controller, for the report's outcome (null without a target). Dispose it. */
  rate: RateTarget | null;
  /** The epoch whose weights the model ended with, when the last one missed the target and an earlier one met it. */
  restoredEpoch: number | null;
}

/**
 * Every site's rate over the first `batches` calibration batches (training images, evaluation
 * transform), in eval mode: what a rate target calibrates on at each epoch's end. Detection has no
 * validation split (VOC's test split only reports), so the controller hears training images.
 */
export async function measureDetectionRates(s: DetectionSession, metric: RateMetric, batches: number): Promise<SiteRates> {
  const cat = s.cat!;
  const acc = new LedgerAccumulator({ codecs: metric === 'entropy' ? [] : [metric], verify: false });
  const wasTraining = s.model.training;
  s.model.eval();
  let n = 0, images = 0;
  try {
    for await (const batch of s.calibLoader.batches(0)) {
      try {
        if (n++ >= batches) break;
        images += batch.items.length;
        noGrad(() => tidy(() => codesOf(forward(s, batch.x, { codes: true, terms: false }).rate, (site, c, bits) => acc.add(site, bits, c))));
      } finally { dispose(batch); }
    }
  } finally { s.model.train(wasTraining); }
  return siteRatesOf(cat.enabledSites.map((q) => q.name), acc, metric, { top1: NaN, top5: null, n: images });
}

/** The run's rate target (null without --target-bits); a --target-bits-at pattern that selects no site is the user's mistake. */
function detectionRateTarget(s: DetectionSession, totalSteps: number): RateTarget | null {
  const o = s.cat ? rateTargetOptions(s.config, totalSteps) : null;
  if (!o) return null;
  try { return new RateTarget(s.cat!, o); } catch (e) { throw e instanceof RangeError ? new ConfigError(e.message) : e; }
}

/**
 * Trains a detection session for its epochs (or continues its checkpoint in outDir): SGD with
 * momentum or Adam(W), warm-up over `warmupIters` then a cosine decay per iteration, non-finite
 * gradients zeroed as the reference does. Writes a checkpoint after every epoch.
 *
 * The rate term: a fixed λ multiplies the reference's plain sum over the sites, Σ_l H_l (soft
 * entropies in bits/value; λ = 0.08 in CAT's SSD code). With --target-bits the controller's λ per
 * site multiplies the numel-weighted mean Σ_l λ_l·n_l·H_l / Σ_l n_l instead, as in classification:
 * that mean is the bits/value the target is stated in, so λ means the same in both tasks and a large
 * early feature map weighs what it costs (the sum weighs a 1×1 map as much as a 64×64 one).
 */
export async function fitDetection(s: DetectionSession, o: DetectionFitOptions): Promise<DetectionFitResult> {
  const c = s.config, d = s.settings;
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  mkdirSync(o.outDir, { recursive: true });
  const perEpoch = s.trainLoader.numBatches;
  if (perEpoch === 0) throw new CatkitError('bad_config', `${s.train.items.length} training images do not fill one batch of ${c.batchSize}; lower --batch-size`);
  const rate = detectionRateTarget(s, c.epochs * perEpoch);
  const opt = buildOptimizer(s);
  let ok = false;
  try {
    let startEpoch = 0;
    let history: EpochRecord[] = [];
    if (o.resume) {
      const meta = resumeFrom(o.outDir, s.model, opt);
      startEpoch = meta.epoch;
      history = meta.history;
      rate?.load(meta.extra.rate);
      log(`resuming ${o.outDir} after epoch ${startEpoch}`);
    } else if (s.cat) {
      const clips = await s.cat.calibrate(calibrationInputs(s, c.calibrationBatches));
      const term = rate ? `target ${describeTarget(c)} bits/value (${rate.metric}; λ from the controller, on the numel-weighted mean of the soft entropies)`
        : `λ = ${c.lambda} (Σ of per-site soft entropies)`;
      log(`CAT: ${s.cat.sites.length} activation sites at ${c.actBits} bits, ${c.weightBits ?? 'float'}-bit weights, ${term}; clips (${c.clipInit}) over ${clips.length} sites`);
    }
    const total = c.epochs * perEpoch;
    const lrAt = (it: number) => (it < d.warmupIters ? c.lr * (1 / 3 + (2 / 3) * (it / d.warmupIters)) : 0.5 * c.lr * (1 + Math.cos((Math.PI * it) / Math.max(1, total))));
    const lambda = c.task === 'cat' ? c.lambda : 0;
    const last = Math.min(c.epochs, o.stopAfterEpochs !== undefined ? startEpoch + o.stopAfterEpochs : c.epochs);
    s.model.train();
    for (let epoch = startEpoch; epoch < last; epoch++) {
      const te = performance.now();
      let it = epoch * perEpoch; // the global iteration: a resumed run continues the schedule where it stopped
      const sum = { loss: 0, bbox: 0, cls: 0, rate: 0 };
      let n = 0;
      for await (const batch of s.trainLoader.batches(epoch)) {
        try {
          for (const g of opt.paramGroups) g.lr = lrAt(it);
          const st = tidy(() => {
            const { out, rate: r } = forward(s, batch.x, rate ? rate.request() : { terms: lambda > 0 });
            const l = s.model.loss(out, batch.targets);
            let loss = l.bboxRegression.add(l.classification);
            const soft = r?.sum() ?? null;
            const penalty = rate && r ? rate.penalty(r) : soft && lambda > 0 ? soft.mul(lambda) : null;
            if (penalty) loss = loss.add(penalty);
            opt.zeroGrad();
            loss.backward();
            // The reference zeroes non-finite gradients before each step.
            noGrad(() => { for (const p of s.model.parameters()) if (p.grad) p.grad.copy_(p.grad.where(p.grad.isfinite(), 0)); });
            opt.step();
            if (rate && r) rate.observe(r);
            return { loss: loss.item(), bbox: l.bboxRegression.item(), cls: l.classification.item(), rate: soft ? soft.item() : 0 };
          });
          if (!Number.isFinite(st.loss)) throw new CatkitError('NON_FINITE', `epoch ${epoch + 1}: the loss became ${st.loss}; lower --lr`);
          sum.loss += st.loss; sum.bbox += st.bbox; sum.cls += st.cls; sum.rate += st.rate;
          n++; it++;
        } finally { dispose(batch); }
        // Prefetched batches arrive as resolved promises: without this turn of the event loop a
        // SIGINT/SIGTERM would wait for the epoch's end (and its checkpoint) to be handled.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const epochSeconds = (performance.now() - te) / 1000;
      // A target run calibrates its controller on a real measurement after every epoch.
      const rates = rate ? rate.endEpoch(epoch + 1, await measureDetectionRates(s, rate.metric, RATE_VALIDATION_BATCHES)) : null;
      const rec: EpochRecord = {
        epoch: epoch + 1, loss: sum.loss / n, taskLoss: (sum.bbox + sum.cls) / n, bboxLoss: sum.bbox / n, classLoss: sum.cls / n,
        actRegularizer: sum.rate / n, weightRegularizer: 0, lr: lrAt(it), epochSeconds, ...(rates ?? {}),
      };
      history.push(rec);
      const extra: { [k: string]: Json } = { clips: s.cat ? s.cat.clips() : {}, iteration: it, ...(rate ? { rate: rate.state() } : {}) };
      saveCheckpoint(o.outDir, { epoch: epoch + 1, config: c, schedule: null, history, extra }, s.model.stateDict(), opt.stateDict());
      log(`epoch ${rec.epoch}/${c.epochs}: loss ${rec.loss.toFixed(3)} (box ${rec.bboxLoss!.toFixed(3)}, cls ${rec.classLoss!.toFixed(3)}${s.cat ? `, Σ H ${rec.actRegularizer!.toFixed(2)} bits` : ''}), lr ${rec.lr!.toExponential(2)}, ${rec.epochSeconds!.toFixed(0)} s`
        + (rates ? `; training images: ${rates.bits.toFixed(3)} bits/value${rate!.metric === 'entropy' ? '' : ` (${rate!.metric} ${rates.metricBits.toFixed(3)})`}, mean λ ${rates.lambda.toPrecision(3)}` : ''));
    }
    const restoredEpoch = rate && last === c.epochs ? rate.restoreBest(last) : null;
    if (restoredEpoch !== null) log(`rate target not met after the last epoch: the model goes back to epoch ${restoredEpoch}, the last one within the tolerance`);
    ok = true;
    return { history, rate, restoredEpoch };
  } finally {
    opt.dispose();
    if (!ok) rate?.dispose();
  }
}

function describeTarget(c: RunConfig): string {
  return [...(c.targetBits !== undefined ? [`${c.targetBits}`] : []), ...(c.targetBitsAt ?? []).map((t) => `${t.pattern}=${t.bits}`)].join(', ');
}
