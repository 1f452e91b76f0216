// A whole run as the CLI performs it, for every task (app/tasks/): the run folder and its lock,
// train (or resume), measure the task's metric and the bits, write the report.
// Orchestration above train and report (it used to sit in train/ and made train ↔ report a cycle).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { acquireRunLock } from '../io/run-lock.js';
import { refuseOutputIsInput } from '../io/same-path.js';
import { writeReport, type RunReport } from '../report/index.js';
import { writeHtmlReport } from '../report/html.js';
import type { RunConfig } from '../train/config.js';
import { CatkitError } from '../errors.js';
import { readCheckpointMeta, CHECKPOINT_JSON } from '../train/checkpoint.js';
import { silentProgress, type Progress } from '../train/progress.js';
import { initFromEnv, type DistributedContext } from '../distributed/index.js';
import { taskFor } from './tasks/index.js';
import type { CodingChoice } from './tasks/task.js';

export type { CodingChoice } from './tasks/task.js';

export { measure } from './tasks/classification.js';

export interface RunOptions {
  outDir: string;
  resume?: boolean;
  /** Replace a finished run in outDir (its checkpoint and reports), and clear a stale lock. */
  force?: boolean;
  progress?: Progress;
  /** Test batches whose activations are entropy-coded (accuracy uses all). */
  codedBatches?: number;
  /** Coding threads and sampled coding of the final measurement (see BandwidthOptions). */
  coding?: CodingChoice;
  /** Data-parallel run: training and evaluation are shared across the group; rank 0 logs and writes. */
  dist?: DistributedContext;
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
  const main = !o.dist || o.dist.isMain;
  const progress = main ? o.progress ?? silentProgress() : silentProgress();
  const report = await taskFor(config).train(config, { outDir: o.outDir, resume: o.resume, progress, codedBatches: o.codedBatches, coding: o.coding, dist: o.dist, removedTemps });
  if (main) {
    writeReport(o.outDir, report);
    writeHtmlReport(path.join(o.outDir, 'report.html'), [{ label: path.basename(path.resolve(o.outDir)), report }]);
  }
  return report;
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

export interface EvaluationOptions {
  codedBatches?: number;
  coding?: CodingChoice;
  /** Write eval-report.json and eval-report.html into the run folder (beside checkpoint.json; default true). */
  write?: boolean;
  /** Read the data from here instead of the folder the run recorded (same dataset, moved or mounted elsewhere). */
  data?: string;
  /** Decoding threads of image-folder data (does not change results; default: the run's). */
  workers?: number;
  /** Detection runs: evaluate on these VOC sets (e.g. 2007-test) instead of the run's. */
  testSets?: string;
  progress?: Progress;
  /** Data-parallel evaluation: the test batches are shared across the group; rank 0 logs and writes. */
  dist?: DistributedContext;
}

/** Re-measures a saved run (its own config rebuilds the model), writing eval-report.json beside it. */
export async function runEvaluation(checkpoint: string, o: EvaluationOptions = {}): Promise<RunReport> {
  const { meta, dir } = readCheckpointMeta(checkpoint);
  const report = await taskFor(meta.config).evaluate(checkpoint, o);
  if (o.write !== false && (!o.dist || o.dist.isMain)) {
    writeReport(dir, report, 'eval-report.json');
    writeHtmlReport(path.join(dir, 'eval-report.html'), [{ label: `${path.basename(path.resolve(dir))} (eval)`, report }]);
  }
  return report;
}
