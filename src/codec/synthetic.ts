// Deterministic synthetic sources for tests and benchmarks: a seeded PRNG and CAT-like symbol streams.

/** mulberry32: tiny, fast, seedable; good enough for test data (not for cryptography). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One-sided geometric symbols, P(k) = p0·(1 − p0)^k, clamped to 2^bits − 1: the shape of a quantized
 * post-ReLU feature map (p0 = probability of zero). Entropy (unclamped) is h(p0)/p0 bits.
 */
export function geometricSymbols(n: number, p0: number, bits: number, rand: () => number): Uint8Array | Uint16Array {
  if (!(p0 > 0 && p0 <= 1)) throw new RangeError(`geometricSymbols: p0 must be in (0, 1], got ${p0}`);
  const top = 2 ** bits - 1;
  const out = bits <= 8 ? new Uint8Array(n) : new Uint16Array(n);
  if (p0 === 1) return out;
  const logQ = Math.log(1 - p0);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(Math.log(1 - rand()) / logQ);
    out[i] = k > top ? top : k;
  }
  return out;
}

/** Uniform symbols over 0…alphabetSize − 1. */
export function uniformSymbols(n: number, alphabetSize: number, rand: () => number): Uint8Array | Uint16Array {
  const out = alphabetSize <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * alphabetSize);
  return out;
}

/** Exact entropy in bits of the clamped geometric distribution used by geometricSymbols. */
export function geometricEntropy(p0: number, bits: number): number {
  const top = 2 ** bits - 1;
  let h = 0, tail = 1;
  for (let k = 0; k < top; k++) {
    const p = p0 * (1 - p0) ** k;
    if (p > 0) h -= p * Math.log2(p);
    tail -= p;
  }
  if (tail > 0) h -= tail * Math.log2(tail);
  return h;
}
