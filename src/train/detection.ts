// Detection runs (SSD on VOC-layout data): full-precision training, CAT fine-tuning (activation
// sites quantized with a learned clip and the SSD reference's loss L = MultiBox + λ·Σ_l H_l, 8-bit
// weights), and evaluation: VOC mAP from the detections and bits per activation value from the
// real coded streams of every site (the bandwidth ledger), per layer and element-weighted overall.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { noGrad, tidy, dispose, type Tensor } from '../tensor/index.js';
import { AdamW, SGD, paramGroupsNoDecay } from '../optim/index.js';
import { attachCat, toCodeArray, type Cat, type Rate, type RateRequest } from '../method/index.js';
import { LedgerAccumulator } from '../ledger/index.js';
import { buildDetector, isDetector, DETECTOR_NAMES } from '../models/detection/registry.js';
import { VGG_SSD_REFERENCE_SITES } from '../models/detection/vgg-ssd.js';
import { scaleDetections, type SSD, type SsdOutputs } from '../models/detection/ssd.js';
import { evaluateVoc, type VocImageResult, type VocEvalResult } from '../detection/voc-eval.js';
import { openVoc, type VocSplit } from '../data/voc.js';
import { VocLoader, type DetectionBatch } from '../data/voc-loader.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { CatkitError } from '../errors.js';

export interface DetectionCatConfig {
  /** Activation bits (reference SSD: 6). */
  actBits: number;
  /** Weight bits of every conv (reference: 8). */
  weightBits: number;
  /** λ on the plain sum of per-site soft entropies (reference: 0.08). */
  lambda: number;
  /** 'reference': the VGG base's ReLUs for VGG SSDs (extras excluded), every ReLU/ReLU6 otherwise; 'all': every ReLU/ReLU6. */
  sites: 'reference' | 'all';
  /** Batches (training images, evaluation transform) for the clip statistics (mean + 3σ). */
  calibrationBatches: number;
}

export interface DetectionRunConfig {
  task: 'detection';
  model: string;
  /** VOCdevkit folder (or one VOCyyyy folder). */
  data: string;
  trainSets: string;
  testSets: string;
  /** Classes including background (VOC: 21). */
  numClasses: number;
  /** Model input side (default: the model's, e.g. 300 / 320). */
  imageSize: number | null;
  epochs: number;
  batchSize: number;
  /** SGD with momentum (the SSD reference) or AdamW (converges faster from scratch on small CPU runs). */
  optimizer: 'sgd' | 'adamw';
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Linear warm-up iterations, then cosine decay to 0 over the run. */
  warmupIters: number;
  seed: number;
  workers: number;
  badImages: 'fail' | 'skip';
  limitTrain: number | null;
  limitTest: number | null;
  /** Start from this run folder's (or .safetensors file's) weights. */
  init: string | null;
  cat: DetectionCatConfig | null;
  /** VOC07 11-point AP (true) or the area metric. */
  use07Metric: boolean;
}

export const DETECTION_DEFAULTS: Omit<DetectionRunConfig, 'data' | 'model'> = {
  task: 'detection', trainSets: '2007-trainval+2012-trainval', testSets: '2007-test', numClasses: 21, imageSize: null,
  epochs: 10, batchSize: 8, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 5e-4, warmupIters: 100, seed: 0, workers: 2, badImages: 'fail',
  limitTrain: null, limitTest: null, init: null, cat: null, use07Metric: true,
};

export interface DetectionEvaluation {
  map: number;
  perClass: VocEvalResult['perClass'];
  images: number;
  /** Present for CAT models: element-weighted bits per activation value over the sites. */
  bitsPerValue: { entropy: number; huffman: number; rans: number; zerorun: number } | null;
  layers: { name: string; numel: number; entropy: number; huffman: number; rans: number; zerorun: number }[];
}

export interface DetectionReport {
  kind: 'catkit-detection-report';
  version: 1;
  config: DetectionRunConfig;
  model: { name: string; parameters: number; inputSize: [number, number]; sites: number };
  history: { epoch: number; loss: number; bbox: number; cls: number; rate: number; seconds: number }[];
  evaluation: DetectionEvaluation;
  trainSeconds: number;
}

const WEIGHTS_FILE = 'model.safetensors';

