// Data types, with codes equal to c10::ScalarType so they pass through the binding unchanged.
export const DTYPE_CODES = {
  uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, bool: 11,
} as const;
export type DType = keyof typeof DTYPE_CODES;

const NAMES = new Map<number, DType>(Object.entries(DTYPE_CODES).map(([k, v]) => [v, k as DType]));

export function dtypeCode(d: DType): number {
  const code = DTYPE_CODES[d];
  if (code === undefined) throw new TypeError(`unknown dtype '${String(d)}'; expected one of ${Object.keys(DTYPE_CODES).join(', ')}`);
  return code;
}

export function dtypeName(code: number): DType {
  const name = NAMES.get(code);
  if (!name) throw new TypeError(`tensor has a dtype (ScalarType ${code}) catkit does not support`);
  return name;
}

export type TypedArrayFor<D extends DType> =
  D extends 'float32' ? Float32Array : D extends 'float64' ? Float64Array : D extends 'int64' ? BigInt64Array :
  D extends 'int32' ? Int32Array : D extends 'int16' ? Int16Array : D extends 'int8' ? Int8Array :
  D extends 'float16' ? Uint16Array : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

/** Views raw bytes as the typed array matching a dtype (float16 as raw Uint16 bits, bool as bytes). */
export function viewAs(d: DType, buf: ArrayBuffer): AnyTypedArray {
  switch (d) {
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'int64': return new BigInt64Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'float16': return new Uint16Array(buf);
    case 'uint8': case 'bool': return new Uint8Array(buf);
  }
}

/** The dtype a typed array holds by default. */
export function dtypeOfArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  throw new TypeError(`typed array ${a.constructor.name} has no matching dtype`);
}

export const isFloating = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16';
export const elementBytes = (d: DType): number =>
  ({ uint8: 1, int8: 1, bool: 1, int16: 2, float16: 2, int32: 4, float32: 4, int64: 8, float64: 8 })[d];
