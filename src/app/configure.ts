// The run config of a command, from its flags: reads what they point at (the --config file, the
// --init run's checkpoint.json, a --resume folder), then layers it with the builders of run-config.ts.
// Engine-free, so option mistakes are reported before libtorch loads.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_JSON, readCheckpointMeta } from '../train/checkpoint-meta.js';
import { ConfigError, type RunConfig } from '../train/config.js';
import { CatkitError } from '../errors.js';
import { readConfigFile } from './config-file.js';
import { buildCatConfig, buildResumeConfig, buildTrainConfig, catInitPath, type CatFlags, type TrainFlags } from './run-config.js';

/** Where a run goes and how: shared by train and cat. */
export interface RunTarget {
  out: string;
  resume?: boolean;
  /** Replace a run already in `out` (and clear a stale lock). */
  force?: boolean;
  /** A JSON run config (schema/run-config.schema.json) or a checkpoint.json; flags override it. */
  config?: string;
}

function resumed(t: RunTarget, flags: { epochs?: number; workers?: number }): RunConfig {
  if (t.config !== undefined) throw new ConfigError('--resume continues a run with its own config; drop --config');
  if (t.force) throw new ConfigError('--resume continues the run in --out and --force replaces it; pass one of them');
  if (!existsSync(path.join(t.out, CHECKPOINT_JSON))) throw new CatkitError('no_checkpoint', `--resume: no checkpoint in ${t.out}`);
  return buildResumeConfig(readCheckpointMeta(t.out).meta.config, flags);
}

export function configureTrain(flags: TrainFlags & RunTarget): RunConfig {
  if (flags.resume) return resumed(flags, flags);
  const file = flags.config !== undefined ? readConfigFile(flags.config) : undefined;
  const initPath = flags.init ?? file?.init;
  const init = initPath !== undefined ? readCheckpointMeta(initPath).meta.config : undefined;
  return buildTrainConfig({ flags: { ...flags, init: initPath }, file, init });
}

export function configureCat(flags: CatFlags & RunTarget): RunConfig {
  if (flags.resume) return resumed(flags, flags);
  const file = flags.config !== undefined ? readConfigFile(flags.config) : undefined;
  const init = readCheckpointMeta(catInitPath(flags, file)).meta.config;
  return buildCatConfig({ flags, file, init });
}
