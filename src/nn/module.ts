// Module: a tree of named parameters, buffers and child modules whose dotted paths are the
// state-dict keys (`layer1.0.conv1.weight`), as in PyTorch/torchvision, so checkpoints load by name.
import { Tensor, keep, noGrad, tidy, dispose, isFloating, type DType } from '../tensor/index.js';
import { aten } from '../tensor/ops.js';
import { StateDictError, checkStateDict, type LoadOptions, type LoadResult } from './state-dict.js';
import { saveSafetensors, loadSafetensors } from './safetensors.js';

/** Any module regardless of its input/output types (children of a container). */
export type AnyModule = Module<any, any>;

export abstract class Module<In = Tensor, Out = Tensor> {
  /** Training mode (dropout active, batch norm uses batch statistics); set by train()/eval(). */
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, AnyModule>();

  abstract forward(x: In): Out;

  // ---- registration ----

  /**
   * Registers (or replaces) a parameter. The module takes ownership: the tensor is kept (no tidy
   * scope disposes it) and marked requiresGrad; a replaced tensor is disposed. Pass a leaf tensor.
   */
  registerParameter(name: string, t: Tensor, o: { requiresGrad?: boolean } = {}): Tensor {
    this.#checkName(name, 'parameter', this.#params);
    if (!isFloating(t.dtype)) throw new TypeError(`${this.#label()}: parameter '${name}' must be floating point, got ${t.dtype}`);
    const old = this.#params.get(name);
    if (old && old !== t) old.dispose();
    this.#params.set(name, keep(t).requiresGrad_(o.requiresGrad ?? true));
    return t;
  }

  /** Registers (or replaces) a non-trainable tensor saved in the state dict (running stats, counters). */
  registerBuffer(name: string, t: Tensor): Tensor {
    this.#checkName(name, 'buffer', this.#buffers);
    const old = this.#buffers.get(name);
    if (old && old !== t) old.dispose();
    this.#buffers.set(name, keep(t));
    return t;
  }

  /**
   * Registers (or replaces) a child module; its tensors' keys get the prefix `name.`. A replaced
   * child is not disposed (it is often wrapped by its replacement). If an own property of the same
   * name held the old child, it is updated too, so `this.act1`-style fields follow setSubmodule().
   */
  registerModule<M extends AnyModule>(name: string, m: M): M {
    this.#checkName(name, 'module', this.#children);
    if (!(m instanceof Module)) throw new TypeError(`${this.#label()}: child '${name}' is not a Module`);
    const old = this.#children.get(name);
    this.#children.set(name, m);
    const self = this as unknown as Record<string, unknown>;
    if (old && old !== m && Object.prototype.hasOwnProperty.call(self, name) && self[name] === old) self[name] = m;
    return m;
  }
  /** Short form of registerModule, as in `this.conv1 = this.add('conv1', new Conv2d(…))`. */
  add<M extends AnyModule>(name: string, m: M): M { return this.registerModule(name, m); }

  // ---- lookup ----

