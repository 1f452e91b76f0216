// rANS with a 32-bit state, byte-wise renormalisation and 4 interleaved states sharing one byte stream
// (ryg_rans's rans_byte design: state in [2^23, 2^31), so every value is a non-negative int32).
// Frequencies are quantized to sum to 2^scaleBits with the optimal integer allocation for the histogram.
import { BitReader, BitWriter, LITTLE_ENDIAN } from './bitio.js';
import { fail } from './errors.js';
import { checkAlphabetSize, histogram, type SymbolArray } from './entropy.js';
import { allocSymbols, checkCodable } from './huffman.js';

export const RANS_L = 1 << 23;           // lower bound of the normalised state interval [L, 256·L)
export const RANS_STATES = 4;            // interleaved states: independent dependency chains in the decoder
export const MAX_SCALE_BITS = 16;        // 2^16 slots: room for every symbol of a 16-bit alphabet
/** Auto resolution stops here unless more symbols are present: with L = 2^23 the state approximation costs more at 2^16. */
const AUTO_MAX_SCALE_BITS = 15;
export const MIN_SCALE_BITS = 1;

export interface RansTable {
  readonly kind: 'rans';
  readonly alphabetSize: number;
  readonly scaleBits: number;
  /** Quantized frequency per symbol; the frequencies sum to 2^scaleBits; 0 = symbol not codable. */
  readonly freq: Uint32Array;
  /** Cumulative frequency (start of the symbol's slot range). */
  readonly cum: Uint32Array;
}

// ---------------------------------------------------------------------------------------------------------
// Frequency quantization

/** Binary max-heap of symbol indices keyed by a score array (used for the greedy unit moves below). */
class ScoreHeap {
  private readonly heap: Int32Array;
  private size = 0;
  constructor(capacity: number, private readonly score: Float64Array) { this.heap = new Int32Array(capacity); }
  get length(): number { return this.size; }
  push(s: number): void {
    const h = this.heap, sc = this.score;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (sc[h[p]] >= sc[s]) break;
      h[i] = h[p]; i = p;
    }
    h[i] = s;
  }
  pop(): number {
    const h = this.heap, sc = this.score, top = h[0], last = h[--this.size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && sc[h[c + 1]] > sc[h[c]]) c++;
      if (sc[h[c]] <= sc[last]) break;
      h[i] = h[c]; i = c;
    }
    h[i] = last;
    return top;
  }
}

/**
 * Integer frequencies summing exactly to 2^scaleBits that minimise the coded size Σ c_s·log2(2^scaleBits/f_s),
 * with f_s ≥ 1 for every present symbol and 0 for absent ones. Every present symbol starts at 1 and each
 * remaining unit goes to the symbol it saves most bits for (c_s·log2((f_s+1)/f_s)); the cost is separable
 * and convex, so this greedy allocation is optimal.
 */
export function quantizeFrequencies(counts: ArrayLike<number>, scaleBits: number): Uint32Array {
  if (!Number.isInteger(scaleBits) || scaleBits < MIN_SCALE_BITS || scaleBits > MAX_SCALE_BITS) {
    fail('parameter_invalid', `quantizeFrequencies: scaleBits must be an integer in ${MIN_SCALE_BITS}…${MAX_SCALE_BITS}, got ${scaleBits}`);
  }
  const n = counts.length, M = 1 << scaleBits;
  const freq = new Uint32Array(n);
  let present = 0;
  for (let s = 0; s < n; s++) if (counts[s] > 0) { freq[s] = 1; present++; }
  if (present === 0) return freq;
  if (present > M) fail('parameter_invalid', `quantizeFrequencies: ${present} present symbols do not fit in 2^${scaleBits} slots`);
  const gain = new Float64Array(n);
  const heap = new ScoreHeap(present, gain);
  for (let s = 0; s < n; s++) if (freq[s] > 0) { gain[s] = counts[s]; heap.push(s); }  // c·log2(2/1)
  for (let left = M - present; left > 0; left--) {
    const s = heap.pop();
    const f = ++freq[s];
    gain[s] = counts[s] * Math.log2((f + 1) / f);
    heap.push(s);
  }
  return freq;
}

function cumulative(freq: Uint32Array): Uint32Array {
  const cum = new Uint32Array(freq.length);
  for (let s = 1; s < freq.length; s++) cum[s] = cum[s - 1] + freq[s - 1];
  return cum;
}

