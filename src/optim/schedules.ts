// Learning-rate schedules in PyTorch's closed forms. Like torch.optim.lr_scheduler, constructing a
// schedule applies the epoch-0 rate, and each step() advances one epoch (or iteration) and sets
// every group's lr; base rates are the groups' initialLr (recorded on first attach).
import type { Optimizer } from './optimizer.js';

/** The lr at `epoch` for a group whose base lr is `baseLr`. */
export type LrFunction = (epoch: number, baseLr: number, groupIndex: number) => number;
export interface ScheduleState { lastEpoch: number; baseLrs: number[] }

export class LRScheduler {
  lastEpoch: number;
  readonly baseLrs: number[];

  /**
   * `lastEpoch` ≠ −1 resumes a schedule whose groups already carry initialLr (as PyTorch's
   * last_epoch); usually construct fresh and call loadStateDict instead.
   */
  constructor(readonly optimizer: Optimizer, readonly lrAt: LrFunction, { lastEpoch = -1 }: { lastEpoch?: number } = {}) {
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new RangeError(`${this.constructor.name}: lastEpoch must be an integer >= -1, got ${lastEpoch}`);
    this.baseLrs = optimizer.paramGroups.map((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr; // kept if another schedule already recorded it
      if (g.initialLr === undefined) throw new Error(`${this.constructor.name}: resuming at lastEpoch ${lastEpoch} needs initialLr on param group ${i}`);
      return g.initialLr;
    });
    this.lastEpoch = lastEpoch;
    this.step();
  }

  /** Advances one epoch and sets each group's lr. */
  step(): void {
    this.lastEpoch += 1;
    this.#apply();
  }

  /** The lr of each group as last set by this schedule. */
  get lastLr(): number[] { return this.baseLrs.map((b, i) => this.lrAt(this.lastEpoch, b, i)); }

  stateDict(): ScheduleState { return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] }; }

  /** Restores the epoch counter and base rates, then re-applies the lr for that epoch. */
  loadStateDict(s: ScheduleState): void {
    if (!Number.isInteger(s.lastEpoch) || !Array.isArray(s.baseLrs) || s.baseLrs.length !== this.baseLrs.length) {
      throw new Error(`${this.constructor.name}.loadStateDict: expected { lastEpoch, baseLrs[${this.baseLrs.length}] }, got ${JSON.stringify(s)}`);
    }
    this.lastEpoch = s.lastEpoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...s.baseLrs);
    this.optimizer.paramGroups.forEach((g, i) => { g.initialLr = s.baseLrs[i]!; });
    this.#apply();
  }

  #apply(): void {
    const lrs = this.lastLr;
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = lrs[i]!; });
  }
}

function positive(v: number, name: string, where: string, integer = false): number {
  if (!(v > 0) || (integer && !Number.isInteger(v))) throw new RangeError(`${where}: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  return v;
}

/** lr = base · gamma^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, { stepSize, gamma = 0.1, lastEpoch }: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    positive(stepSize, 'stepSize', 'StepLR', true);
    super(optimizer, (e, base) => base * gamma ** Math.floor(e / stepSize), { lastEpoch });
  }
}

/** lr = base · gamma^(number of milestones ≤ epoch); repeated milestones count repeatedly. */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: Optimizer, { milestones, gamma = 0.1, lastEpoch }: { milestones: readonly number[]; gamma?: number; lastEpoch?: number }) {
    const sorted = [...milestones].sort((a, b) => a - b);
    if (sorted.some((m) => !Number.isInteger(m) || m < 0)) throw new RangeError(`MultiStepLR: milestones must be non-negative integers, got ${JSON.stringify(milestones)}`);
    super(optimizer, (e, base) => base * gamma ** sorted.filter((m) => m <= e).length, { lastEpoch });
  }
}

/** lr = base · gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, { gamma, lastEpoch }: { gamma: number; lastEpoch?: number }) {
    positive(gamma, 'gamma', 'ExponentialLR');
    super(optimizer, (e, base) => base * gamma ** e, { lastEpoch });
  }
}

/** lr = etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2 (periodic beyond tMax, as PyTorch's closed form). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, { tMax, etaMin = 0, lastEpoch }: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    positive(tMax, 'tMax', 'CosineAnnealingLR', true);
    super(optimizer, (e, base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2, { lastEpoch });
  }
}

/** lr = base · factor(epoch), one function for all groups or one per group. */
export class LambdaLR extends LRScheduler {
  constructor(optimizer: Optimizer, factor: ((epoch: number) => number) | readonly ((epoch: number) => number)[], { lastEpoch }: { lastEpoch?: number } = {}) {
    const fns = typeof factor === 'function' ? optimizer.paramGroups.map(() => factor) : [...factor];
    if (fns.length !== optimizer.paramGroups.length) {
      throw new RangeError(`LambdaLR: got ${fns.length} functions for ${optimizer.paramGroups.length} parameter groups`);
    }
    super(optimizer, (e, base, i) => base * fns[i]!(e), { lastEpoch });
  }
}

/**
 * Linear warm-up from startFactor·base to base over warmupEpochs, then `after` (its epoch counted
 * from the end of the warm-up). Equals PyTorch's SequentialLR([LinearLR(startFactor, total_iters =
 * warmupEpochs), after], milestones = [warmupEpochs]). Only step the warm-up, not `after`.
 */
export class LinearWarmup extends LRScheduler {
  constructor(optimizer: Optimizer, after: LRScheduler, { warmupEpochs, startFactor = 1 / 3, lastEpoch }: { warmupEpochs: number; startFactor?: number; lastEpoch?: number }) {
    positive(warmupEpochs, 'warmupEpochs', 'LinearWarmup', true);
    if (!(startFactor > 0 && startFactor <= 1)) throw new RangeError(`LinearWarmup: startFactor must be in (0, 1], got ${startFactor}`);
    if (after.optimizer !== optimizer) throw new Error('LinearWarmup: the wrapped schedule must drive the same optimizer');
    super(optimizer, (e, base, i) => (e < warmupEpochs
      ? base * (startFactor + ((1 - startFactor) * e) / warmupEpochs)
      : after.lrAt(e - warmupEpochs, base, i)), { lastEpoch });
  }
}
