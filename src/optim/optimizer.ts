// Optimizer base: parameter groups with per-group hyperparameters, per-parameter state, a step that
// runs without autograd inside its own tidy, and a state dict (tensors + JSON scalars) for resuming.
import { Tensor, keep, noGrad, tidy } from '../tensor/index.js';
import { call1 } from '../tensor/tensor.js';

export type Json = string | number | boolean | null | Json[] | readonly Json[] | { [k: string]: Json };

/** Hyperparameters every optimizer has; subclasses add their own (all JSON-able). */
export interface BaseOptions { lr: number }

/** One group as the optimizer holds it: its tensors plus every hyperparameter, filled from the defaults. */
export type ParamGroup<O> = O & {
  params: Tensor[];
  /** The lr a schedule started from (set by the first schedule attached, like PyTorch's initial_lr). */
  initialLr?: number;
};
/** A group as given by the caller: any hyperparameter may be overridden. */
export type ParamGroupSpec<O> = Partial<O> & { params: Iterable<Tensor> };
export type Params<O> = Iterable<Tensor> | readonly ParamGroupSpec<O>[];

/** Per-parameter state: named tensors (moments, buffers) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/**
 * Serializable optimizer state. `tensors` keys are `state.<paramIndex>.<name>`, the index counting
 * parameters across groups in order (as PyTorch); from stateDict() they are detached views the
 * caller disposes. `scalars` is plain JSON.
 */
export interface OptimizerStateDict {
  tensors: Map<string, Tensor>;
  scalars: {
    groups: ({ [k: string]: Json } & { params: number[] })[];
    state: Record<string, Record<string, number>>;
  };
}