/** Validates frequencies (sum exactly 2^scaleBits) and builds the table. */
export function ransTableFromFrequencies(freq: Uint32Array, scaleBits: number): RansTable {
  checkAlphabetSize(freq.length, 'ransTableFromFrequencies');
  if (!Number.isInteger(scaleBits) || scaleBits < MIN_SCALE_BITS || scaleBits > MAX_SCALE_BITS) {
    fail('table_invalid', `rANS table: scaleBits ${scaleBits} outside ${MIN_SCALE_BITS}…${MAX_SCALE_BITS}`);
  }
  let sum = 0;
  for (let s = 0; s < freq.length; s++) {
    // A decode entry packs the frequency into 16 bits: only a one-symbol table at 2^16 would need 17.
    if (freq[s] > 0xffff) fail('table_invalid', `rANS table: frequency ${freq[s]} of symbol ${s} needs more than 16 bits (one-symbol tables need scaleBits ≤ 15)`);
    sum += freq[s];
  }
  if (sum !== 0 && sum !== 1 << scaleBits) fail('table_invalid', `rANS table: frequencies sum to ${sum}, must be 2^${scaleBits}`);
  return { kind: 'rans', alphabetSize: freq.length, scaleBits, freq, cum: cumulative(freq) };
}

export interface RansFitOptions {
  /** Probability resolution 2^scaleBits, or 'auto' (default): the smallest total of payload and table. */
  scaleBits?: number | 'auto';
}

function payloadBitsFor(counts: ArrayLike<number>, freq: Uint32Array, scaleBits: number): number {
  let bits = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) bits += counts[s] * (scaleBits - Math.log2(freq[s]));
  return bits;
}

/** The rANS table for a histogram whose length is the alphabet size. */
export function fitRansTable(counts: ArrayLike<number>, options: RansFitOptions = {}): RansTable {
  checkAlphabetSize(counts.length, 'fitRansTable');
  const choice = options.scaleBits ?? 'auto';
  if (choice !== 'auto') return ransTableFromFrequencies(quantizeFrequencies(counts, choice), choice);
  let present = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) present++;
  if (present <= 1) return ransTableFromFrequencies(quantizeFrequencies(counts, MIN_SCALE_BITS), MIN_SCALE_BITS);
  // Finer resolution costs table bits and buys payload bits; try every feasible resolution from the
  // largest down and stop once the total starts rising again (the trade-off is unimodal in practice).
  let best: RansTable | null = null, bestBits = Infinity;
  const minBits = Math.max(MIN_SCALE_BITS, 32 - Math.clz32(present - 1));
  for (let sb = Math.max(AUTO_MAX_SCALE_BITS, minBits); sb >= minBits; sb--) {
    const t = ransTableFromFrequencies(quantizeFrequencies(counts, sb), sb);
    const bits = payloadBitsFor(counts, t.freq, sb) + 8 * writeRansTable(t).length;
    if (bits < bestBits) { best = t; bestBits = bits; } else if (bits > bestBits * 1.0001) break;
  }
  if (!best) return fail('parameter_invalid', `fitRansTable: ${present} present symbols exceed 2^${MAX_SCALE_BITS} slots`);
  return best;
}

// Serialized form (bits, LSB-first): 4 bits scaleBits − 1; Exp-Golomb(n) with n = last present symbol + 1;
// then each frequency of symbols 0…n−2 in exactly as many bits as the still-unassigned total needs
// (zstd's NCount idea: fields shrink as the budget is spent); the last one is implied by the sum. A zero
// is followed by Exp-Golomb(extra zeros) so absent ranges of 16-bit alphabets stay cheap.
export function writeRansTable(t: RansTable): Uint8Array {
  const bw = new BitWriter(32);
  bw.write(t.scaleBits - 1, 4);
  let n = t.freq.length;
  while (n > 0 && t.freq[n - 1] === 0) n--;
  bw.writeExpGolomb(n);
  let remaining = 1 << t.scaleBits;
  for (let s = 0; s < n - 1; s++) {
    const f = t.freq[s];
    bw.write(f, 32 - Math.clz32(remaining));
    remaining -= f;
    if (f === 0) {
      let run = 0;
      while (s + 1 + run < n - 1 && t.freq[s + 1 + run] === 0) run++;
      bw.writeExpGolomb(run);
      s += run;
    }
  }
  return bw.finish();
}

