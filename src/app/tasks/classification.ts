// Classification runs: a Session (in-memory or image-folder data, model, CAT attachment), the
// shared trainer loop (cross-entropy steps, per-epoch test accuracy, data-parallel), and top-1 /
// top-5 with the bits of every activation site and of the weights.
import { dispose, getNumThreads } from '../../tensor/index.js';
import { buildReport, readBaseline, type RunReport } from '../../report/index.js';
import { rateReport } from './rate-report.js';
import { IN_MEMORY_OPTIONS_OFF, describeConfig, type RunConfig } from '../../train/config.js';
import { isImageFolderDataset } from '../../data/index.js';
import { buildSession, disposeSession, type Session } from '../../train/session.js';
import { fit } from '../../train/trainer.js';
import { evaluateAccuracy } from '../../train/evaluate.js';
import { evaluateBandwidth, weightBandwidth } from '../../train/bandwidth.js';
import { loadCheckpoint, CheckpointError, type EpochRecord } from '../../train/checkpoint.js';
import { checkMemoryBudget } from '../../train/memory-budget.js';
import { silentProgress, type Progress } from '../../train/progress.js';
import type { DistributedContext } from '../../distributed/index.js';
import type { CodingChoice, Task } from './task.js';

/** Logs the effective config and the data sources, one line each. */
function logSession(s: Session, progress: Progress): void {
  progress.stop(`config: ${describeConfig(s.config)}`);
  progress.stop(`threads: ${getNumThreads()} (libtorch intra-op)`);
  for (const part of ['train', 'validation', 'test'] as const) progress.stop(`${part}: ${s[part].describe()}`);
}

/** Final measurement of a trained session: accuracy, and for CAT models the coded bits. */
export async function measure(s: Session, task: RunReport['task'], history: EpochRecord[], trainSeconds: number, codedBatches?: number,
  dist?: DistributedContext, progress?: Progress, coding: CodingChoice = {}): Promise<RunReport> {
  const t0 = performance.now();
  const c = s.config;
  const quantized = s.cat !== null;
  const bandwidth = s.cat ? await evaluateBandwidth(s.cat, s.test, s.validation, { maxBatches: codedBatches, dist, progress, codeFraction: coding.codeFraction, codingWorkers: coding.codingWorkers, codingBackend: coding.codingBackend }) : null;
  const accuracy = bandwidth?.accuracy ?? await evaluateAccuracy(s.model, s.test, { dist });
  const weights = quantized && c.weightBits !== undefined && c.weightBits < 32 ? weightBandwidth(s.model, c.weightBits) : null;
  return buildReport(task, c, accuracy, bandwidth, weights, history, { trainSeconds, evalSeconds: (performance.now() - t0) / 1000 },
    { baseline: c.task === 'cat' ? readBaseline(c.init) : null });
}

export const classificationTask: Task = {
  kind: 'classification',

  async train(config, o) {
    const session = buildSession(config);
    try {
      checkMemoryBudget(session.model, session, { quantized: session.cat !== null });
      const main = !o.dist || o.dist.isMain;
      const progress = main ? o.progress : silentProgress();
      if (main && o.removedTemps.length) progress.stop(`removed ${o.removedTemps.length} temp file(s) of an interrupted write in ${o.outDir}: ${o.removedTemps.join(', ')}`);
      if (main) logSession(session, progress);
      if (o.dist && main) progress.stop(`data-parallel: ${o.dist.worldSize} processes, batch ${config.batchSize} each (${config.batchSize * o.dist.worldSize} per step)`);
      const t0 = performance.now();
      const { history, rate, restoredEpoch } = await fit(session, { outDir: o.outDir, resume: o.resume, progress, dist: o.dist });
      const trainSeconds = (performance.now() - t0) / 1000;
      let report: RunReport;
      try {
        report = await measure(session, 'train', history, trainSeconds, o.codedBatches, o.dist, main ? progress : undefined, o.coding);
        if (rate) {
          const r = rateReport(rate, report, restoredEpoch);
          report = { ...report, rate: r, lambda: rate.controller.lambdas[0]! };
          progress.stop(r.message);
        }
      } finally { rate?.dispose(); }
      return { ...report, task: config.task };
    } finally { await disposeSession(session); }
  },

  async evaluate(checkpoint, o) {
    const ck = loadCheckpoint(checkpoint);
    let session: Session | null = null;
    try {
      // The checkpoint already holds trained (and CAT) weights: build the bare structure, then load.
      // Training-only settings do not matter here (an imported run may carry the in-memory defaults).
      const saved = ck.meta.config;
      const config: RunConfig = { ...saved, init: undefined, data: o.data ?? saved.data, workers: o.workers ?? saved.workers };
      if (isImageFolderDataset(config.dataset)) Object.assign(config, IN_MEMORY_OPTIONS_OFF);
      session = buildSession(config);
      try {
        session.model.loadStateDict(ck.model, { source: checkpoint });
      } catch (e) {
        throw new CheckpointError(`checkpoint ${checkpoint} does not fit model '${ck.meta.config.model}': ${(e as Error).message}`);
      }
      const main = !o.dist || o.dist.isMain;
      checkMemoryBudget(session.model, session, { quantized: session.cat !== null });
      if (o.progress && main) logSession(session, o.progress);
      return await measure(session, 'eval', ck.meta.history, 0, o.codedBatches, o.dist, main ? o.progress : undefined, o.coding);
    } finally {
      dispose([...ck.model.values(), ...ck.optimizer.values()]);
      if (session) await disposeSession(session);
    }
  },
};