/** `defaults` overridden by the options the caller actually set (undefined values are ignored). */
export function withDefaults<T extends object>(defaults: T, o: Partial<T>): T {
  return { ...defaults, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as T;
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  readonly paramGroups: ParamGroup<O>[] = [];
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: Params<O>, readonly defaults: Readonly<O>) {
    const list = [...(params as Iterable<Tensor | ParamGroupSpec<O>>)];
    if (list.length === 0) throw new RangeError(`${this.constructor.name}: got an empty parameter list`);
    const groups = list.every((p) => p instanceof Tensor) ? [{ params: list as Tensor[] } as unknown as ParamGroupSpec<O>] : (list as ParamGroupSpec<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Validates a group's hyperparameters; throw a RangeError naming the bad value. */
  protected abstract validate(group: ParamGroup<O>): void;
  /** Updates one parameter in place (called under noGrad inside step()'s tidy). */
  protected abstract updateParameter(param: Tensor, grad: Tensor, group: ParamGroup<O>, state: ParamState): void;

  addParamGroup(spec: ParamGroupSpec<O>): void {
    if (spec === null || typeof spec !== 'object' || !('params' in spec)) {
      throw new TypeError(`${this.constructor.name}: a parameter group must be { params, ...options }`);
    }
    const params = [...spec.params];
    const existing = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: parameter group holds a non-Tensor`);
      if (p.isDisposed) throw new Error(`${this.constructor.name}: parameter is disposed`);
      if (existing.has(p)) throw new Error(`${this.constructor.name}: a parameter appears in more than one group (or twice)`);
      existing.add(p);
    }
    const overrides = Object.fromEntries(Object.entries(spec).filter(([k, v]) => k !== 'params' && v !== undefined));
    const group = { ...this.defaults, ...overrides, params } as ParamGroup<O>;
    if (!(Number.isFinite(group.lr) && group.lr >= 0)) throw new RangeError(`${this.constructor.name}: lr must be a finite number >= 0, got ${group.lr}`);
    this.validate(group);
    this.paramGroups.push(group);
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    tidy(() => noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const grad = p.grad;
          if (grad === null) continue;
          let st = this.state.get(p);
          if (!st) this.state.set(p, (st = {}));
          this.updateParameter(p, grad, group, st);
        }
      }
    }));
  }

  /** Drops gradients (setToNone, the default) or zeroes them in place. */
  zeroGrad({ setToNone = true }: { setToNone?: boolean } = {}): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) { p.grad = null; continue; }
        tidy(() => noGrad(() => { p.grad?.zero_(); }));
      }
    }
  }

  /** A zero tensor shaped and laid out like `p` (channels-last stays channels-last), owned by the optimizer. */
  protected newState(p: Tensor): Tensor {
    return keep(call1('zeros_like', '', [p.handle, null, null, null, null, null]));
  }

  stateDict(): OptimizerStateDict {
    const tensors = new Map<string, Tensor>();
    const state: Record<string, Record<string, number>> = {};
    const groups: OptimizerStateDict['scalars']['groups'] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const { params, ...hyper } = g;
      const ids: number[] = [];
      for (const p of params) {
        const st = this.state.get(p);
        if (st) {
          for (const [name, v] of Object.entries(st)) {
            if (v instanceof Tensor) tensors.set(`state.${index}.${name}`, v.detach());
            else (state[index] ??= {})[name] = v;
          }
        }
        ids.push(index++);
      }
      groups.push({ ...(JSON.parse(JSON.stringify(hyper)) as { [k: string]: Json }), params: ids });
    }
    return { tensors, scalars: { groups, state } };
  }

  /**
   * Restores state and group hyperparameters saved by stateDict(). Group and parameter counts and
   * every state tensor's shape must match; all is checked before anything changes. The caller
   * keeps ownership of `sd.tensors` (values are copied).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    const { groups, state } = sd.scalars;
    if (!Array.isArray(groups) || groups.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: checkpoint has ${groups?.length} parameter groups, optimizer has ${this.paramGroups.length}`);
    }
    const params: Tensor[] = [];
    groups.forEach((g, i) => {
      const own = this.paramGroups[i]!.params;
      if (!Array.isArray(g.params) || g.params.length !== own.length) {
        throw new Error(`${name}.loadStateDict: group ${i} has ${g.params?.length} parameters in the checkpoint, ${own.length} in the optimizer`);
      }
      params.push(...own);
    });
    const problems: string[] = [];
    for (const [key, t] of sd.tensors) {
      const m = /^state\.(\d+)\.(.+)$/.exec(key);
      const p = m ? params[Number(m[1])] : undefined;
      if (!m || !p) { problems.push(`${key}: not a state entry of any parameter`); continue; }
      if (t.isDisposed) problems.push(`${key}: tensor is disposed`);
      else if (t.shape.join() !== p.shape.join()) problems.push(`${key}: checkpoint [${t.shape.join(',')}] vs parameter [${p.shape.join(',')}]`);
      else if (t.dtype !== p.dtype) problems.push(`${key}: checkpoint dtype ${t.dtype} vs parameter ${p.dtype}`);
    }
    for (const idx of Object.keys(state ?? {})) if (!params[Number(idx)]) problems.push(`state.${idx}: no such parameter`);
    if (problems.length) throw new Error(`${name}.loadStateDict: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);

    this.disposeState();
    for (const [key, t] of sd.tensors) {
      const [, idx, field] = /^state\.(\d+)\.(.+)$/.exec(key)!;
      const p = params[Number(idx)]!;
      const copy = this.newState(p);
      noGrad(() => copy.copy_(t));
      this.#stateOf(p)[field!] = copy;
    }
    for (const [idx, scalars] of Object.entries(state ?? {})) Object.assign(this.#stateOf(params[Number(idx)]!), scalars);
    groups.forEach((g, i) => {
      const { params: _ids, ...hyper } = g;
      Object.assign(this.paramGroups[i]!, hyper);
    });
  }

  #stateOf(p: Tensor): ParamState {
    let st = this.state.get(p);
    if (!st) this.state.set(p, (st = {}));
    return st;
  }

  /** Frees all state tensors (moments, momentum buffers); parameters are not touched. */
  protected disposeState(): void {
    for (const st of this.state.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }

  /** Frees the optimizer's state; the optimizer should not be used afterwards. */
  dispose(): void { this.disposeState(); }
}
