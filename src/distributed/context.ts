// What training and evaluation need from a distributed run, in one object handed down from the
// entry point: who we are, how to shard data, and model-level collectives. A single-process run
// passes no context at all.
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import type { Shard } from '../data/index.js';
import type { ProcessGroup } from './process-group.js';
import { GradientSync, type GradSyncOptions } from './grad-sync.js';

export class DistributedContext {
  constructor(readonly group: ProcessGroup) {}

  get rank(): number { return this.group.rank; }
  get worldSize(): number { return this.group.worldSize; }
  /** Rank 0 logs, shows progress and writes checkpoints and reports. */
  get isMain(): boolean { return this.group.rank === 0; }

  /** Training data: each rank a disjoint, equally long share of every epoch's global order. */
  get trainShard(): Shard { return { rank: this.rank, worldSize: this.worldSize, by: 'sample' }; }
  /** Evaluation data: every worldSize-th batch of the global order, so per-batch results add up to the single-process ones. */
  get evalShard(): Shard { return { rank: this.rank, worldSize: this.worldSize, by: 'batch' }; }

  /** Parameters and buffers of every rank become rank 0's (initial weights, calibrated clips, resumed state). */
  async broadcastModule(model: Module): Promise<void> {
    await this.group.broadcast([...model.parameters(), ...model.buffers()], 0);
  }

  /** Buffers (batch-norm running statistics) become rank 0's, as DDP's broadcast_buffers. */
  async broadcastBuffers(model: Module): Promise<void> {
    await this.group.broadcast(model.buffers(), 0);
  }

  /** Floating-point buffers become the mean over ranks (batch-norm statistics re-estimated on each rank's shard). */
  async averageBuffers(model: Module): Promise<void> {
    const floats = model.buffers().filter((b) => b.dtype === 'float32' || b.dtype === 'float64');
    await this.group.allreduce(floats, 'sum');
    noGrad(() => { for (const b of floats) b.mul_(1 / this.worldSize); });
  }

  /** Gradient averaging for `model`'s trainable parameters (dispose it when training ends). */
  gradientSync(model: Module, o?: GradSyncOptions): GradientSync {
    return new GradientSync(this.group, model.parameters().filter((p) => p.requiresGrad), o);
  }

  /** Element-wise sums of plain numbers across ranks. */
  sum(values: readonly number[]): Promise<number[]> { return this.group.allreduceNumbers(values, 'sum'); }

  allgatherJson<T>(value: T): Promise<T[]> { return this.group.allgatherJson(value); }

  barrier(): Promise<void> { return this.group.barrier(); }

  /** Only for tests and checks: the tensors, reduced across ranks by max of |x − x_rank0|. */
  async maxDeviationFromMain(tensors: readonly Tensor[]): Promise<number> {
    let worst = 0;
    for (const t of tensors) {
      const copy = tidy(() => t.detach().clone());
      try {
        await this.group.broadcast([copy], 0);
        worst = Math.max(worst, tidy(() => copy.sub(t.detach()).abs().max().item()));
      } finally { copy.dispose(); }
    }
    const [all] = await this.group.allreduceNumbers([worst], 'max');
    return all!;
  }
}