  /** The parameter registered under `name`; throws if absent. */
  param(name: string): Tensor {
    const t = this.#params.get(name);
    if (!t) throw new Error(`${this.#label()} has no parameter '${name}'`);
    return t;
  }
  optionalParam(name: string): Tensor | null { return this.#params.get(name) ?? null; }
  buffer(name: string): Tensor {
    const t = this.#buffers.get(name);
    if (!t) throw new Error(`${this.#label()} has no buffer '${name}'`);
    return t;
  }
  child<M extends AnyModule = AnyModule>(name: string): M {
    const m = this.#children.get(name);
    if (!m) throw new Error(`${this.#label()} has no child module '${name}'`);
    return m as M;
  }
  /** The module at a dotted path ('' is this module), e.g. 'layer1.0.conv1'. */
  getSubmodule<M extends AnyModule = AnyModule>(path: string): M {
    let m: AnyModule = this;
    if (path === '') return m as M;
    for (const part of path.split('.')) {
      const next = m.#children.get(part);
      if (!next) throw new Error(`${this.#label()}: no submodule '${path}' ('${part}' not found)`);
      m = next;
    }
    return m as M;
  }
  /** Replaces the module at a dotted path; returns the old one (not disposed). */
  setSubmodule(path: string, m: AnyModule): AnyModule {
    const dot = path.lastIndexOf('.');
    const parent = this.getSubmodule(dot < 0 ? '' : path.slice(0, dot));
    const name = path.slice(dot + 1);
    const old = parent.child(name);
    parent.registerModule(name, m);
    return old;
  }

  // ---- traversal (pre-order, shared tensors/modules reported once, as in PyTorch) ----

  namedChildren(): [string, AnyModule][] { return [...this.#children]; }
  children(): AnyModule[] { return [...this.#children.values()]; }
  /** This module (name '') and all descendants with their dotted paths. */
  namedModules(prefix = '', seen = new Set<AnyModule>()): [string, AnyModule][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, AnyModule][] = [[prefix, this]];
    for (const [name, c] of this.#children) out.push(...c.namedModules(join(prefix, name), seen));
    return out;
  }
  modules(): AnyModule[] { return this.namedModules().map(([, m]) => m); }
  namedParameters(): [string, Tensor][] { return this.#namedTensors((m) => m.#params); }
  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }
  namedBuffers(): [string, Tensor][] { return this.#namedTensors((m) => m.#buffers); }
  buffers(): Tensor[] { return this.namedBuffers().map(([, t]) => t); }
  /** Total element count of all (distinct) parameters. */
  numParameters(): number { return this.parameters().reduce((n, t) => n + t.size, 0); }

  // ---- modes and bulk operations ----

  /** Sets training mode on this module and all descendants. */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }
  eval(): this { return this.train(false); }

  /** Drops every parameter's gradient (the next backward starts from zero). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls fn on every descendant, children before parents (as PyTorch's apply), then returns this. */
  apply(fn: (m: AnyModule) => void): this {
    for (const c of this.#children.values()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Re-lays every rank-4 parameter and buffer out as NHWC in place (the Tensor objects stay the same,
   * so optimizers holding them keep working), so convolutions run channels-last.
   */
  toChannelsLast(): this {
    this.#replaceData((t) => (t.rank === 4 ? t.detach().contiguous('channelsLast') : null));
    return this;
  }

  /**
   * Converts every floating parameter and buffer to `dtype` in place (integer buffers are left
   * alone). Gradients are dropped, since they keep the old dtype.
   */
  to(dtype: DType): this {
    if (!isFloating(dtype)) throw new TypeError(`${this.#label()}.to: dtype must be floating point, got ${dtype}`);
    this.#replaceData((t) => (isFloating(t.dtype) && t.dtype !== dtype ? t.detach().to(dtype) : null));
    this.zeroGrad();
    return this;
  }

  /** Frees every parameter and buffer of this module and its descendants. Idempotent. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const t of m.#params.values()) t.dispose();
      for (const t of m.#buffers.values()) t.dispose();
    }
  }

  // ---- state dict ----

  /**
   * Parameters and buffers by dotted key, in PyTorch's order (each module's parameters, then its
   * buffers, then its children). Values are detached views sharing the module's storage: the
   * caller disposes them (or calls this inside tidy); they see later updates to the module.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [key, t] of this.#stateEntries()) out.set(key, t.detach());
    return out;
  }

  /**
   * Copies values from `sd` into this module's tensors in place. Shapes and dtypes must match; with
   * strict (the default) every key must also match, except missing keys accepted by allowMissing.
   * Everything is checked before anything is copied; all problems come in one StateDictError.
   * The caller keeps ownership of `sd`.
   */
  loadStateDict(sd: ReadonlyMap<string, Tensor>, o: LoadOptions = {}): LoadResult {
    const entries = this.#stateEntries();
    const result = checkStateDict(entries, sd, o, this.#label());
    noGrad(() => tidy(() => {
      for (const [key, target] of entries) {
        const src = sd.get(key);
        if (src) target.copy_(src);
      }
    }));
    return result;
  }

  /** Writes the state dict to a safetensors file (atomically). */
  save(path: string, metadata?: Record<string, string>): void {
    tidy(() => { saveSafetensors(path, this.stateDict(), metadata); });
  }

  /** Loads a safetensors file written by save() (or by PyTorch tooling) into this module. */
  load(path: string, o: LoadOptions = {}): LoadResult {
    const { tensors } = loadSafetensors(path);
    try {
      return this.loadStateDict(tensors, { ...o, source: o.source ?? path });
    } finally {
      dispose(tensors);
    }
  }

  // ---- internals ----

  #label(): string { return this.constructor.name || 'Module'; }

  #checkName(name: string, kind: string, own: Map<string, unknown>): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new RangeError(`${this.#label()}: ${kind} name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    for (const map of [this.#params, this.#buffers, this.#children] as Map<string, unknown>[]) {
      if (map !== own && map.has(name)) throw new Error(`${this.#label()}: '${name}' is already registered as another kind (cannot register ${kind})`);
    }
  }

  #namedTensors(pick: (m: AnyModule) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([join(path, name), t]);
      }
    }
    return out;
  }

  /** Own tensors in state-dict order; shared tensors appear under every name (PyTorch does too). */
  #stateEntries(prefix = '', out: [string, Tensor][] = []): [string, Tensor][] {
    for (const [name, t] of this.#params) out.push([join(prefix, name), t]);
    for (const [name, t] of this.#buffers) out.push([join(prefix, name), t]);
    for (const [name, c] of this.#children) c.#stateEntries(join(prefix, name), out);
    return out;
  }

  /** Swaps each tensor's storage for `convert(t)` (when non-null), keeping the Tensor's identity. */
  #replaceData(convert: (t: Tensor) => Tensor | null): void {
    const all = new Set([...this.parameters(), ...this.buffers()]);
    noGrad(() => tidy(() => {
      for (const t of all) {
        const next = convert(t);
        if (next) aten('set_data').call([t.handle, next.handle]);
      }
    }));
  }
}

const join = (prefix: string, name: string): string => (prefix === '' ? name : `${prefix}.${name}`);

export { StateDictError };
