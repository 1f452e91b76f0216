// Detection runs: an SSD and VOC loaders (train/detection.ts), MultiBox steps with the SSD recipe's
// per-iteration warm-up and cosine, and VOC mAP with the bits of every activation site and of the
// weights, in the same report.json as classification (`accuracy` is the mAP, `detection` the details).
import { getNumThreads } from '../../tensor/index.js';
import { buildReport, readBaseline, type RunReport } from '../../report/index.js';
import { readCheckpointMeta, loadCheckpoint, CheckpointError } from '../../train/checkpoint.js';
import { weightBandwidth } from '../../train/bandwidth.js';
import { buildDetectionSession, disposeDetectionSession, evaluateDetection, fitDetection, type DetectionSession } from '../../train/detection.js';
import { CatkitError } from '../../errors.js';
import { dispose } from '../../tensor/index.js';
import type { EpochRecord } from '../../train/checkpoint.js';
import type { RunConfig } from '../../train/config.js';
import type { Task } from './task.js';
import { rateReport } from './rate-report.js';

function describe(s: DetectionSession): string {
  const c = s.config, d = s.settings;
  const opt = c.optimizer === 'sgd' ? `sgd momentum ${c.momentum}` : c.optimizer;
  const term = c.targetBits !== undefined || c.targetBitsAt?.length
    ? `target ${[...(c.targetBits !== undefined ? [`${c.targetBits}`] : []), ...(c.targetBitsAt ?? []).map((t) => `${t.pattern}=${t.bits}`)].join(', ')} bits/value (${c.targetMetric ?? 'entropy'}, λ from the controller on the numel-weighted mean of H_l)`
    : `λ ${c.lambda} on Σ_l H_l`;
  const cat = c.task === 'cat' ? `; CAT ${c.actBits}-bit activations (${d.sites} sites), ${c.weightBits === undefined ? 'float' : `${c.weightBits}-bit`} weights, ${term}` : '';
  return `${c.task} ${c.model} at ${c.imageSize}² (${s.model.numParameters().toLocaleString('en-US')} parameters), ${d.numClasses} classes: `
    + `${c.epochs} epochs, batch ${c.batchSize}, ${opt}, lr ${c.lr} (warm-up ${d.warmupIters} iterations, cosine), weight decay ${c.weightDecay}, `
    + `${d.augment} augmentation, seed ${c.seed}${cat}${c.init ? `; from ${c.init}` : ''}`;
}

async function measure(s: DetectionSession, task: RunReport['task'], history: EpochRecord[], trainSeconds: number, codedBatches?: number): Promise<RunReport> {
  const t0 = performance.now();
  const c = s.config;
  const e = await evaluateDetection(s, { codedBatches, calibrationBatches: c.calibrationBatches });
  const weights = s.cat && c.weightBits !== undefined && c.weightBits < 32 ? weightBandwidth(s.model, c.weightBits) : null;
  return buildReport(task, c, { top1: e.metrics.map, top5: null, n: e.metrics.images }, e.bandwidth, weights, history,
    { trainSeconds, evalSeconds: (performance.now() - t0) / 1000 }, { detection: e.metrics, baseline: c.task === 'cat' ? readBaseline(c.init) : null });
}

function refuseDistributed(dist: unknown): void {
  if (dist) throw new CatkitError('bad_config', 'detection runs train in one process; data-parallel detection (--nproc-per-node, WORLD_SIZE > 1) is not supported yet');
}

export const detectionTask: Task = {
  kind: 'detection',

  async train(config, o) {
    refuseDistributed(o.dist);
    const log = (m: string) => o.progress.stop(m);
    const s = buildDetectionSession(config, { bare: o.resume, log });
    try {
      if (o.removedTemps.length) log(`removed ${o.removedTemps.length} temp file(s) of an interrupted write in ${o.outDir}: ${o.removedTemps.join(', ')}`);
      log(`config: ${describe(s)}`);
      log(`threads: ${getNumThreads()} (libtorch intra-op)`);
      log(`train: ${s.trainLoader.describe()}`);
      log(`test: ${s.testLoader.describe()}`);
      const t0 = performance.now();
      const { history, rate, restoredEpoch } = await fitDetection(s, { outDir: o.outDir, resume: o.resume, log });
      const trainSeconds = (performance.now() - t0) / 1000;
      let report: RunReport;
      try {
        report = await measure(s, config.task, history, trainSeconds, o.codedBatches);
        if (rate) {
          // The outcome is judged on the test images' coded bits, as classification judges it.
          const r = rateReport(rate, report, restoredEpoch);
          report = { ...report, rate: r, lambda: rate.controller.lambdas[0]! };
          log(r.message);
        }
      } finally { rate?.dispose(); }
      log(`mAP${s.settings.metric === 'voc07' ? ' (VOC07 11-point)' : ''} ${(100 * report.accuracy).toFixed(2)} on ${report.testSamples} images`
        + (report.bitsPerValue ? `; ${report.bitsPerValue.entropy.toFixed(3)} bits/value (entropy), ${report.bitsPerValue.huffman.toFixed(3)} (Huffman), ${report.bitsPerValue.rans.toFixed(3)} (rANS)` : ''));
      return report;
    } finally { await disposeDetectionSession(s); }
  },

  async evaluate(checkpoint, o) {
    refuseDistributed(o.dist);
    const saved = readCheckpointMeta(checkpoint).meta.config;
    const config: RunConfig = {
      ...saved, init: undefined, data: o.data ?? saved.data, workers: o.workers ?? saved.workers,
      detection: { ...saved.detection!, testSets: o.testSets ?? saved.detection!.testSets },
    };
    const s = buildDetectionSession(config, { bare: true, log: o.progress ? (m) => o.progress!.stop(m) : undefined });
    try {
      const ck = loadCheckpoint(checkpoint);
      try {
        s.model.loadStateDict(ck.model, { source: checkpoint });
      } catch (e) {
        throw new CheckpointError(`checkpoint ${checkpoint} does not fit model '${saved.model}': ${(e as Error).message}`);
      } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }
      return await measure(s, 'eval', readCheckpointMeta(checkpoint).meta.history, 0, o.codedBatches);
    } finally { await disposeDetectionSession(s); }
  },
};
