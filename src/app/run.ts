// A whole run as the CLI performs it: build, train (or resume), measure accuracy and bits, report.
// Orchestration above train and report (it used to sit in train/ and made train ↔ report a cycle).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dispose } from '../tensor/index.js';
import { buildReport, writeReport, type RunReport } from '../report/index.js';
import { IN_MEMORY_OPTIONS_OFF, describeConfig, type RunConfig } from '../train/config.js';
import { CatkitError } from '../errors.js';
import { isImageFolderDataset } from '../data/index.js';
import { buildSession, disposeSession, type Session } from '../train/session.js';
import { fit } from '../train/trainer.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { evaluateBandwidth, weightBandwidth } from '../train/bandwidth.js';
import { loadCheckpoint, CheckpointError, CHECKPOINT_JSON } from '../train/checkpoint.js';
import type { EpochRecord } from '../train/checkpoint.js';
import { createProgress, type Progress } from '../train/progress.js';
import { initFromEnv, type DistributedContext } from '../distributed/index.js';

export interface RunOptions {
  outDir: string;
  resume?: boolean;
  progress?: Progress;
  /** Test batches whose activations are entropy-coded (accuracy uses all). */
  codedBatches?: number;
  /** Data-parallel run: training and evaluation are shared across the group; rank 0 logs and writes. */
  dist?: DistributedContext;
}

/** Logs the effective config and the data sources, one line each. */
function logSession(s: Session, progress: Progress): void {
  progress.stop(`config: ${describeConfig(s.config)}`);
  for (const part of ['train', 'validation', 'test'] as const) progress.stop(`${part}: ${s[part].describe()}`);
}

/**
 * Trains a run into `o.outDir` and reports it. A folder that already holds a run is refused unless
 * `resume` is set (then `config` must be the saved run's, see buildResumeConfig).
 */
export async function runTraining(config: RunConfig, o: RunOptions): Promise<RunReport> {
  const held = existsSync(path.join(o.outDir, CHECKPOINT_JSON));
  if (o.resume && !held) throw new CatkitError('no_checkpoint', `--resume: no checkpoint in ${o.outDir}`);
  if (!o.resume && held) throw new CatkitError('run_exists', `${o.outDir} already holds a run; pass --resume to continue it or choose another --out`);
  const session = buildSession(config);
  try {
    const main = !o.dist || o.dist.isMain;
    const progress = o.progress ?? createProgress({ quiet: !main });
    if (main) logSession(session, progress);
    if (o.dist && main) progress.stop(`data-parallel: ${o.dist.worldSize} processes, batch ${config.batchSize} each (${config.batchSize * o.dist.worldSize} per step)`);
    const t0 = performance.now();
    const history = await fit(session, { outDir: o.outDir, resume: o.resume, progress, dist: o.dist });
    const trainSeconds = (performance.now() - t0) / 1000;
    const report = await measure(session, 'train', history, trainSeconds, o.codedBatches, o.dist);
    if (main) writeReport(o.outDir, { ...report, task: config.task });
    return { ...report, task: config.task };
  } finally { await disposeSession(session); }
}

/**
 * This process's part of a run: the whole run, or, when a launcher set WORLD_SIZE > 1 (catkit's
 * --nproc-per-node or a torchrun-style one), one rank of a data-parallel group it joins first.
 * Only the main rank (isMain) should print the report.
 */
export async function runTrainingFromEnv(config: RunConfig, o: Omit<RunOptions, 'dist'>): Promise<{ report: RunReport; isMain: boolean }> {
  const dist = await initFromEnv();
  try {
    const report = await runTraining(config, { ...o, dist: dist ?? undefined });
    return { report, isMain: !dist || dist.isMain };
  } finally { dist?.group.destroy(); }
}

/** Final measurement of a trained session: accuracy, and for CAT models the coded bits. */
export async function measure(s: Session, task: RunReport['task'], history: EpochRecord[], trainSeconds: number, codedBatches?: number,
  dist?: DistributedContext): Promise<RunReport> {
  const t0 = performance.now();
  const c = s.config;
  const quantized = s.quantizers.length > 0;
  const bandwidth = quantized ? await evaluateBandwidth(s.model, s.quantizers, s.test, s.validation, { maxBatches: codedBatches, dist }) : null;
  const accuracy = bandwidth?.accuracy ?? await evaluateAccuracy(s.model, s.test, { dist });
  const weights = quantized && c.weightBits !== undefined && c.weightBits < 32 ? weightBandwidth(s.model, c.weightBits) : null;
  return buildReport(task, c, accuracy, bandwidth, weights, history, { trainSeconds, evalSeconds: (performance.now() - t0) / 1000 });
}

export interface EvaluationOptions {
  codedBatches?: number;
  /** Write eval-report.json beside the checkpoint (default true). */
  write?: boolean;
  /** Read the data from here instead of the folder the run recorded (same dataset, moved or mounted elsewhere). */
  data?: string;
  /** Decoding threads of image-folder data (does not change results; default: the run's). */
  workers?: number;
  progress?: Progress;
  /** Data-parallel evaluation: the test batches are shared across the group; rank 0 logs and writes. */
  dist?: DistributedContext;
}

/** Re-measures a saved run (its own config rebuilds the model), writing eval-report.json beside it. */
export async function runEvaluation(checkpoint: string, o: EvaluationOptions = {}): Promise<RunReport> {
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
    if (o.progress && main) logSession(session, o.progress);
    const report = await measure(session, 'eval', ck.meta.history, 0, o.codedBatches, o.dist);
    if (o.write !== false && main) writeReport(ck.dir, report, 'eval-report.json');
    return report;
  } finally {
    dispose([...ck.model.values(), ...ck.optimizer.values()]);
    if (session) await disposeSession(session);
  }
}
