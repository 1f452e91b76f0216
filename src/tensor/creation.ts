// Tensor factories: from JS data, constants, ranges and seeded random draws.
import { native } from './native.js';
import { Tensor, call1 } from './tensor.js';
import { type DType, dtypeCode, dtypeOfArray, isFloating } from './dtype.js';

export interface CreateOptions { dtype?: DType; requiresGrad?: boolean }

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

function checkShape(shape: readonly number[], where: string): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${where}: shape [${shape.join(', ')}] must hold non-negative integers`);
  }
  return [...shape];
}

/** Nested JS arrays of numbers (or booleans), as `tensor([[1, 2], [3, 4]])` takes them. */
export type NestedArray = number | boolean | readonly NestedArray[];
export type TensorData = number | boolean | ArrayBufferView | ArrayLike<number | boolean> | readonly NestedArray[];

const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  int64: [-9223372036854775808, 9223372036854775807],
};

/** Flattens nested arrays row-major and infers their shape; rejects ragged nesting. */
function flattenNested(data: readonly NestedArray[]): { values: unknown[]; shape: number[] } {
  const shape: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) shape.push(level.length);
  const values: unknown[] = [];
  const walk = (v: unknown, depth: number, at: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new RangeError(`tensor: ragged nested array: element [${at.join(', ')}] is an array, expected a number`);
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new RangeError(`tensor: ragged nested array: element [${at.join(', ')}] has length ${Array.isArray(v) ? v.length : 'none (not an array)'}, expected ${shape[depth]}`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, [...at, i]);
  };
  walk(data, 0, []);
  return { values, shape };
}

/** Converts plain JS values to the typed array of `dtype`, checking types, integrality and range. */
function fromPlain(values: ArrayLike<unknown>, dtype: DType): ArrayBufferView {
  const n = values.length;
  const num = (i: number): number => {
    const v = values[i];
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'bigint') return Number(v);
    throw new TypeError(`tensor: element ${i} is ${v === null ? 'null' : typeof v}, expected a number or boolean`);
  };
  const int = (i: number): number => {
    const v = num(i);
    const [lo, hi] = INT_RANGE[dtype]!;
    if (!Number.isFinite(v)) throw new RangeError(`tensor: element ${i} (${v}) cannot be stored as ${dtype}`);
    const t = Math.trunc(v);
    if (t < lo || t > hi) throw new RangeError(`tensor: element ${i} (${v}) is out of range for ${dtype} [${lo}, ${hi}]`);
    return t;
  };
  switch (dtype) {
    case 'float32': case 'float16': { const b = new Float32Array(n); for (let i = 0; i < n; i++) b[i] = num(i); return b; }
    case 'float64': { const b = new Float64Array(n); for (let i = 0; i < n; i++) b[i] = num(i); return b; }
    case 'bool': { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = num(i) ? 1 : 0; return b; }
    case 'uint8': { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = int(i); return b; }
    case 'int8': { const b = new Int8Array(n); for (let i = 0; i < n; i++) b[i] = int(i); return b; }
    case 'int16': { const b = new Int16Array(n); for (let i = 0; i < n; i++) b[i] = int(i); return b; }
    case 'int32': { const b = new Int32Array(n); for (let i = 0; i < n; i++) b[i] = int(i); return b; }
    case 'int64': {
      const b = new BigInt64Array(n);
      for (let i = 0; i < n; i++) { const v = values[i]; b[i] = typeof v === 'bigint' ? v : BigInt(int(i)); }
      return b;
    }
  }
}

/**
 * A tensor holding a copy of `data`: a number, a flat array (shape defaults to 1-D), nested arrays
 * (shape inferred) or a typed array. Plain arrays default to float32 (bool when all elements are booleans); typed arrays keep their own
 * dtype unless `dtype` is given, in which case values convert as `Tensor.to` does.
 */
export function tensor(data: TensorData, shape?: readonly number[], o: CreateOptions = {}): Tensor {
  if (typeof data === 'number' || typeof data === 'boolean') return tensor([data], shape ?? [], o);
  if (o.dtype !== undefined) dtypeCode(o.dtype); // rejects unknown names up front
  if (data instanceof DataView) throw new TypeError('tensor: DataView is not supported; pass a typed array');
  const isTyped = ArrayBuffer.isView(data);
  let values: ArrayLike<unknown> = data as ArrayLike<unknown>;
  let inferred: number[] = [values.length];
  if (!isTyped && Array.isArray(data) && data.some((v) => Array.isArray(v))) ({ values, shape: inferred } = flattenNested(data));
  const length = values.length;
  const dims = checkShape(shape ?? inferred, 'tensor');
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel !== length) throw new RangeError(`tensor: ${length} values given for shape [${dims.join(', ')}] (${numel} elements)`);
  if (isTyped) {
    const srcType = dtypeOfArray(data);
    const t = new Tensor(native.fromBuffer(data, dims, dtypeCode(srcType)));
    if (o.dtype === undefined || o.dtype === srcType) return finish(t, o);
    try { return finish(t.to(o.dtype), o); } finally { t.dispose(); }
  }
  const allBool = length > 0 && Array.prototype.every.call(values, (v: unknown) => typeof v === 'boolean');
  const dtype = o.dtype ?? (allBool ? 'bool' : 'float32');
  const carrier: DType = dtype === 'float16' ? 'float32' : dtype;
  const t = new Tensor(native.fromBuffer(fromPlain(values, dtype), dims, dtypeCode(carrier)));
  if (carrier === dtype) return finish(t, o);
  try { return finish(t.to(dtype), o); } finally { t.dispose(); }
}

/** A rank-0 tensor. */
export const scalar = (v: number | boolean, o: CreateOptions = {}): Tensor => tensor([v], [], o);

export function zeros(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(call1('zeros', '', [checkShape(shape, 'zeros'), dtypeCode(o.dtype ?? 'float32')]), o);
}
export function ones(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(call1('ones', '', [checkShape(shape, 'ones'), dtypeCode(o.dtype ?? 'float32')]), o);
}
export function full(shape: readonly number[], value: number, o: CreateOptions = {}): Tensor {
  return finish(call1('full', '', [checkShape(shape, 'full'), value, dtypeCode(o.dtype ?? 'float32')]), o);
}
export const zerosLike = (t: Tensor): Tensor => zeros(t.shape, { dtype: t.dtype });
export const onesLike = (t: Tensor): Tensor => ones(t.shape, { dtype: t.dtype });

/** [start, end) in steps; integer arguments give int64 like PyTorch unless dtype says otherwise. */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  if (step === 0) throw new RangeError('arange: step must be non-zero');
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = o.dtype ?? (allInt ? 'int64' : 'float32');
  return finish(call1('arange', 'start_step', [start, end, step, dtypeCode(dtype)]), o);
}

/** Uniform on [0, 1) from the global generator (seed it with manualSeed). */
export function rand(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(call1('rand', '', [checkShape(shape, 'rand'), dtypeCode(floatType(o.dtype, 'rand'))]), o);
}
/** Standard normal draws. */
export function randn(shape: readonly number[], o: CreateOptions = {}): Tensor {
  return finish(call1('randn', '', [checkShape(shape, 'randn'), dtypeCode(floatType(o.dtype, 'randn'))]), o);
}
/** Uniform on [from, to). */
export function uniform(shape: readonly number[], from: number, to: number, o: CreateOptions = {}): Tensor {
  return zeros(shape, { dtype: floatType(o.dtype, 'uniform') }).uniform_(from, to).requiresGrad_(o.requiresGrad ?? false);
}
/** Integers uniform on [low, high), int64 by default. */
export function randint(low: number, high: number, shape: readonly number[], o: CreateOptions = {}): Tensor {
  if (!(high > low)) throw new RangeError(`randint: high (${high}) must exceed low (${low})`);
  return call1('randint', 'low', [low, high, checkShape(shape, 'randint'), dtypeCode(o.dtype ?? 'int64')]);
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`randperm: n must be a non-negative integer, got ${n}`);
  return call1('randperm', '', [n, dtypeCode('int64')]);
}

function floatType(d: DType | undefined, where: string): DType {
  const dtype = d ?? 'float32';
  if (!isFloating(dtype)) throw new TypeError(`${where}: dtype must be floating point, got ${dtype}`);
  return dtype;
}

/** Concatenate along an existing dim. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('cat: needs at least one tensor');
  return call1('cat', '', [tensors.map((t) => t.handle), dim]);
}
/** Stack along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: needs at least one tensor');
  return call1('stack', '', [tensors.map((t) => t.handle), dim]);
}
/** Elementwise choice: a where cond else b. */
export function where(cond: Tensor, a: Tensor, b: Tensor | number): Tensor { return a.where(cond, b); }