export function readRansTable(src: Uint8Array, alphabetSize: number, start = 0, end = src.length): { table: RansTable; bytes: number } {
  checkAlphabetSize(alphabetSize, 'readRansTable');
  const br = new BitReader(src, start, end, 'rANS table');
  const scaleBits = br.read(4) + 1;
  if (scaleBits > MAX_SCALE_BITS) fail('table_invalid', `rANS table: scaleBits ${scaleBits} > ${MAX_SCALE_BITS}`, start);
  const n = br.readExpGolomb();
  if (n > alphabetSize) fail('table_invalid', `rANS table: ${n} frequencies for an alphabet of ${alphabetSize}`, start);
  const freq = new Uint32Array(alphabetSize);
  let remaining = 1 << scaleBits;
  for (let s = 0; s < n - 1; s++) {
    const f = br.read(32 - Math.clz32(remaining));
    if (f > remaining) fail('table_invalid', `rANS table: frequency ${f} of symbol ${s} exceeds the ${remaining} left of 2^${scaleBits}`, start);
    freq[s] = f;
    remaining -= f;
    if (f === 0) {
      const run = br.readExpGolomb();
      if (run >= n - 1 - s) fail('table_invalid', `rANS table: run of ${run + 1} zero frequencies passes the declared ${n}`, start);
      s += run;
    }
  }
  if (n > 0) {
    if (remaining === 0) fail('table_invalid', `rANS table: last symbol ${n - 1} is declared present but gets frequency 0`, start);
    freq[n - 1] = remaining;
  }
  const bytes = br.alignToByte();
  return { table: ransTableFromFrequencies(freq, scaleBits), bytes };
}

// ---------------------------------------------------------------------------------------------------------
// Coding

/** Doubles a backward-written buffer, keeping its written tail [p, end) at the end. */
function growFront(buf: Uint8Array, p: number): { buf: Uint8Array; p: number } {
  const bigger = new Uint8Array(buf.length * 2);
  bigger.set(buf, buf.length);
  return { buf: bigger, p: p + buf.length };
}

/**
 * Codes `symbols` (reverse order, states i mod 4, bytes written backward) into: the 4 final states
 * (little-endian u32 each), then the renormalisation bytes in the order the decoder reads them.
 */
export function ransEncode(symbols: SymbolArray, t: RansTable, counts: ArrayLike<number> = histogram(symbols, t.alphabetSize)): Uint8Array {
  if (counts.length !== t.alphabetSize) fail('parameter_invalid', `ransEncode: histogram has ${counts.length} bins, table alphabet ${t.alphabetSize}`);
  checkCodable(counts, (s) => t.freq[s] !== 0, 'ransEncode');
  const S = t.scaleBits, freq = t.freq, cum = t.cum, n = symbols.length;
  // Exact-enough capacity: ideal bits plus per-symbol slack for the state approximation, plus the states.
  let ideal = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) ideal += counts[s] * (S - Math.log2(freq[s]));
  let buf: Uint8Array = new Uint8Array(Math.ceil(ideal / 8 + n / 64) + 4 * RANS_STATES + 16);
  let p = buf.length;
  // A state x must satisfy x < freq·2^(31−S) before coding a symbol, else low bytes go out first (at most
  // two: x < 2^31). The count k is computed without branches and both candidate bytes are stored below p
  // every time; bytes beyond k are overwritten later, which is safe because p ≥ 2 is kept.
  const shift = 31 - S;
  const states = new Int32Array(RANS_STATES).fill(RANS_L);
  let i = n - 1;
  for (; i >= 0 && (i & 3) !== 3; i--) {  // the symbols after the last full group of 4 go first
    if (p < 2) { const g = growFront(buf, p); buf = g.buf; p = g.p; }
    const s = symbols[i], f = freq[s];
    let x = states[i & 3];
    const k = +((x >>> shift) >= f) + +(((x >>> shift) >>> 8) >= f);
    buf[p - 1] = x; buf[p - 2] = x >>> 8; p -= k; x >>>= 8 * k;
    const q = (x / f) | 0;  // exact: x < 2^31 and f ≤ 2^16, so the double quotient never rounds across an integer
    states[i & 3] = (q << S) + (x - q * f) + cum[s];
  }
  let x0 = states[0], x1 = states[1], x2 = states[2], x3 = states[3];
  for (; i >= 3; i -= 4) {
    if (p < 8) { const g = growFront(buf, p); buf = g.buf; p = g.p; }
    let s = symbols[i], f = freq[s], k = +((x3 >>> shift) >= f) + +(((x3 >>> shift) >>> 8) >= f), q = 0;
    buf[p - 1] = x3; buf[p - 2] = x3 >>> 8; p -= k; x3 >>>= 8 * k;
    q = (x3 / f) | 0; x3 = (q << S) + (x3 - q * f) + cum[s];
    s = symbols[i - 1]; f = freq[s]; k = +((x2 >>> shift) >= f) + +(((x2 >>> shift) >>> 8) >= f);
    buf[p - 1] = x2; buf[p - 2] = x2 >>> 8; p -= k; x2 >>>= 8 * k;
    q = (x2 / f) | 0; x2 = (q << S) + (x2 - q * f) + cum[s];
    s = symbols[i - 2]; f = freq[s]; k = +((x1 >>> shift) >= f) + +(((x1 >>> shift) >>> 8) >= f);
    buf[p - 1] = x1; buf[p - 2] = x1 >>> 8; p -= k; x1 >>>= 8 * k;
    q = (x1 / f) | 0; x1 = (q << S) + (x1 - q * f) + cum[s];
    s = symbols[i - 3]; f = freq[s]; k = +((x0 >>> shift) >= f) + +(((x0 >>> shift) >>> 8) >= f);
    buf[p - 1] = x0; buf[p - 2] = x0 >>> 8; p -= k; x0 >>>= 8 * k;
    q = (x0 / f) | 0; x0 = (q << S) + (x0 - q * f) + cum[s];
  }
  states[0] = x0; states[1] = x1; states[2] = x2; states[3] = x3;
  const out = new Uint8Array(4 * RANS_STATES + (buf.length - p));
  for (let k = 0; k < RANS_STATES; k++) {
    const v = states[k];
    out[4 * k] = v; out[4 * k + 1] = v >>> 8; out[4 * k + 2] = v >>> 16; out[4 * k + 3] = v >>> 24;
  }
  out.set(buf.subarray(p), 4 * RANS_STATES);
  return out;
}

