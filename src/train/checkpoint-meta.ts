// checkpoint.json: the part of a checkpoint that describes the run. Reading it needs no engine,
// so the CLI can check --init / --resume folders before libtorch loads.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Json, OptimizerStateDict, ScheduleState } from '../optim/index.js';
import { CatkitError } from '../errors.js';
import { TRAIN_DEFAULTS, type RunConfig } from './config.js';

export interface EpochRecord { epoch: number; [metric: string]: number }

export interface CheckpointMeta {
  format: 'catkit-checkpoint';
  version: 1;
  /** Epochs completed. */
  epoch: number;
  config: RunConfig;
  tensorsFile: string;
  optimizer: OptimizerStateDict['scalars'] | null;
  schedule: ScheduleState | null;
  history: EpochRecord[];
  /** Clip values etc. that a reader may want without loading tensors. */
  extra: { [k: string]: Json };
}

export const CHECKPOINT_JSON = 'checkpoint.json';

/** A run folder or checkpoint that cannot be used (missing, malformed, a field out of range): user-facing. */
export class CheckpointError extends CatkitError {
  override name = 'CheckpointError';
  constructor(message: string, o: { file?: string; hint?: string; code?: string } = {}) {
    super(o.code ?? 'checkpoint_invalid', message, { file: o.file, hint: o.hint });
  }
}

/**
 * Reads and validates checkpoint.json only (no tensors), from a run folder or the file itself.
 * Options added after a run was saved take their defaults.
 */
export function readCheckpointMeta(dirOrFile: string): { meta: CheckpointMeta; dir: string } {
  const jsonFile = dirOrFile.endsWith('.json') ? dirOrFile : path.join(dirOrFile, CHECKPOINT_JSON);
  if (!existsSync(jsonFile)) throw new CheckpointError(`no checkpoint at ${dirOrFile} (expected ${jsonFile})`);
  let meta: CheckpointMeta;
  try { meta = JSON.parse(readFileSync(jsonFile, 'utf8')) as CheckpointMeta; } catch (e) {
    throw new CheckpointError(`checkpoint ${jsonFile} is not valid JSON: ${(e as Error).message}`);
  }
  if (meta?.format !== 'catkit-checkpoint' || meta.version !== 1 || typeof meta.tensorsFile !== 'string' || !meta.config) {
    throw new CheckpointError(`${jsonFile} is not a catkit checkpoint (format/version/tensorsFile/config missing)`);
  }
  meta.config = { ...TRAIN_DEFAULTS, ...meta.config };
  return { meta, dir: path.dirname(jsonFile) };
}
