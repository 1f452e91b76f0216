// Shared test helpers: seeded randomness, independent reference computations, error assertions.
import assert from 'node:assert/strict';
import { CodecError, type CodecErrorCode } from '../../src/codec/errors.js';
import type { SymbolArray } from '../../src/codec/entropy.js';
import { geometricSymbols, mulberry32, uniformSymbols } from '../../src/codec/synthetic.js';

export { mulberry32 };

export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/**
 * Reference optimal Huffman code by the textbook method: repeatedly merge the two lightest (O(n²)).
 * Returns the cost Σ count·length (= sum of all merged weights) and the height of the tree it built.
 */
export function referenceHuffman(counts: ArrayLike<number>): { cost: number; height: number } {
  const w: { w: number; h: number }[] = [];
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) w.push({ w: counts[s], h: 0 });
  if (w.length < 2) return { cost: 0, height: 0 };
  let cost = 0;
  const takeLightest = () => {
    let a = 0;
    for (let i = 1; i < w.length; i++) if (w[i].w < w[a].w || (w[i].w === w[a].w && w[i].h < w[a].h)) a = i;
    return w.splice(a, 1)[0];
  };
  while (w.length > 1) {
    const a = takeLightest(), b = takeLightest();
    cost += a.w + b.w;
    w.push({ w: a.w + b.w, h: Math.max(a.h, b.h) + 1 });
  }
  return { cost, height: w[0].h };
}

export function referenceHuffmanCost(counts: ArrayLike<number>): number {
  return referenceHuffman(counts).cost;
}

/** Kraft sum Σ 2^−len over codable symbols, exact as a fraction of 2^32. */
export function kraftSum(lengths: ArrayLike<number>): number {
  let k = 0;
  for (let s = 0; s < lengths.length; s++) if (lengths[s] > 0) k += 2 ** (32 - lengths[s]);
  return k / 2 ** 32;
}

export function cost(counts: ArrayLike<number>, lengths: ArrayLike<number>): number {
  let c = 0;
  for (let s = 0; s < counts.length; s++) c += counts[s] * lengths[s];
  return c;
}

export function assertSameSymbols(actual: SymbolArray, expected: SymbolArray, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: symbol ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Runs `fn`, requiring a CodecError (with `code`, if given); returns it. */
export function assertCodecError(fn: () => unknown, code?: CodecErrorCode, message?: RegExp): CodecError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CodecError, `expected CodecError, got ${(e as Error)?.stack ?? e}`);
    if (code) assert.equal(e.code, code, `error code (message: ${e.message})`);
    if (message) assert.match(e.message, message);
    return e;
  }
  return assert.fail(`expected CodecError${code ? ` '${code}'` : ''}, but nothing was thrown`);
}

export interface Distribution { name: string; alphabetSize: number; make: (n: number, rand: () => number) => SymbolArray }

/** The distributions the issue lists for property tests. */
export function distributions(): Distribution[] {
  const fib = fibonacciWeights(24);
  const fibTotal = fib.reduce((a, b) => a + b, 0);
  return [
    { name: 'single repeated symbol', alphabetSize: 32, make: (n) => new Uint8Array(n).fill(7) },
    { name: 'two symbols', alphabetSize: 2, make: (n, r) => Uint8Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0)) },
    { name: 'uniform 8-bit', alphabetSize: 256, make: (n, r) => uniformSymbols(n, 256, r) },
    { name: 'uniform 2^16', alphabetSize: 65536, make: (n, r) => uniformSymbols(n, 65536, r) },
    ...[0.5, 0.8, 0.95, 0.999].map((p0) => ({
      name: `geometric p0=${p0}`, alphabetSize: 32, make: (n: number, r: () => number) => geometricSymbols(n, p0, 5, r),
    })),
    { name: 'geometric 12-bit p0=0.3', alphabetSize: 4096, make: (n, r) => geometricSymbols(n, 0.3, 12, r) },
    {
      // Fibonacci-like frequencies force the deepest possible Huffman tree (length-limited in practice).
      name: 'Fibonacci frequencies', alphabetSize: 24, make: (n, r) => Uint8Array.from({ length: n }, () => {
        let u = r() * fibTotal, s = 0;
        while (s < fib.length - 1 && u >= fib[s]) u -= fib[s++];
        return s;
      }),
    },
    {
      name: 'random table (sparse 16-bit)', alphabetSize: 65536, make: (n, r) => {
        const k = randInt(r, 2, 50);
        const syms = Array.from({ length: k }, () => randInt(r, 0, 65535));
        const w = syms.map(() => r() ** 3);
        const tot = w.reduce((a, b) => a + b, 0);
        return Uint16Array.from({ length: n }, () => {
          let u = r() * tot, j = 0;
          while (j < k - 1 && u >= w[j]) u -= w[j++];
          return syms[j];
        });
      },
    },
  ];
}

export function fibonacciWeights(n: number): number[] {
  const f = [1, 1];
  while (f.length < n) f.push(f[f.length - 1] + f[f.length - 2]);
  return f.slice(0, n);
}
