// Checkpoints: tensors in one safetensors file, everything else in a JSON file that names it.
// Both are written atomically (temp file, fsync, rename) and the JSON last, so a crash at any
// point leaves the previous checkpoint readable.
import { rmSync, readdirSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.js';
import path from 'node:path';
import { dispose, type Tensor } from '../tensor/index.js';
import { loadSafetensors, saveSafetensors, type AnyModule } from '../nn/index.js';
import type { LRScheduler, Optimizer, OptimizerStateDict } from '../optim/index.js';
import { CHECKPOINT_JSON, readCheckpointMeta, type CheckpointMeta } from './checkpoint-meta.js';

export { CHECKPOINT_JSON, CheckpointError, readCheckpointMeta, type CheckpointMeta, type EpochRecord } from './checkpoint-meta.js';

export function saveCheckpoint(dir: string, meta: Omit<CheckpointMeta, 'format' | 'version' | 'tensorsFile' | 'optimizer'>,
  model: Map<string, Tensor>, optimizer: OptimizerStateDict | null): void {
  const tensorsFile = `checkpoint-epoch${meta.epoch}.safetensors`;
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of model) tensors.set(`model.${k}`, v);
  if (optimizer) for (const [k, v] of optimizer.tensors) tensors.set(`optim.${k}`, v);
  saveSafetensors(path.join(dir, tensorsFile), tensors, { format: 'catkit-checkpoint' });
  const full: CheckpointMeta = { format: 'catkit-checkpoint', version: 1, tensorsFile, ...meta, optimizer: optimizer?.scalars ?? null };
  writeFileAtomic(path.join(dir, CHECKPOINT_JSON), JSON.stringify(full, null, 1));
  // Older tensor files are no longer referenced.
  for (const f of readdirSync(dir)) {
    if (/^checkpoint-epoch\d+\.safetensors$/.test(f) && f !== tensorsFile) rmSync(path.join(dir, f), { force: true });
  }
}

/** Reads a checkpoint from a run folder or its checkpoint.json; the caller disposes the tensors. */
export function loadCheckpoint(dirOrFile: string): { meta: CheckpointMeta; model: Map<string, Tensor>; optimizer: Map<string, Tensor>; dir: string } {
  const { meta, dir } = readCheckpointMeta(dirOrFile);
  const { tensors } = loadSafetensors(path.join(dir, path.basename(meta.tensorsFile)));
  const model = new Map<string, Tensor>(), optimizer = new Map<string, Tensor>();
  for (const [k, v] of tensors) {
    if (k.startsWith('model.')) model.set(k.slice(6), v);
    else if (k.startsWith('optim.')) optimizer.set(k.slice(6), v);
    else dispose(v);
  }
  return { meta, model, optimizer, dir };
}

/**
 * Continues a run from its folder's checkpoint: loads the model's and the optimizer's state (and the
 * learning-rate schedule's, when the loop has one) and returns the checkpoint's metadata.
 */
export function resumeFrom(dir: string, model: AnyModule, optimizer: Optimizer, schedule?: LRScheduler): CheckpointMeta {
  const ck = loadCheckpoint(dir);
  try {
    model.loadStateDict(ck.model, { source: dir });
    if (ck.meta.optimizer) optimizer.loadStateDict({ tensors: ck.optimizer, scalars: ck.meta.optimizer });
    if (schedule && ck.meta.schedule) schedule.loadStateDict(ck.meta.schedule);
  } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }
  return ck.meta;
}