interface RansDecodeTable { readonly slotSymbol: SymbolArray; readonly slotEntry: Uint32Array }  // entry = freq | (slot − cum) << 16
const decodeTables = new WeakMap<RansTable, RansDecodeTable>();

function decodeTableFor(t: RansTable): RansDecodeTable {
  let dt = decodeTables.get(t);
  if (dt) return dt;
  const M = 1 << t.scaleBits;
  const slotSymbol = allocSymbols(t.alphabetSize, M), slotEntry = new Uint32Array(M);
  for (let s = 0; s < t.alphabetSize; s++) {
    const f = t.freq[s], c = t.cum[s];
    for (let k = 0; k < f; k++) { slotSymbol[c + k] = s; slotEntry[c + k] = f | (k << 16); }
  }
  dt = { slotSymbol, slotEntry };
  decodeTables.set(t, dt);
  return dt;
}

/**
 * Decodes exactly `count` symbols from `src[start, end)`. Each state must start inside [L, 2^31), and the
 * stream must end exactly when every state is back at L — the encoder's initial state — so truncation,
 * extension and most corruption are detected.
 */
export function ransDecode(src: Uint8Array, count: number, t: RansTable, start = 0, end = src.length): SymbolArray {
  if (end - start < 4 * RANS_STATES) fail('srcSize_wrong', `rANS: ${end - start} bytes, shorter than the ${4 * RANS_STATES}-byte initial states`, start);
  let present = 0;
  for (let s = 0; s < t.alphabetSize && present === 0; s++) if (t.freq[s] !== 0) present++;
  if (present === 0 && count > 0) fail('corruption_detected', `rANS: ${count} symbols declared but the table codes none`, start);
  const states = new Int32Array(RANS_STATES);
  for (let k = 0; k < RANS_STATES; k++) {
    const o = start + 4 * k;
    const v = (src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24)) >>> 0;
    if (v < RANS_L || v >= 0x80000000) fail('corruption_detected', `rANS: initial state ${k} = ${v} outside [2^23, 2^31)`, o);
    states[k] = v;
  }
  const out = allocSymbols(t.alphabetSize, count);
  const S = t.scaleBits, mask = (1 << S) - 1;
  const { slotSymbol, slotEntry } = decodeTableFor(t);
  let x0 = states[0], x1 = states[1], x2 = states[2], x3 = states[3];
  let p = start + 4 * RANS_STATES, i = 0;
  // Each step reads at most 2 bytes (x ≥ 2^(23−S) ≥ 2^7 after a step), so 8 bytes of headroom cover one
  // round of the 4 states without per-byte checks. The four table lookups are issued together before any
  // state update, byte outputs are stored as one word, and refills branch (measured faster than
  // branch-free refills, even near 2 bits/symbol).
  const fastEnd = end - 8;
  if (LITTLE_ENDIAN && out instanceof Uint8Array) {
    // Same step as below, with the four byte symbols stored as one word (a separate loop: a per-round
    // test of the output type measured slower).
    const words = new Uint32Array(out.buffer, out.byteOffset, count >>> 2);  // a fresh array: offset 0
    for (const stop = count - 3; i < stop && p <= fastEnd; i += 4) {
      const s0 = x0 & mask, s1 = x1 & mask, s2 = x2 & mask, s3 = x3 & mask;
      const e0 = slotEntry[s0], e1 = slotEntry[s1], e2 = slotEntry[s2], e3 = slotEntry[s3];
      words[i >>> 2] = slotSymbol[s0] | (slotSymbol[s1] << 8) | (slotSymbol[s2] << 16) | (slotSymbol[s3] << 24);
      x0 = Math.imul(e0 & 0xffff, x0 >>> S) + (e0 >>> 16);
      x1 = Math.imul(e1 & 0xffff, x1 >>> S) + (e1 >>> 16);
      x2 = Math.imul(e2 & 0xffff, x2 >>> S) + (e2 >>> 16);
      x3 = Math.imul(e3 & 0xffff, x3 >>> S) + (e3 >>> 16);
      if (x0 < RANS_L) { x0 = (x0 << 8) | src[p++]; if (x0 < RANS_L) x0 = (x0 << 8) | src[p++]; }
      if (x1 < RANS_L) { x1 = (x1 << 8) | src[p++]; if (x1 < RANS_L) x1 = (x1 << 8) | src[p++]; }
      if (x2 < RANS_L) { x2 = (x2 << 8) | src[p++]; if (x2 < RANS_L) x2 = (x2 << 8) | src[p++]; }
      if (x3 < RANS_L) { x3 = (x3 << 8) | src[p++]; if (x3 < RANS_L) x3 = (x3 << 8) | src[p++]; }
    }
  } else {
    for (const stop = count - 3; i < stop && p <= fastEnd; i += 4) {
      const s0 = x0 & mask, s1 = x1 & mask, s2 = x2 & mask, s3 = x3 & mask;
      const e0 = slotEntry[s0], e1 = slotEntry[s1], e2 = slotEntry[s2], e3 = slotEntry[s3];
      out[i] = slotSymbol[s0]; out[i + 1] = slotSymbol[s1]; out[i + 2] = slotSymbol[s2]; out[i + 3] = slotSymbol[s3];
      x0 = Math.imul(e0 & 0xffff, x0 >>> S) + (e0 >>> 16);
      x1 = Math.imul(e1 & 0xffff, x1 >>> S) + (e1 >>> 16);
      x2 = Math.imul(e2 & 0xffff, x2 >>> S) + (e2 >>> 16);
      x3 = Math.imul(e3 & 0xffff, x3 >>> S) + (e3 >>> 16);
      if (x0 < RANS_L) { x0 = (x0 << 8) | src[p++]; if (x0 < RANS_L) x0 = (x0 << 8) | src[p++]; }
      if (x1 < RANS_L) { x1 = (x1 << 8) | src[p++]; if (x1 < RANS_L) x1 = (x1 << 8) | src[p++]; }
      if (x2 < RANS_L) { x2 = (x2 << 8) | src[p++]; if (x2 < RANS_L) x2 = (x2 << 8) | src[p++]; }
      if (x3 < RANS_L) { x3 = (x3 << 8) | src[p++]; if (x3 < RANS_L) x3 = (x3 << 8) | src[p++]; }
    }
  }
  states[0] = x0; states[1] = x1; states[2] = x2; states[3] = x3;
  // Remaining symbols with a bounds check on every byte.
  for (; i < count; i++) {
    const k = i & 3;
    let x = states[k];
    const slot = x & mask, e = slotEntry[slot];
    out[i] = slotSymbol[slot];
    x = Math.imul(e & 0xffff, x >>> S) + (e >>> 16);
    while (x < RANS_L) {
      if (p >= end) fail('srcSize_wrong', `rANS: stream ends at symbol ${i} of ${count}`, p);
      x = (x << 8) | src[p++];
    }
    states[k] = x;
  }
  if (p !== end) fail('srcSize_wrong', `rANS: ${end - p} unread bytes after the last symbol`, p);
  for (let k = 0; k < RANS_STATES; k++) {
    if (states[k] !== RANS_L) fail('corruption_detected', `rANS: final state ${k} is ${states[k]}, the encoder started at 2^23`, p);
  }
  return out;
}
