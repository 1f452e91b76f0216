// Order-0 statistics of symbol streams: histogram, Shannon entropy, cross-entropy under a model, code cost.
import { fail } from './errors.js';

export type SymbolArray = Uint8Array | Uint16Array;

/** Largest alphabet any catkit codec accepts (16-bit symbols). */
export const MAX_ALPHABET = 1 << 16;

export function checkAlphabetSize(alphabetSize: number, where: string): void {
  if (!Number.isInteger(alphabetSize) || alphabetSize < 1 || alphabetSize > MAX_ALPHABET) {
    fail('alphabet_invalid', `${where}: alphabet size must be an integer in 1…${MAX_ALPHABET}, got ${alphabetSize}`);
  }
}

/**
 * Counts of each symbol in `symbols` (length `alphabetSize`, default: the array type's full range).
 * Throws `symbol_outOfRange` if a symbol is ≥ alphabetSize, naming the first offender.
 */
export function histogram(symbols: SymbolArray, alphabetSize = symbols instanceof Uint8Array ? 256 : MAX_ALPHABET): Uint32Array {
  checkAlphabetSize(alphabetSize, 'histogram');
  // Symbols are counted into the full type range first (no bounds branch in the loop); four interleaved
  // tables avoid the store-to-load stall when the same symbol repeats (zstd's HIST_count trick), and bytes
  // are loaded four at a time from aligned words (byte order inside a word does not matter for counting).
  const range = symbols instanceof Uint8Array ? 256 : MAX_ALPHABET;
  const n = symbols.length;
  let counts: Uint32Array;
  if (symbols instanceof Uint8Array && n >= 4096) {
    const t = new Uint32Array(1024);
    let i = 0;
    for (; ((symbols.byteOffset + i) & 3) !== 0; i++) t[symbols[i]]++;
    const words = new Uint32Array(symbols.buffer, symbols.byteOffset + i, (n - i) >>> 2);
    for (let j = 0; j < words.length; j++) {
      const w = words[j];
      t[w & 0xff]++; t[256 + ((w >>> 8) & 0xff)]++; t[512 + ((w >>> 16) & 0xff)]++; t[768 + (w >>> 24)]++;
    }
    for (i += 4 * words.length; i < n; i++) t[symbols[i]]++;
    counts = new Uint32Array(256);
    for (let s = 0; s < 256; s++) counts[s] = t[s] + t[256 + s] + t[512 + s] + t[768 + s];
  } else {
    counts = new Uint32Array(range);
    for (let i = 0; i < n; i++) counts[symbols[i]]++;
  }
  for (let s = alphabetSize; s < range; s++) {
    if (counts[s] !== 0) {
      const at = symbols.indexOf(s);
      fail('symbol_outOfRange', `histogram: symbol ${s} at index ${at} is outside the alphabet 0…${alphabetSize - 1}`);
    }
  }
  return alphabetSize === range ? counts : counts.slice(0, alphabetSize);
}

function total(counts: ArrayLike<number>): number {
  let n = 0;
  for (let s = 0; s < counts.length; s++) n += counts[s];
  return n;
}

/** Shannon entropy of the empirical distribution, in bits per symbol (0 for empty or constant data). */
export function shannonEntropy(counts: ArrayLike<number>): number {
  const n = total(counts);
  if (n === 0) return 0;
  let h = 0;
  for (let s = 0; s < counts.length; s++) {
    const c = counts[s];
    if (c > 0) h -= c * Math.log2(c / n);
  }
  return Math.max(0, h / n);
}

/**
 * Cross-entropy in bits per symbol of data with histogram `counts` under a model with (unnormalised)
 * weights `model` — what an ideal coder using that model would spend. Infinity if data uses a symbol the
 * model gives zero weight.
 */
export function crossEntropy(counts: ArrayLike<number>, model: ArrayLike<number>): number {
  const n = total(counts);
  if (n === 0) return 0;
  const z = total(model);
  let bits = 0;
  for (let s = 0; s < counts.length; s++) {
    const c = counts[s];
    if (c === 0) continue;
    const q = s < model.length ? model[s] : 0;
    if (!(q > 0)) return Infinity;
    bits -= c * Math.log2(q / z);
  }
  return bits / n;
}

/** Total bits to code data with histogram `counts` using per-symbol code lengths `lengths`. */
export function codeLengthCost(counts: ArrayLike<number>, lengths: ArrayLike<number>): number {
  let bits = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) bits += counts[s] * lengths[s];
  return bits;
}
