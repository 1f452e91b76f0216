// The run config of a command, from its flags: reads what they point at (the --config file, the
// --init run's checkpoint.json, a --resume folder), then layers it with the builders of run-config.ts.
// Engine-free, so option mistakes are reported before libtorch loads.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_JSON, readCheckpointMeta } from '../train/checkpoint-meta.js';
import { ConfigError, type RunConfig, type TaskKind } from '../train/config.js';
import { CatkitError } from '../errors.js';
import { readConfigFile } from './config-file.js';
import { buildDetectionCatConfig, buildDetectionTrainConfig, readInitConfig, refuseDetectionFlags, taskKindOf, type DetectionFlags } from './detection-config.js';
import { buildCatConfig, buildResumeConfig, buildTrainConfig, catInitPath, type CatFlags, type TrainFlags } from './run-config.js';

/** Where a run goes and how: shared by train and cat. */
export interface RunTarget {
  out: string;
  resume?: boolean;
  /** Replace a run already in `out` (and clear a stale lock); with `resume`, only clear a stale lock (a run killed with SIGKILL leaves one). */
  force?: boolean;
  /** A JSON run config (schema/run-config.schema.json) or a checkpoint.json; flags override it. */
  config?: string;
}

function resumed(t: RunTarget, flags: { epochs?: number; workers?: number }): RunConfig {
  if (t.config !== undefined) throw new ConfigError('--resume continues a run with its own config; drop --config');
  if (!existsSync(path.join(t.out, CHECKPOINT_JSON))) throw new CatkitError('no_checkpoint', `--resume: no checkpoint in ${t.out}`);
  return buildResumeConfig(readCheckpointMeta(t.out).meta.config, flags);
}

/** A resumed run keeps its task; a --task naming another is a mistake. */
function resumedAs(t: RunTarget, flags: { epochs?: number; workers?: number; task?: TaskKind }): RunConfig {
  const c = resumed(t, flags);
  if (flags.task && flags.task !== (c.taskKind ?? 'classification')) throw new ConfigError(`--task ${flags.task}: the run in ${t.out} is a ${c.taskKind ?? 'classification'} run`);
  return c;
}

export function configureTrain(flags: TrainFlags & DetectionFlags & RunTarget): RunConfig {
  if (flags.resume) return resumedAs(flags, flags);
  const file = flags.config !== undefined ? readConfigFile(flags.config) : undefined;
  const initPath = flags.init ?? file?.init;
  const init = initPath !== undefined ? readInitConfig(initPath) : undefined;
  if (taskKindOf(flags, file, init) === 'detection') return buildDetectionTrainConfig({ flags: { ...flags, init: initPath }, file, init });
  refuseDetectionFlags(flags);
  if (initPath !== undefined && init === undefined) throw new ConfigError('--init takes a run folder (from `catkit train` or `catkit import`), not a bare .safetensors file');
  return buildTrainConfig({ flags: { ...flags, init: initPath }, file, init });
}

export function configureCat(flags: CatFlags & DetectionFlags & RunTarget): RunConfig {
  if (flags.resume) return resumedAs(flags, flags);
  const file = flags.config !== undefined ? readConfigFile(flags.config) : undefined;
  const initPath = catInitPath(flags, file);
  const init = readInitConfig(initPath)!; // catInitPath refused a bare .safetensors file
  if (taskKindOf(flags, file, init) === 'detection') return buildDetectionCatConfig({ flags: { ...flags, init: initPath }, file, init });
  refuseDetectionFlags(flags);
  return buildCatConfig({ flags, file, init });
}
