// The task of a run config: classification unless it says detection.
import type { RunConfig } from '../../train/config.js';
import type { Task } from './task.js';
import { classificationTask } from './classification.js';
import { detectionTask } from './detection.js';

export type { Task, TaskRunOptions, TaskEvaluationOptions } from './task.js';

export function taskFor(config: Pick<RunConfig, 'taskKind'>): Task {
  return config.taskKind === 'detection' ? detectionTask : classificationTask;
}
