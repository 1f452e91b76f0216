// A whole run as the CLI performs it: build, train (or resume), measure accuracy and bits, report.
// Orchestration above train and report (it used to sit in train/ and made train ↔ report a cycle).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { dispose, getNumThreads } from '../tensor/index.js';
import { acquireRunLock } from '../io/run-lock.js';
import { refuseOutputIsInput } from '../io/same-path.js';
import { buildReport, readBaseline, writeReport, type RateReport, type RunReport } from '../report/index.js';
import { writeHtmlReport } from '../report/html.js';
import { IN_MEMORY_OPTIONS_OFF, describeConfig, type RunConfig } from '../train/config.js';
import { CatkitError } from '../errors.js';
import { isImageFolderDataset } from '../data/index.js';
import { buildSession, disposeSession, type Session } from '../train/session.js';
import { fit } from '../train/trainer.js';
import type { RateTarget } from '../train/rate-target.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { evaluateBandwidth, weightBandwidth } from '../train/bandwidth.js';
import { loadCheckpoint, readCheckpointMeta, CheckpointError, CHECKPOINT_JSON } from '../train/checkpoint.js';
import { checkMemoryBudget } from '../train/memory-budget.js';
import type { EpochRecord } from '../train/checkpoint.js';
import { silentProgress, type Progress } from '../train/progress.js';
import { initFromEnv, type DistributedContext } from '../distributed/index.js';

export interface RunOptions {
  outDir: string;
  resume?: boolean;
  /** Replace a finished run in outDir (its checkpoint and reports), and clear a stale lock. */
  force?: boolean;
  progress?: Progress;
  /** Test batches whose activations are entropy-coded (accuracy uses all). */
  codedBatches?: number;
  /** Data-parallel run: training and evaluation are shared across the group; rank 0 logs and writes. */
  dist?: DistributedContext;
}

/** Logs the effective config and the data sources, one line each. */
function logSession(s: Session, progress: Progress): void {
  progress.stop(`config: ${describeConfig(s.config)}`);
  progress.stop(`threads: ${getNumThreads()} (libtorch intra-op)`);
  for (const part of ['train', 'validation', 'test'] as const) progress.stop(`${part}: ${s[part].describe()}`);
}

/**
 * Trains a run into `o.outDir` and reports it. A folder that already holds a run is refused unless
 * `resume` is set (then `config` must be the saved run's, see buildResumeConfig).
 */
export async function runTraining(config: RunConfig, o: RunOptions): Promise<RunReport> {
  // In a data-parallel group, rank 0 owns the run folder (it alone writes there): it takes the lock
  // and decides whether the folder may be used; the other ranks follow it.
  if (o.dist && !o.dist.isMain) return trainLocked(config, o, []);
  const lock = acquireRunLock(o.outDir, { force: o.force });
  try {
    claimRunFolder(config, o);
    return await trainLocked(config, o, lock.removedTemps);
  } finally { lock.release(); }
}

/** Files of a finished or interrupted run that --force replaces. */
const RUN_FILES = /^(checkpoint\.json|checkpoint-epoch\d+\.safetensors|report\.(json|html)|eval-report\.(json|html))$/;

/**
 * Under the run folder's lock (the check that holds when two runs start at once): a new run never
 * replaces an existing one without `force`, and a resumed run needs a checkpoint with epochs left.
 */
function claimRunFolder(config: RunConfig, o: RunOptions): void {
  // The run folder is written; it must not be a folder the run reads.
  refuseOutputIsInput([['--out', o.outDir]], [['--init', config.init], ['--data', config.data]]);
  const held = existsSync(path.join(o.outDir, CHECKPOINT_JSON));
  if (o.resume) {
    if (!held) throw new CatkitError('no_checkpoint', `--resume: no checkpoint in ${o.outDir}`);
    const done = readCheckpointMeta(o.outDir).meta.epoch;
    if (done >= config.epochs) {
      throw new CatkitError('run_complete', `the run in ${o.outDir} has completed ${done} epoch(s), so resuming it for ${config.epochs} would train nothing`,
        { hint: `pass --epochs N with N > ${done} to train it further` });
    }
    return;
  }
  if (!held) return;
  if (!o.force) {
    throw new CatkitError('run_exists', `${o.outDir} already holds a run`, { hint: 'pass --resume to continue it, --force to replace it, or choose another --out' });
  }
  for (const f of readdirSync(o.outDir)) if (RUN_FILES.test(f)) rmSync(path.join(o.outDir, f), { force: true });
}