function check(c: DetectionRunConfig): void {
  if (!isDetector(c.model)) throw new CatkitError('BAD_OPTION', `unknown detection model '${c.model}'; known: ${DETECTOR_NAMES().join(', ')}`);
  for (const [k, v, min] of [['--epochs', c.epochs, 0], ['--batch-size', c.batchSize, 1], ['--num-classes', c.numClasses, 2], ['--workers', c.workers, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new CatkitError('BAD_OPTION', `${k} must be an integer ≥ ${min}, got ${v}`);
  }
  if (!(c.lr > 0)) throw new CatkitError('BAD_OPTION', `--lr must be positive, got ${c.lr}`);
  if (c.cat) {
    if (!Number.isInteger(c.cat.actBits) || c.cat.actBits < 1 || c.cat.actBits > 16) throw new CatkitError('BAD_OPTION', `--act-bits must be 1 … 16, got ${c.cat.actBits}`);
    if (!(c.cat.lambda >= 0)) throw new CatkitError('BAD_OPTION', `--lambda must be ≥ 0, got ${c.cat.lambda}`);
  }
}

/** The weights file of a run folder (or the file itself). */
export function detectionWeightsFile(init: string): string {
  const f = existsSync(init) && !init.endsWith('.safetensors') ? path.join(init, WEIGHTS_FILE) : init;
  if (!existsSync(f)) throw new CatkitError('NO_CHECKPOINT', `${f}: no weights (expected a detection run folder with ${WEIGHTS_FILE} or a .safetensors file)`, { file: f });
  return f;
}

interface Built { model: SSD; cat: Cat<Tensor, SsdOutputs> | null }

function buildModel(c: DetectionRunConfig, weights: string | null): Built {
  const model = buildDetector(c.model, { numClasses: c.numClasses });
  if (c.imageSize) model.setInputSize(c.imageSize);
  const vgg = c.model.includes('vgg');
  const cat = c.cat ? attachCat(model, {
    ...(c.cat.sites === 'reference' && vgg ? { sites: VGG_SSD_REFERENCE_SITES } : {}),
    defaults: { bits: c.cat.actBits },
    weights: { bits: c.cat.weightBits },
  }) : null;
  // After attaching: CAT keeps every parameter name and only adds `<site>.clip` (absent from float weights).
  if (weights) model.load(weights, { allowMissing: (k) => k.endsWith('.clip') || k.endsWith('num_batches_tracked') });
  return { model, cat };
}

function loaders(c: DetectionRunConfig, size: number, log: (m: string) => void): { train: VocSplit; test: VocSplit; trainLoader: VocLoader; testLoader: VocLoader; calibLoader: VocLoader } {
  const train = openVoc(c.data, c.trainSets, { badImages: c.badImages, log, limit: c.limitTrain ?? undefined });
  const test = openVoc(c.data, c.testSets, { badImages: c.badImages, log, limit: c.limitTest ?? undefined });
  const common = { size, workers: c.workers, badImages: c.badImages, log, seed: c.seed };
  return {
    train, test,
    trainLoader: new VocLoader(train, { ...common, batchSize: c.batchSize, train: true }),
    testLoader: new VocLoader(test, { ...common, batchSize: c.batchSize, train: false }),
    calibLoader: new VocLoader(train, { ...common, batchSize: c.batchSize, train: false }),
  };
}

const forward = (b: Built, x: Tensor, request?: RateRequest): { out: SsdOutputs; rate: Rate | null } => {
  const input = b.model.preprocess(x);
  if (!b.cat) return { out: b.model.forward(input), rate: null };
  const r = b.cat.forward(input, request);
  return { out: r.output, rate: r.rate };
};

/** VOC mAP (boxes scaled back to each original image) and, for CAT models, bits per value of every site. */
export async function evaluateDetection(b: Built, loader: VocLoader, o: { use07Metric: boolean; numClasses: number }): Promise<DetectionEvaluation> {
  const wasTraining = b.model.training;
  b.model.eval();
  const results: VocImageResult[] = [];
  const ledger = b.cat ? new LedgerAccumulator() : null;
  try {
    for await (const batch of loader.batches(0)) {
      try {
        const dets = noGrad(() => tidy(() => {
          const { out, rate } = forward(b, batch.x, { codes: true, terms: false });
          if (rate && ledger) for (const s of rate.sites) if (s.codes) ledger.add(s.site, s.bits, toCodeArray(s.codes, s.bits));
          return b.model.postprocess(out);
        }));
        batch.items.forEach((it, k) => {
          const d = scaleDetections(dets[k]!, it.height / loader.size, it.width / loader.size);
          const boxes: [number, number, number, number][] = [];
          for (let j = 0; j < d.count; j++) boxes.push([d.boxes[4 * j]!, d.boxes[4 * j + 1]!, d.boxes[4 * j + 2]!, d.boxes[4 * j + 3]!]);
          results.push({
            gtBoxes: it.objects.map((ob) => ob.box), gtLabels: it.objects.map((ob) => ob.label), gtDifficult: it.objects.map((ob) => ob.difficult),
            boxes, labels: [...d.labels], scores: [...d.scores],
          });
        });
      } finally { dispose(batch); }
    }
  } finally { b.model.train(wasTraining); }
  const voc = evaluateVoc(results, { use07Metric: o.use07Metric, classes: Array.from({ length: o.numClasses - 1 }, (_, i) => i + 1) });
  const fin = ledger?.finish();
  const per = (c: { bitsPerValue: number } | undefined) => c?.bitsPerValue ?? NaN;
  return {
    map: voc.map, perClass: voc.perClass, images: results.length,
    bitsPerValue: fin ? { entropy: fin.total.entropyPerValue, huffman: per(fin.total.adaptive.huffman), rans: per(fin.total.adaptive.rans), zerorun: per(fin.total.adaptive.zerorun) } : null,
    layers: fin ? fin.layers.map((r) => ({ name: r.name, numel: r.elements, entropy: r.entropyPerValue, huffman: per(r.adaptive.huffman), rans: per(r.adaptive.rans), zerorun: per(r.adaptive.zerorun) })) : [],
  };
}

async function* calibrationInputs(b: Built, loader: VocLoader, batches: number): AsyncGenerator<Tensor> {
  let n = 0;
  for await (const batch of loader.batches(0)) {
    if (n++ >= batches) { dispose(batch); break; }
    const x = tidy(() => b.model.preprocess(batch.x));
    dispose(batch);
    try { yield x; } finally { x.dispose(); }
  }
}

/** Trains (full precision or CAT), evaluates on the test sets and writes OUT/model.safetensors and OUT/report.json. */
export async function runDetection(c: DetectionRunConfig, o: { outDir: string; log?: (m: string) => void }): Promise<DetectionReport> {
  check(c);
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (existsSync(path.join(o.outDir, 'report.json'))) throw new CatkitError('RUN_EXISTS', `${o.outDir} already holds a run (report.json); choose a new --out`, { file: o.outDir });
  const weights = c.init ? detectionWeightsFile(c.init) : null;
  const b = buildModel(c, weights);
  mkdirSync(o.outDir, { recursive: true });
  const size = b.model.size[0];
  const L = loaders(c, size, log);
  log(`${c.model} (${b.model.numParameters().toLocaleString('en-US')} parameters) at ${size}²; train ${L.trainLoader.describe()}; test ${L.test.items.length} images`);
  try {
    if (b.cat) {
      const clips = await b.cat.calibrate(calibrationInputs(b, L.calibLoader, c.cat!.calibrationBatches));
      log(`CAT: ${b.cat.sites.length} activation sites at ${c.cat!.actBits} bits, ${c.cat!.weightBits}-bit weights, λ = ${c.cat!.lambda} (Σ of per-site soft entropies); clips from mean+3σ over ${clips.length} sites`);
    }
    const [decay, noDecay] = paramGroupsNoDecay(b.model);
    const groups = [{ params: decay.params, weightDecay: c.weightDecay }, { params: noDecay.params, weightDecay: 0 }];
    const opt = c.optimizer === 'adamw' ? new AdamW(groups, { lr: c.lr }) : new SGD(groups, { lr: c.lr, momentum: c.momentum });
    const total = c.epochs * L.trainLoader.numBatches;
    const lrAt = (it: number) => (it < c.warmupIters ? c.lr * (1 / 3 + (2 / 3) * (it / c.warmupIters)) : 0.5 * c.lr * (1 + Math.cos((Math.PI * it) / Math.max(1, total))));
    const history: DetectionReport['history'] = [];
    let it = 0;
    const t0 = performance.now();
    b.model.train();
    for (let epoch = 0; epoch < c.epochs; epoch++) {
      const te = performance.now();
      let sum = { loss: 0, bbox: 0, cls: 0, rate: 0 }, n = 0;
      for await (const batch of L.trainLoader.batches(epoch)) {
        try {
          for (const g of opt.paramGroups) g.lr = lrAt(it);
          const s = tidy(() => {
            const { out, rate } = forward(b, batch.x, { terms: (c.cat?.lambda ?? 0) > 0 });
            const l = b.model.loss(out, batch.targets);
            let loss = l.bboxRegression.add(l.classification);
            const r = rate?.sum() ?? null;
            if (r && c.cat!.lambda > 0) loss = loss.add(r.mul(c.cat!.lambda));
            opt.zeroGrad();
            loss.backward();
            // The reference zeroes non-finite gradients before each step.
            noGrad(() => { for (const p of b.model.parameters()) if (p.grad) p.grad.copy_(p.grad.where(p.grad.isfinite(), 0)); });
            opt.step();
            return { loss: loss.item(), bbox: l.bboxRegression.item(), cls: l.classification.item(), rate: r ? r.item() : 0 };
          });
          if (!Number.isFinite(s.loss)) throw new CatkitError('NON_FINITE', `epoch ${epoch + 1}: the loss became ${s.loss}; lower --lr`);
          sum = { loss: sum.loss + s.loss, bbox: sum.bbox + s.bbox, cls: sum.cls + s.cls, rate: sum.rate + s.rate };
          n++;
          it++;
        } finally { dispose(batch); }
      }
      const rec = { epoch: epoch + 1, loss: sum.loss / n, bbox: sum.bbox / n, cls: sum.cls / n, rate: sum.rate / n, seconds: (performance.now() - te) / 1000 };
      history.push(rec);
      log(`epoch ${rec.epoch}/${c.epochs}: loss ${rec.loss.toFixed(3)} (box ${rec.bbox.toFixed(3)}, cls ${rec.cls.toFixed(3)}${c.cat ? `, Σ H ${rec.rate.toFixed(2)} bits` : ''}), lr ${lrAt(it).toExponential(2)}, ${rec.seconds.toFixed(0)} s`);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const evaluation = await evaluateDetection(b, L.testLoader, { use07Metric: c.use07Metric, numClasses: c.numClasses });
    log(`mAP${c.use07Metric ? ' (VOC07 11-point)' : ''} ${(100 * evaluation.map).toFixed(2)} on ${evaluation.images} images`
      + (evaluation.bitsPerValue ? `; ${evaluation.bitsPerValue.entropy.toFixed(3)} bits/value (entropy), ${evaluation.bitsPerValue.huffman.toFixed(3)} (Huffman), ${evaluation.bitsPerValue.rans.toFixed(3)} (rANS)` : ''));
    tidy(() => b.model.save(path.join(o.outDir, WEIGHTS_FILE), { config: JSON.stringify(c) }));
    const report: DetectionReport = {
      kind: 'catkit-detection-report', version: 1, config: c,
      model: { name: c.model, parameters: b.model.numParameters(), inputSize: [...b.model.size] as [number, number], sites: b.cat?.sites.length ?? 0 },
      history, evaluation, trainSeconds,
    };
    writeFileAtomic(path.join(o.outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    await Promise.all([L.trainLoader.close(), L.testLoader.close(), L.calibLoader.close()]);
    b.model.dispose();
  }
}

/** Re-evaluates a detection run folder (its config and weights), optionally on other data or test sets. */
export async function evaluateDetectionRun(runDir: string, o: { data?: string; testSets?: string; limitTest?: number; log?: (m: string) => void } = {}): Promise<DetectionEvaluation> {
  const reportFile = path.join(runDir, 'report.json');
  if (!existsSync(reportFile)) throw new CatkitError('NO_CHECKPOINT', `${runDir} has no report.json of a detection run`, { file: runDir });
  const prev = JSON.parse(readFileSync(reportFile, 'utf8')) as DetectionReport;
  if (prev.kind !== 'catkit-detection-report') throw new CatkitError('NO_CHECKPOINT', `${reportFile} is not a detection run report`, { file: reportFile });
  const c: DetectionRunConfig = { ...prev.config, data: o.data ?? prev.config.data, testSets: o.testSets ?? prev.config.testSets, limitTest: o.limitTest ?? prev.config.limitTest };
  const b = buildModel({ ...c }, path.join(runDir, WEIGHTS_FILE));
  const test = openVoc(c.data, c.testSets, { badImages: c.badImages, log: o.log, limit: c.limitTest ?? undefined });
  const loader = new VocLoader(test, { size: b.model.size[0], workers: c.workers, badImages: c.badImages, batchSize: c.batchSize, train: false });
  try {
    return await evaluateDetection(b, loader, { use07Metric: c.use07Metric, numClasses: c.numClasses });
  } finally { await loader.close(); b.model.dispose(); }
}

export type { DetectionBatch };
