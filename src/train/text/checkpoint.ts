// Checkpoints of text runs (pretrain every N steps, finetune and cat every epoch): the model, the
// AdamW state and the schedule in `text-checkpoint.safetensors`, the rest (progress, settings,
// history, numbers measured before training) in `text-checkpoint.json`. Both are written
// atomically, tensors first and the JSON that names them last, so a crash at any point leaves the
// previous checkpoint readable. The loops reseed libtorch and the masking RNG from (seed, step or
// epoch), so a resumed run draws what an uninterrupted one would and ends bit-identical.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dispose, type Tensor } from '../../tensor/index.js';
import { loadSafetensors, saveSafetensors } from '../../nn/index.js';
import type { Json, OptimizerStateDict, ScheduleState } from '../../optim/index.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { CatkitError } from '../../errors.js';

export const TEXT_CHECKPOINT_JSON = 'text-checkpoint.json';
const TENSORS_FILE = 'text-checkpoint.safetensors';

export type TextRunKind = 'bert-pretrain' | 'bert-finetune' | 'bert-cat';

export interface TextCheckpointMeta {
  format: 'catkit-text-checkpoint';
  version: 1;
  kind: TextRunKind;
  /** Optimizer steps (pretrain) or epochs (finetune, cat) completed. */
  done: number;
  /** The run's settings, compared on resume. */
  settings: { [k: string]: Json };
  optimizer: OptimizerStateDict['scalars'];
  schedule: ScheduleState;
  /** Per-epoch (or per-log-window) records so far. */
  history: Json[];
  /** Numbers measured before training (float and pre-training evaluations), kept for the report. */
  extra: { [k: string]: Json };
}

/** What a training loop hands over at a checkpoint, and gets back to continue from one. */
export interface LoopState { done: number; optimizer: OptimizerStateDict; schedule: ScheduleState }

export function saveTextCheckpoint(dir: string, meta: Omit<TextCheckpointMeta, 'format' | 'version' | 'optimizer' | 'schedule' | 'done'>,
  model: Map<string, Tensor>, state: LoopState): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of model) tensors.set(`model.${k}`, v);
  for (const [k, v] of state.optimizer.tensors) tensors.set(`optim.${k}`, v);
  saveSafetensors(path.join(dir, TENSORS_FILE), tensors, { format: 'catkit-text-checkpoint' });
  const full: TextCheckpointMeta = { format: 'catkit-text-checkpoint', version: 1, ...meta, done: state.done, optimizer: state.optimizer.scalars, schedule: state.schedule };
  writeFileAtomic(path.join(dir, TEXT_CHECKPOINT_JSON), JSON.stringify(full));
}

export const hasTextCheckpoint = (dir: string): boolean => existsSync(path.join(dir, TEXT_CHECKPOINT_JSON));

/** Only the JSON part (no engine work): for checks before a run starts. */
export function readTextCheckpointMeta(dir: string): TextCheckpointMeta {
  const file = path.join(dir, TEXT_CHECKPOINT_JSON);
  let meta: TextCheckpointMeta;
  try { meta = JSON.parse(readFileSync(file, 'utf8')) as TextCheckpointMeta; } catch (e) {
    throw new CatkitError('checkpoint_invalid', `${file}: not a readable text checkpoint (${(e as Error).message})`, { file });
  }
  if (meta?.format !== 'catkit-text-checkpoint' || meta.version !== 1 || !Number.isInteger(meta.done) || meta.done < 0
    || typeof meta.settings !== 'object' || !meta.optimizer || !meta.schedule || !Array.isArray(meta.history)) {
    throw new CatkitError('checkpoint_invalid', `${file} is not a catkit text checkpoint (format, version, done, settings, optimizer, schedule or history missing)`, { file });
  }
  return meta;
}

/** Reads a checkpoint; the caller owns (and disposes) the tensors. */
export function loadTextCheckpoint(dir: string): { meta: TextCheckpointMeta; model: Map<string, Tensor>; state: LoopState } {
  const meta = readTextCheckpointMeta(dir);
  const { tensors } = loadSafetensors(path.join(dir, TENSORS_FILE));
  const model = new Map<string, Tensor>(), optim = new Map<string, Tensor>();
  for (const [k, v] of tensors) {
    if (k.startsWith('model.')) model.set(k.slice(6), v);
    else if (k.startsWith('optim.')) optim.set(k.slice(6), v);
    else dispose(v);
  }
  return { meta, model, state: { done: meta.done, optimizer: { tensors: optim, scalars: meta.optimizer }, schedule: meta.schedule } };
}

/** Files of a text run that --force replaces. */
export const TEXT_RUN_FILES = /^(text-checkpoint\.json|text-checkpoint\.safetensors|report\.json|config\.json|model\.safetensors)$/;
