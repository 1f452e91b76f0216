// Scoped disposal (like tf.tidy): tensors created inside a scope are disposed when it ends,
// except those returned from it (which move to the parent scope) and those kept.
import { native } from './native.js';

export interface Disposable { dispose(): void; readonly isDisposed: boolean }
interface Trackable extends Disposable { scopeKept: boolean }

const scopes: Trackable[][] = [];

/** Called by every Tensor constructor. */
export function track(t: Trackable): void {
  const top = scopes[scopes.length - 1];
  if (top) top.push(t);
}

/** Excludes a tensor from disposal by any enclosing scope; the caller owns it. */
export function keep<T extends Disposable>(t: T): T {
  (t as unknown as Trackable).scopeKept = true;
  return t;
}

/**
 * Hands a kept tensor back to scoped disposal: the innermost open scope owns it from now on (with
 * no scope open, the caller does). For values produced in a nested scope on behalf of an outer one.
 */
export function release<T extends Disposable>(t: T): T {
  (t as unknown as Trackable).scopeKept = false;
  track(t as unknown as Trackable);
  return t;
}

function collect(value: unknown, out: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if ('scopeKept' in value && 'dispose' in value) { out.add(value); return; }
  if (Array.isArray(value)) { for (const v of value) collect(v, out, depth + 1); return; }
  if (value instanceof Map) { for (const v of value.values()) collect(v, out, depth + 1); return; }
  if (ArrayBuffer.isView(value)) return;
  for (const v of Object.values(value)) collect(v, out, depth + 1);
}

/** Runs fn in a scope; intermediates are disposed, tensors reachable from the result survive. */
export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  let result: T;
  let ok = false;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('tidy: the function returned a Promise; tidy only takes synchronous functions');
    ok = true;
  } finally {
    const created = scopes.pop()!;
    const survivors = new Set<unknown>();
    if (ok) collect(result!, survivors);
    const parent = scopes[scopes.length - 1];
    for (const t of created) {
      if (t.scopeKept) continue;
      if (survivors.has(t)) { if (parent) parent.push(t); continue; }
      if (!t.isDisposed) t.dispose();
    }
  }
  return result!;
}

/** Disposes every tensor found in a value (tensor, array, object of tensors). */
export function dispose(value: unknown): void {
  const found = new Set<unknown>();
  collect(value, found);
  for (const t of found) (t as Disposable).dispose();
}

/**
 * Live native tensor handles (the number a leak test watches) and the bytes of tensor storage they own
 * alone (views and shared storages are not counted twice).
 */
export function memory(): { numTensors: number; numBytes: number; scopeDepth: number } {
  return { numTensors: native.liveHandles(), numBytes: native.externalMemoryStats().ownedBytes, scopeDepth: scopes.length };
}