async function trainLocked(config: RunConfig, o: RunOptions, removedTemps: string[]): Promise<RunReport> {
  const session = buildSession(config);
  try {
    checkMemoryBudget(session.model, session, { quantized: session.cat !== null });
    const main = !o.dist || o.dist.isMain;
    const progress = main ? o.progress ?? silentProgress() : silentProgress();
    if (main && removedTemps.length) progress.stop(`removed ${removedTemps.length} temp file(s) of an interrupted write in ${o.outDir}: ${removedTemps.join(', ')}`);
    if (main) logSession(session, progress);
    if (o.dist && main) progress.stop(`data-parallel: ${o.dist.worldSize} processes, batch ${config.batchSize} each (${config.batchSize * o.dist.worldSize} per step)`);
    const t0 = performance.now();
    const { history, rate, restoredEpoch } = await fit(session, { outDir: o.outDir, resume: o.resume, progress, dist: o.dist });
    const trainSeconds = (performance.now() - t0) / 1000;
    let report: RunReport;
    try {
      report = await measure(session, 'train', history, trainSeconds, o.codedBatches, o.dist, main ? progress : undefined);
      if (rate) {
        const r = rateReport(rate, report, restoredEpoch);
        report = { ...report, rate: r, lambda: rate.controller.lambdas[0]! };
        progress.stop(r.message);
      }
    } finally { rate?.dispose(); }
    const final = { ...report, task: config.task };
    if (main) {
      writeReport(o.outDir, final);
      writeHtmlReport(path.join(o.outDir, 'report.html'), [{ label: path.basename(path.resolve(o.outDir)), report: final }]);
    }
    return final;
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

/** The report's rate section: the outcome against the final test-set measurement of each site. */
function rateReport(rate: RateTarget, report: RunReport, restoredEpoch: number | null): RateReport {
  const byName = new Map(report.layers.map((l) => [l.name, l]));
  const sites = rate.sites.map((n) => byName.get(n));
  const out = rate.outcome(sites.map((l) => l?.[rate.metric] ?? NaN), sites.map((l) => l?.numel ?? 0), restoredEpoch);
  return {
    metric: out.metric, reached: out.reached, message: out.message, bestEpoch: out.bestEpoch, trajectory: [...out.trajectory],
    groups: out.groups.map((g) => ({ ...g, sites: g.sites.map((i) => out.siteNames[i]!) })),
  };
}

/** Final measurement of a trained session: accuracy, and for CAT models the coded bits. */
export async function measure(s: Session, task: RunReport['task'], history: EpochRecord[], trainSeconds: number, codedBatches?: number,
  dist?: DistributedContext, progress?: Progress): Promise<RunReport> {
  const t0 = performance.now();
  const c = s.config;
  const quantized = s.cat !== null;
  const bandwidth = s.cat ? await evaluateBandwidth(s.cat, s.test, s.validation, { maxBatches: codedBatches, dist, progress }) : null;
  const accuracy = bandwidth?.accuracy ?? await evaluateAccuracy(s.model, s.test, { dist });
  const weights = quantized && c.weightBits !== undefined && c.weightBits < 32 ? weightBandwidth(s.model, c.weightBits) : null;
  return buildReport(task, c, accuracy, bandwidth, weights, history, { trainSeconds, evalSeconds: (performance.now() - t0) / 1000 },
    { baseline: c.task === 'cat' ? readBaseline(c.init) : null });
}

export interface EvaluationOptions {
  codedBatches?: number;
  /** Write eval-report.json and eval-report.html into the run folder (beside checkpoint.json; default true). */
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
    checkMemoryBudget(session.model, session, { quantized: session.cat !== null });
    if (o.progress && main) logSession(session, o.progress);
    const report = await measure(session, 'eval', ck.meta.history, 0, o.codedBatches, o.dist, main ? o.progress : undefined);
    if (o.write !== false && main) {
      writeReport(ck.dir, report, 'eval-report.json');
      writeHtmlReport(path.join(ck.dir, 'eval-report.html'), [{ label: `${path.basename(path.resolve(ck.dir))} (eval)`, report }]);
    }
    return report;
  } finally {
    dispose([...ck.model.values(), ...ck.optimizer.values()]);
    if (session) await disposeSession(session);
  }
}
