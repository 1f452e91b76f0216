// Loads the N-API addon (native/, built by `npm install`) and types its surface.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { TorchError } from './errors.js';

/** Reference to one native at::Tensor: an index into the addon's tensor table (with a generation). */
export type Handle = number & { readonly __brand: 'TensorHandle' };
/** Positional operator argument as the binding converts it by the operator's schema. */
export type OpArg = Handle | number | bigint | boolean | string | null | undefined | OpArg[];
export type OpResult = Handle | number | boolean | null | OpResult[];

export interface NativeBinding {
  resolveOp(name: string, overload: string): number;
  callOp(id: number, args: OpArg[]): OpResult;
  opSchema(id: number): string;
  dispose(h: Handle): void;
  isDisposed(h: Handle): boolean;
  liveHandles(): number;
  /** Tensor bytes the live handles own, the figure V8's GC was last given, and how many times it was given one. */
  externalMemoryStats(): { ownedBytes: number; reportedBytes: number; reports: number };
  fromBuffer(data: ArrayBufferView, shape: readonly number[], dtype: number): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  shape(h: Handle): number[];
  strides(h: Handle): number[];
  dtype(h: Handle): number;
  item(h: Handle): number;
  isContiguous(h: Handle, memoryFormat: number): boolean;
  requiresGrad(h: Handle): boolean;
  setRequiresGrad(h: Handle, on: boolean): void;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  backward(h: Handle, gradient: Handle | null, retainGraph: boolean, createGraph: boolean): void;
  sameStorage(a: Handle, b: Handle): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  version(): string;
  /** Integer-valued tensor → Uint8Array (wide: Uint16Array) in logical order (one converting, transposing pass). */
  codesToArray(h: Handle, wide: boolean): Uint8Array | Uint16Array;
  /** Histogram over the symbol type's range, then (zeroRuns) the 72 zero-run bucket counts. */
  codecStats(symbols: Uint8Array | Uint16Array, zeroRuns: boolean): Uint32Array;
  /** Encodes each job into a container (head from TypeScript), decodes it back and compares; sizes in bytes. */
  codecEncode(symbols: Uint8Array | Uint16Array, jobs: NativeCodingJob[], keepBytes: boolean): NativeCodingResult[];
  /** The same on the libuv thread pool (do not modify `symbols` until it settles). */
  codecEncodeAsync(symbols: Uint8Array | Uint16Array, jobs: NativeCodingJob[]): Promise<NativeCodingResult[]>;
}

/** One stream for the native coders: the container's bytes before the payload and a flat table descriptor. */
export interface NativeCodingJob { prefix: Uint8Array; table: Uint32Array }
export interface NativeCodingResult { payload: number; container: number; bytes?: Uint8Array }

function findAddon(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  // Walk up from dist/src/tensor (or src/tensor) to the package root holding build/.
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'build', 'Release', 'catkit_native.node');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('catkit: native addon build/Release/catkit_native.node not found; run `npm install` (needs libtorch-dev, see README)');
}

const addon = createRequire(import.meta.url)(findAddon()) as NativeBinding;

/** Operator names by dispatcher id, so a failed callOp names its operator. */
const opNames: string[] = [];

/**
 * libtorch's exceptions reach JavaScript as plain Errors: those become TorchErrors. TypeError and
 * RangeError come from the binding's argument checks (a caller's bug) and pass through unchanged.
 */
function rethrow(op: string, e: unknown): never {
  if (e instanceof Error && e.constructor === Error) throw new TorchError(op, e.message, { cause: e });
  throw e;
}

/** The addon with every function wrapped so that native failures are typed (TorchError). */
function typed(raw: NativeBinding): NativeBinding {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(raw)) {
    if (typeof f !== 'function') { out[name] = f; continue; }
    out[name] = (...args: unknown[]): unknown => {
      try { return (f as (...a: unknown[]) => unknown).apply(raw, args); } catch (e) { rethrow(name, e); }
    };
  }
  // The hot path gets its own wrapper (no rest arguments) that names the operator.
  out.callOp = (id: number, args: OpArg[]): OpResult => {
    try { return raw.callOp(id, args); } catch (e) { rethrow(opNames[id] ?? 'callOp', e); }
  };
  out.resolveOp = (name: string, overload: string): number => {
    let id: number;
    try { id = raw.resolveOp(name, overload); } catch (e) { rethrow(`${name}${overload ? `.${overload}` : ''}`, e); }
    opNames[id] = `${name}${overload ? `.${overload}` : ''}`;
    return id;
  };
  return out as unknown as NativeBinding;
}

export const native: NativeBinding = typed(addon);
