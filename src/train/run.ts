// A whole run as the CLI performs it: build, train (or resume), measure accuracy and bits, report.
import { dispose } from '../tensor/index.js';
import { buildReport, writeReport, type RunReport } from '../report/index.js';
import type { RunConfig } from './config.js';
import { buildSession, disposeSession, type Session } from './session.js';
import { fit } from './trainer.js';
import { evaluateAccuracy } from './evaluate.js';
import { evaluateBandwidth, weightBandwidth } from './bandwidth.js';
import { loadCheckpoint, CheckpointError } from './checkpoint.js';
import type { EpochRecord } from './checkpoint.js';
import type { Progress } from './progress.js';

export interface RunOptions {
  outDir: string;
  resume?: boolean;
  progress?: Progress;
  /** Test batches whose activations are entropy-coded (accuracy uses all). */
  codedBatches?: number;
}

export async function runTraining(config: RunConfig, o: RunOptions): Promise<RunReport> {
  const session = buildSession(config);
  try {
    const t0 = performance.now();
    const history = await fit(session, { outDir: o.outDir, resume: o.resume, progress: o.progress });
    const trainSeconds = (performance.now() - t0) / 1000;
    const report = await measure(session, 'train', history, trainSeconds, o.codedBatches);
    writeReport(o.outDir, { ...report, task: config.task });
    return { ...report, task: config.task };
  } finally { await disposeSession(session); }
}

/** Final measurement of a trained session: accuracy, and for CAT models the coded bits. */
export async function measure(s: Session, task: RunReport['task'], history: EpochRecord[], trainSeconds: number, codedBatches?: number): Promise<RunReport> {
  const t0 = performance.now();
  const c = s.config;
  const quantized = s.quantizers.length > 0;
  const bandwidth = quantized ? await evaluateBandwidth(s.model, s.quantizers, s.test, s.validation, { maxBatches: codedBatches }) : null;
  const accuracy = bandwidth?.accuracy ?? await evaluateAccuracy(s.model, s.test);
  const weights = quantized && c.weightBits !== undefined && c.weightBits < 32 ? weightBandwidth(s.model, c.weightBits) : null;
  return buildReport(task, c, accuracy, bandwidth, weights, history, { trainSeconds, evalSeconds: (performance.now() - t0) / 1000 });
}

/** Re-measures a saved run (its own config rebuilds the model), writing eval-report.json beside it. */
export async function runEvaluation(checkpoint: string, o: { codedBatches?: number; write?: boolean } = {}): Promise<RunReport> {
  const ck = loadCheckpoint(checkpoint);
  let session: Session | null = null;
  try {
    // The checkpoint already holds trained (and CAT) weights: build the bare structure, then load.
    session = buildSession({ ...ck.meta.config, init: undefined });
    try {
      session.model.loadStateDict(ck.model, { source: checkpoint });
    } catch (e) {
      throw new CheckpointError(`checkpoint ${checkpoint} does not fit model '${ck.meta.config.model}': ${(e as Error).message}`);
    }
    const report = await measure(session, 'eval', ck.meta.history, 0, o.codedBatches);
    if (o.write !== false) writeReport(ck.dir, report, 'eval-report.json');
    return report;
  } finally {
    dispose([...ck.model.values(), ...ck.optimizer.values()]);
    if (session) await disposeSession(session);
  }
}
