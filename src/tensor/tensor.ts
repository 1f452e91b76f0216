// The Tensor class: an owned native handle plus typed methods over ATen operators.
import { native, type Handle, type OpArg, type OpResult } from './native.js';
import { aten } from './ops.js';
import { track } from './scope.js';
import { type DType, dtypeCode, dtypeName, viewAs, type AnyTypedArray } from './dtype.js';

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
export type Dims = number | readonly number[];
export const MemoryFormat = { contiguous: 0, preserve: 1, channelsLast: 2 } as const;

/** Safety net only: frees the native tensor of a Tensor that was garbage-collected undisposed. */
const leakGuard = new FinalizationRegistry<Handle>((h) => native.dispose(h));

export class Tensor {
  #handle: Handle | null;
  #shape: readonly number[] | null = null;
  /** Set by keep(): enclosing scopes will not dispose this tensor. */
  scopeKept = false;

  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
    leakGuard.register(this, handle, this);
  }

  /** The native handle; throws on a disposed tensor instead of passing a dead handle to C++. */
  get handle(): Handle {
    if (this.#handle === null) throw new Error('Tensor is disposed');
    return this.#handle;
  }
  get isDisposed(): boolean { return this.#handle === null; }
  dispose(): void {
    if (this.#handle !== null) {
      native.dispose(this.#handle);
      leakGuard.unregister(this);
      this.#handle = null;
    }
  }

  // ---- metadata ----
  get shape(): readonly number[] {
    if (this.#shape === null) this.#shape = Object.freeze(native.shape(this.handle));
    return this.#shape;
  }
  get rank(): number { return this.shape.length; }
  get size(): number { return this.shape.reduce((a, b) => a * b, 1); }
  get dtype(): DType { return dtypeName(native.dtype(this.handle)); }
  get strides(): number[] { return native.strides(this.handle); }
  isContiguous(format: keyof typeof MemoryFormat = 'contiguous'): boolean {
    return native.isContiguous(this.handle, MemoryFormat[format]);
  }
  /** True when both tensors view the same storage (reshape of a contiguous tensor, slices…). */
  sharesStorageWith(other: Tensor): boolean { return native.sameStorage(this.handle, other.handle); }
  /**
   * `Tensor(float32, [2, 2]) [[1, 2], [3, 4]]`: dtype, shape, `requiresGrad` when set, and the values
   * when there are at most `maxValues` of them. Never throws (a disposed tensor reads `Tensor(disposed)`).
   */
  toString(maxValues = 64): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    const dtype = this.dtype;
    const head = `Tensor(${dtype}, [${this.shape.join(', ')}]${this.requiresGrad ? ', requiresGrad' : ''})`;
    if (this.size > maxValues) return head;
    const flat = this.toArray();
    const fmt = (v: number): string => (dtype === 'bool' ? String(v !== 0) : dtype === 'float32' || dtype === 'float16' ? String(+v.toPrecision(dtype === 'float16' ? 4 : 7)) : String(v));
    let at = 0;
    const nest = (d: number): string => {
      if (d === this.rank) return fmt(flat[at++]!);
      return `[${Array.from({ length: this.shape[d]! }, () => nest(d + 1)).join(', ')}]`;
    };
    return `${head} ${nest(0)}`;
  }
  /** console.log / util.inspect show toString() instead of the private fields. */
  [Symbol.for('nodejs.util.inspect.custom')](): string { return this.toString(); }

  // ---- data out ----
  /** A copy of the elements in row-major order, as the dtype's typed array. */
  dataSync(): AnyTypedArray { return viewAs(this.dtype, native.toBuffer(this.handle)); }
  /** Elements as plain numbers (int64 converted, bool as 0/1, float16 decoded). */
  toArray(): number[] {
    if (this.dtype === 'float16') { const f = this.to('float32'); try { return f.toArray(); } finally { f.dispose(); } }
    const d = this.dataSync();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }
  item(): number { return native.item(this.handle); }

  // ---- autograd ----
  get requiresGrad(): boolean { return native.requiresGrad(this.handle); }
  set requiresGrad(on: boolean) { native.setRequiresGrad(this.handle, on); }
  requiresGrad_(on = true): this { native.setRequiresGrad(this.handle, on); return this; }
  /** The accumulated gradient (a new handle to it, owned by the caller/scope), or null. */
  get grad(): Tensor | null { return wrapMaybe(native.grad(this.handle)); }
  set grad(g: Tensor | null) {
    if (g !== null && (g.dtype !== this.dtype || g.shape.join() !== this.shape.join())) {
      throw new TypeError(`grad: assigned gradient ${g.dtype} [${g.shape.join(', ')}] must match the tensor's ${this.dtype} [${this.shape.join(', ')}]`);
    }
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  backward(gradient?: Tensor, o: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, o.retainGraph ?? false, o.createGraph ?? false);
  }
  detach(): Tensor { return un('detach', this); }

  // ---- elementwise arithmetic (broadcasting) ----
  add(o: TensorOrScalar, alpha: number = 1): Tensor { return bin('add', this, o, alpha); }
  sub(o: TensorOrScalar, alpha: number = 1): Tensor { return bin('sub', this, o, alpha); }
  mul(o: TensorOrScalar): Tensor { return bin('mul', this, o); }
  div(o: TensorOrScalar): Tensor { return bin('div', this, o); }
  pow(o: TensorOrScalar): Tensor {
    return o instanceof Tensor ? call1('pow', 'Tensor_Tensor', [this.handle, o.handle]) : call1('pow', 'Tensor_Scalar', [this.handle, o]);
  }
  remainder(o: TensorOrScalar): Tensor { return bin('remainder', this, o); }
  maximum(o: Tensor): Tensor { return call1('maximum', '', [this.handle, o.handle]); }
  minimum(o: Tensor): Tensor { return call1('minimum', '', [this.handle, o.handle]); }
  neg(): Tensor { return un('neg', this); }
  abs(): Tensor { return un('abs', this); }
  sign(): Tensor { return un('sign', this); }
  exp(): Tensor { return un('exp', this); }
  log(): Tensor { return un('log', this); }
  log2(): Tensor { return un('log2', this); }
  sqrt(): Tensor { return un('sqrt', this); }
  rsqrt(): Tensor { return un('rsqrt', this); }
  reciprocal(): Tensor { return un('reciprocal', this); }
  square(): Tensor { return un('square', this); }
  round(): Tensor { return un('round', this); }
  floor(): Tensor { return un('floor', this); }
  ceil(): Tensor { return un('ceil', this); }
  sigmoid(): Tensor { return un('sigmoid', this); }
  tanh(): Tensor { return un('tanh', this); }
  relu(): Tensor { return un('relu', this); }
  relu6(): Tensor { return call1('hardtanh', '', [this.handle, 0, 6]); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return call1('gelu', '', [this.handle, approximate]); }
  isnan(): Tensor { return un('isnan', this); }
  isfinite(): Tensor { return un('isfinite', this); }
  /** Clamp to [min, max]; either bound may be omitted, numbers or tensors (tensor bounds carry gradients). */
  clamp(min?: TensorOrScalar | null, max?: TensorOrScalar | null): Tensor {
    if (!(min instanceof Tensor) && !(max instanceof Tensor)) return call1('clamp', '', [this.handle, min ?? null, max ?? null]);
    const temps: Tensor[] = [];
    const bound = (v: TensorOrScalar | null | undefined): Handle | null => {
      if (v === null || v === undefined) return null;
      if (v instanceof Tensor) return v.handle;
      const t = call1('scalar_tensor', '', [v, dtypeCode(this.dtype)]);
      temps.push(t);
      return t.handle;
    };
    try { return call1('clamp', 'Tensor', [this.handle, bound(min), bound(max)]); } finally { for (const t of temps) t.dispose(); }
  }

  // ---- comparisons and logic (return bool tensors) ----
  eq(o: TensorOrScalar): Tensor { return bin('eq', this, o); }
  ne(o: TensorOrScalar): Tensor { return bin('ne', this, o); }
  lt(o: TensorOrScalar): Tensor { return bin('lt', this, o); }
  le(o: TensorOrScalar): Tensor { return bin('le', this, o); }
  gt(o: TensorOrScalar): Tensor { return bin('gt', this, o); }
  ge(o: TensorOrScalar): Tensor { return bin('ge', this, o); }
  logicalNot(): Tensor { return un('logical_not', this); }
  logicalAnd(o: Tensor): Tensor { return call1('logical_and', '', [this.handle, o.handle]); }
  logicalOr(o: Tensor): Tensor { return call1('logical_or', '', [this.handle, o.handle]); }
  /** this where cond is true, else `other`. */
  where(cond: Tensor, other: TensorOrScalar): Tensor {
    return other instanceof Tensor ? call1('where', 'self', [cond.handle, this.handle, other.handle]) : call1('where', 'ScalarOther', [cond.handle, this.handle, other]);
  }

  // ---- reductions ----
  sum(dim?: Dims, keepdim = false): Tensor {
    return dim === undefined ? call1('sum', '', [this.handle]) : call1('sum', 'dim_IntList', [this.handle, dimsArg(dim), keepdim]);
  }
  mean(dim?: Dims, keepdim = false): Tensor {
    return dim === undefined ? call1('mean', '', [this.handle]) : call1('mean', 'dim', [this.handle, dimsArg(dim), keepdim]);
  }
  /** Largest element overall. */
  max(): Tensor { return un('max', this); }
  min(): Tensor { return un('min', this); }
  /** Largest along a dim, with its index. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } { return pairResult(aten('max', 'dim').call([this.handle, dim, keepdim])); }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } { return pairResult(aten('min', 'dim').call([this.handle, dim, keepdim])); }
  /** [min, max] over all elements in one pass. */
  aminmax(): [Tensor, Tensor] { const [lo, hi] = listResult(aten('aminmax').call([this.handle])); return [lo!, hi!]; }
  /** Max / min over dims (no indices; gradient spread evenly over ties). */
  amax(dim: Dims, keepdim = false): Tensor { return call1('amax', '', [this.handle, dimsArg(dim), keepdim]); }
  amin(dim: Dims, keepdim = false): Tensor { return call1('amin', '', [this.handle, dimsArg(dim), keepdim]); }
  argmax(dim?: number, keepdim = false): Tensor { return call1('argmax', '', [this.handle, dim ?? null, keepdim]); }
  argmin(dim?: number, keepdim = false): Tensor { return call1('argmin', '', [this.handle, dim ?? null, keepdim]); }
  /** Standard deviation; `unbiased` as in PyTorch (Bessel's correction). */
  std(dim?: Dims, { unbiased = true, keepdim = false } = {}): Tensor {
    return call1('std', 'dim', [this.handle, dim === undefined ? null : dimsArg(dim), unbiased, keepdim]);
  }
  var(dim?: Dims, { unbiased = true, keepdim = false } = {}): Tensor {
    return call1('var', 'dim', [this.handle, dim === undefined ? null : dimsArg(dim), unbiased, keepdim]);
  }
  /** Vector p-norm (p = 1, 2, Infinity…) over dims, or over all elements. */
  norm(p: number = 2, dim?: Dims, keepdim = false): Tensor {
    return call1('linalg_vector_norm', '', [this.handle, p, dim === undefined ? null : dimsArg(dim), keepdim]);
  }
  all(): Tensor { return un('all', this); }
  any(): Tensor { return un('any', this); }
  cumsum(dim: number): Tensor { return call1('cumsum', '', [this.handle, dim]); }

  // ---- shape and layout ----
  reshape(shape: readonly number[]): Tensor { return call1('reshape', '', [this.handle, [...shape]]); }
  view(shape: readonly number[]): Tensor { return call1('view', '', [this.handle, [...shape]]); }
  flatten(startDim = 0, endDim = -1): Tensor { return call1('flatten', 'using_ints', [this.handle, startDim, endDim]); }
  permute(dims: readonly number[]): Tensor {
    const r = this.rank;
    const seen = new Set(dims.map((d) => (d < 0 ? d + r : d)));
    if (dims.length !== r || seen.size !== r || [...seen].some((d) => !Number.isInteger(d) || d < 0 || d >= r)) {
      throw new RangeError(`permute: dims [${dims.join(', ')}] are not a permutation of the ${r} dims of shape [${this.shape.join(', ')}]`);
    }
    return call1('permute', '', [this.handle, [...dims]]);
  }
  transpose(dim0: number, dim1: number): Tensor { return call1('transpose', 'int', [this.handle, dim0, dim1]); }
  /** Transpose of a matrix (rank 2). */
  get T(): Tensor { return this.transpose(0, 1); }
  squeeze(dim?: number): Tensor { return dim === undefined ? un('squeeze', this) : call1('squeeze', 'dim', [this.handle, dim]); }
  unsqueeze(dim: number): Tensor { return call1('unsqueeze', '', [this.handle, dim]); }
  /** Broadcast view to `shape` (-1 keeps a dim's size). */
  expand(shape: readonly number[]): Tensor {
    if (shape.some((d) => !Number.isInteger(d) || d < -1)) throw new RangeError(`expand: sizes [${shape.join(', ')}] must be non-negative integers or -1`);
    return call1('expand', '', [this.handle, [...shape]]);
  }
  expandAs(o: Tensor): Tensor { return this.expand(o.shape); }
  repeat(times: readonly number[]): Tensor { return call1('repeat', '', [this.handle, [...times]]); }
  /** Elements [start, start+length) along dim (a view). */
  narrow(dim: number, start: number, length: number): Tensor { return call1('narrow', '', [this.handle, dim, start, length]); }
  /** Python-style slice along dim (a view); end defaults to the dim's size. */
  slice(dim: number, start = 0, end?: number, step = 1): Tensor { return call1('slice', 'Tensor', [this.handle, dim, start, end ?? null, step]); }
  /** The index-th entry along dim (removes the dim; a view). */
  select(dim: number, index: number): Tensor { return call1('select', 'int', [this.handle, dim, index]); }
  chunk(chunks: number, dim = 0): Tensor[] { return listResult(aten('chunk').call([this.handle, chunks, dim])); }
  split(size: number, dim = 0): Tensor[] { return listResult(aten('split', 'Tensor').call([this.handle, size, dim])); }
  contiguous(format: keyof typeof MemoryFormat = 'contiguous'): Tensor { return call1('contiguous', '', [this.handle, MemoryFormat[format]]); }
  /** NHWC storage for rank-4 tensors: the faster layout for oneDNN convolutions. */
  toChannelsLast(): Tensor { return this.contiguous('channelsLast'); }
  clone(): Tensor { return call1('clone', '', [this.handle, null]); }
  to(dtype: DType): Tensor { return call1('to', 'dtype', [this.handle, dtypeCode(dtype), false, false, null]); }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }

  // ---- indexing ----
  gather(dim: number, index: Tensor): Tensor { return call1('gather', '', [this.handle, dim, index.handle, false]); }
  indexSelect(dim: number, index: Tensor): Tensor { return call1('index_select', '', [this.handle, dim, index.handle]); }
  /** `value` where the bool mask (broadcast to this shape) is true. */
  maskedFill(mask: Tensor, value: number): Tensor { boolMask(mask, 'maskedFill'); return call1('masked_fill', 'Scalar', [this.handle, mask.handle, value]); }
  /** The elements where the bool mask is true, as a 1-D tensor. */
  maskedSelect(mask: Tensor): Tensor { boolMask(mask, 'maskedSelect'); return call1('masked_select', '', [this.handle, mask.handle]); }
  /** Advanced indexing along the leading dims with index tensors (null skips a dim). */
  index(indices: (Tensor | null)[]): Tensor { return call1('index', 'Tensor', [this.handle, indices.map((t) => t?.handle ?? null)]); }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    return pairResult(aten('topk').call([this.handle, k, dim, largest, sorted]));
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    return pairResult(aten('sort').call([this.handle, dim, descending]));
  }

  // ---- linear algebra ----
  matmul(o: Tensor): Tensor { return call1('matmul', '', [this.handle, o.handle]); }
  bmm(o: Tensor): Tensor { return call1('bmm', '', [this.handle, o.handle]); }

  // ---- in-place updates (optimizers, initializers); they return this ----
  add_(o: TensorOrScalar, alpha: number = 1): this { bin('add_', this, o, alpha).dispose(); return this; }
  sub_(o: TensorOrScalar, alpha: number = 1): this { bin('sub_', this, o, alpha).dispose(); return this; }
  mul_(o: TensorOrScalar): this { bin('mul_', this, o).dispose(); return this; }
  div_(o: TensorOrScalar): this { bin('div_', this, o).dispose(); return this; }
  addcmul_(a: Tensor, b: Tensor, value = 1): this { inplace('addcmul_', [this.handle, a.handle, b.handle, value]); return this; }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this { inplace('addcdiv_', [this.handle, a.handle, b.handle, value]); return this; }
  lerp_(end: Tensor, weight: number): this { inplace('lerp_', [this.handle, end.handle, weight], 'Scalar'); return this; }
  copy_(src: Tensor): this { inplace('copy_', [this.handle, src.handle, false]); return this; }
  zero_(): this { inplace('zero_', [this.handle]); return this; }
  fill_(value: number): this { inplace('fill_', [this.handle, value], 'Scalar'); return this; }
  round_(): this { inplace('round_', [this.handle]); return this; }
  clamp_(min?: number | null, max?: number | null): this { inplace('clamp_', [this.handle, min ?? null, max ?? null]); return this; }
  uniform_(from = 0, to = 1): this { inplace('uniform_', [this.handle, from, to, null]); return this; }
  normal_(mean = 0, std = 1): this { inplace('normal_', [this.handle, mean, std, null]); return this; }
  sqrt_(): this { inplace('sqrt_', [this.handle]); return this; }
}

