// Engine-wide settings: threads, seeds, grad mode.
import os from 'node:os';
import { native } from './native.js';

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}
export const getNumThreads = (): number => native.getNumThreads();

/** Seeds libtorch's global generator (all random factories, dropout, initializers). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`manualSeed: expected a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

/** Runs fn without recording autograd history; restores the previous mode even if fn throws. */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try { return fn(); } finally { native.setGradEnabled(prev); }
}
export function enableGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(true);
  try { return fn(); } finally { native.setGradEnabled(prev); }
}
export const isGradEnabled = (): boolean => native.isGradEnabled();
export const libtorchVersion = (): string => native.version();

// Default: all cores (libtorch may start with fewer), overridable by CATKIT_THREADS. More threads
// than cores only adds contention (270× slower at 999 on 2 cores), so the variable is capped like --threads.
const cores = os.availableParallelism();
const envThreads = Number(process.env.CATKIT_THREADS);
if (Number.isInteger(envThreads) && envThreads > cores) {
  process.stderr.write(`catkit: warning: CATKIT_THREADS=${envThreads} is more than the ${cores} cores of this machine; using ${cores}\n`);
}
native.setNumThreads(Number.isInteger(envThreads) && envThreads > 0 ? Math.min(envThreads, cores) : cores);
