// The task abstraction: what differs between classification and detection runs (model, data, loss
// and step, evaluation → metrics) behind one interface, so that the run folder, its lock, the
// checkpoint format and resume, report.json and the bandwidth ledger (app/run.ts, train/checkpoint,
// report/, train/bandwidth) are the same code for every task.
import type { RunReport } from '../../report/index.js';
import type { RunConfig, TaskKind } from '../../train/config.js';
import type { Progress } from '../../train/progress.js';
import type { DistributedContext } from '../../distributed/index.js';

export interface TaskRunOptions {
  /** The run folder, already locked and claimed by the caller (app/run.ts). */
  outDir: string;
  resume?: boolean;
  progress: Progress;
  /** Test batches whose activations are entropy-coded (the metric always uses all). */
  codedBatches?: number;
  coding?: CodingChoice;
  dist?: DistributedContext;
  /** Temp files of an interrupted write that the lock removed (logged by the task). */
  removedTemps: string[];
}

/** How the final measurement codes the feature maps (results are the same for any worker count). */
export interface CodingChoice { codeFraction?: number; codingWorkers?: number; codingBackend?: 'native' | 'typescript' }

export interface TaskEvaluationOptions {
  codedBatches?: number;
  coding?: CodingChoice;
  /** Read the data from here instead of the recorded folder. */
  data?: string;
  workers?: number;
  /** Detection: evaluate on these VOC sets instead of the run's. */
  testSets?: string;
  progress?: Progress;
  dist?: DistributedContext;
}

export interface Task {
  readonly kind: TaskKind;
  /** Trains (or resumes) `config` in o.outDir and returns its report, written there as report.json by the main rank. */
  train(config: RunConfig, o: TaskRunOptions): Promise<RunReport>;
  /** Re-measures a saved run (its checkpoint's config and weights); the caller writes the report. */
  evaluate(checkpoint: string, o: TaskEvaluationOptions): Promise<RunReport>;
}