// ---- helpers shared by the methods and the functional ops ----

/** Wraps a single-tensor operator result. */
export function wrap(r: OpResult): Tensor {
  if (typeof r !== 'number') throw new Error('internal: operator did not return a tensor');
  return new Tensor(r as Handle);
}
export function wrapMaybe(r: OpResult): Tensor | null { return r === null ? null : wrap(r); }

export function call1(name: string, overload: string, args: OpArg[]): Tensor { return wrap(aten(name, overload).call(args)); }
function un(name: string, t: Tensor): Tensor { return wrap(aten(name).call([t.handle])); }
function inplace(name: string, args: OpArg[], overload = ''): void {
  const r = aten(name, overload).call(args);
  if (typeof r === 'number') native.dispose(r as Handle);
}
/** Binary op choosing the .Tensor or .Scalar overload; alpha only for add/sub. */
function bin(name: string, a: Tensor, b: TensorOrScalar, alpha?: number): Tensor {
  const args: OpArg[] = [a.handle, b instanceof Tensor ? b.handle : b];
  if (alpha !== undefined) args.push(alpha);
  return wrap(aten(name, b instanceof Tensor ? 'Tensor' : 'Scalar').call(args));
}
function boolMask(mask: Tensor, op: string): void {
  if (mask.dtype !== 'bool') throw new TypeError(`${op}: mask must be a bool tensor, got ${mask.dtype} (compare with .gt()/.eq() or use .to('bool'))`);
}
export function dimsArg(d: Dims): number[] { return typeof d === 'number' ? [d] : [...d]; }
export function pairResult(r: OpResult): { values: Tensor; indices: Tensor } {
  const [v, i] = r as OpResult[];
  return { values: wrap(v!), indices: wrap(i!) };
}
export function listResult(r: OpResult): Tensor[] { return (r as OpResult[]).map(wrap); }
