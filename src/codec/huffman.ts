// Canonical Huffman coding: optimal (optionally length-limited) code lengths, compact table serialization,
// an encoder that emits bit-reversed canonical codes LSB-first, and a single-lookup table-driven decoder.
import { assertStreamEnd, BitReader, BitWriter, ByteReader, ByteWriter, bytesToPaddedWords, LITTLE_ENDIAN, wordsToBytes } from './bitio.js';
import { fail } from './errors.js';
import { checkAlphabetSize, histogram, type SymbolArray } from './entropy.js';

/** Longest code the coder supports: the decode table has 2^maxLength entries and one 32-bit read serves two symbols. */
export const MAX_CODE_LENGTH = 16;
/** Default limit: a 4 096-entry decode table (16 KiB) stays in L1, and costs almost nothing on real data. */
export const DEFAULT_MAX_CODE_LENGTH = 12;

export interface HuffmanTable {
  readonly kind: 'huffman';
  readonly alphabetSize: number;
  /** Code length per symbol in bits; 0 = symbol not codable. All zero for a one-symbol code. */
  readonly lengths: Uint8Array;
  /** The symbol of a one-symbol code (coded in zero bits), else −1. */
  readonly single: number;
  /** Longest code length in use (0 for empty or one-symbol codes). */
  readonly maxLength: number;
  /** Per symbol: bit-reversed canonical code << 5 | length (0 = absent). */
  readonly encodeTable: Uint32Array;
}

// ---------------------------------------------------------------------------------------------------------
// Code lengths

/** Present symbols sorted by ascending count (ties by symbol, so results are deterministic). */
function sortedPresent(counts: ArrayLike<number>): Int32Array {
  let n = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) n++;
  const idx = new Int32Array(n);
  for (let s = 0, k = 0; s < counts.length; s++) if (counts[s] > 0) idx[k++] = s;
  return idx.sort((a, b) => counts[a] - counts[b] || a - b);
}

/** Unlimited optimal Huffman depths for ascending weights (two-queue method, O(n)). */
function huffmanDepths(w: Float64Array): Int32Array {
  const n = w.length;
  const internal = new Float64Array(n - 1);
  const parent = new Int32Array(2 * n - 1);  // leaves 0…n−1, internal nodes n…2n−2
  let leaf = 0, next = 0;
  for (let k = 0; k < n - 1; k++) {
    let a: number, b: number;
    // Take the two lightest of (next leaf, next unconsumed internal node); on ties the leaf goes first.
    if (leaf < n && (next >= k || w[leaf] <= internal[next])) a = leaf++; else a = n + next++;
    if (leaf < n && (next >= k || w[leaf] <= internal[next])) b = leaf++; else b = n + next++;
    internal[k] = (a < n ? w[a] : internal[a - n]) + (b < n ? w[b] : internal[b - n]);
    parent[a] = n + k;
    parent[b] = n + k;
  }
  const depth = new Int32Array(2 * n - 1);
  for (let v = 2 * n - 3; v >= 0; v--) depth[v] = depth[parent[v]] + 1;  // parents have larger indices
  return depth.subarray(0, n);
}

/**
 * Optimal length-limited code lengths for ascending weights (package-merge, Larmore & Hirschberg).
 * Level L holds the leaves; each shallower level merges the leaves with pairs ("packages") of the level
 * below. The first 2n−2 items of level 1 form the optimal code; a leaf's length is the number of levels
 * in which it is among the items taken.
 */
function packageMergeDepths(w: Float64Array, limit: number): Int32Array {
  const n = w.length, take = 2 * n - 2;
  const isLeaf: Uint8Array[] = new Array(limit + 1);
  let prev: Float64Array = w;
  isLeaf[limit] = new Uint8Array(n).fill(1);
  for (let level = limit - 1; level >= 1; level--) {
    const packages = prev.length >>> 1;
    const size = Math.min(take, n + packages);
    const list = new Float64Array(size), flags = new Uint8Array(size);
    let i = 0, p = 0;
    for (let k = 0; k < size; k++) {
      const pw = p < packages ? prev[2 * p] + prev[2 * p + 1] : Infinity;
      if (i < n && w[i] <= pw) { list[k] = w[i++]; flags[k] = 1; } else { list[k] = pw; p++; }
    }
    isLeaf[level] = flags;
    prev = list;
  }
  const depth = new Int32Array(n);
  let m = take;
  for (let level = 1; level <= limit && m > 0; level++) {
    const flags = isLeaf[level];
    let leaves = 0;
    for (let k = 0; k < m; k++) leaves += flags[k];
    for (let k = 0; k < leaves; k++) depth[k]++;
    m = 2 * (m - leaves);
  }
  return depth;
}

/**
 * Optimal prefix-code lengths for `counts` with no code longer than `maxLength` (1…16; raised to
 * ⌈log2 n⌉ when n present symbols cannot fit under it). Absent symbols get 0; with fewer than two present
 * symbols every length is 0 (nothing needs to be sent).
 */
export function huffmanCodeLengths(counts: ArrayLike<number>, maxLength = DEFAULT_MAX_CODE_LENGTH): Uint8Array {
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_CODE_LENGTH) {
    fail('parameter_invalid', `huffmanCodeLengths: maxLength must be an integer in 1…${MAX_CODE_LENGTH}, got ${maxLength}`);
  }
  const lengths = new Uint8Array(counts.length);
  const order = sortedPresent(counts);
  const n = order.length;
  if (n < 2) return lengths;
  const limit = Math.max(maxLength, 32 - Math.clz32(n - 1));
  if (limit > MAX_CODE_LENGTH) fail('parameter_invalid', `huffmanCodeLengths: ${n} symbols need codes longer than ${MAX_CODE_LENGTH} bits`);
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) w[k] = counts[order[k]];
  let depth = huffmanDepths(w);
  let longest = 0;
  for (let k = 0; k < n; k++) if (depth[k] > longest) longest = depth[k];
  if (longest > limit) depth = packageMergeDepths(w, limit);
  for (let k = 0; k < n; k++) lengths[order[k]] = depth[k];
  return lengths;
}

// ---------------------------------------------------------------------------------------------------------
// Tables

function reverseBits(code: number, len: number): number {
  let r = 0;
  for (let k = 0; k < len; k++) { r = (r << 1) | (code & 1); code >>>= 1; }
  return r;
}

/**
 * Validates code lengths and assigns canonical codes (shorter codes first, then by symbol).
 * With two or more codable symbols the code must be complete (Kraft sum exactly 1), so every bit
 * pattern decodes; `single` ≥ 0 makes a one-symbol code of zero bits.
 */
export function huffmanTableFromLengths(lengths: Uint8Array, single = -1): HuffmanTable {
  const alphabetSize = lengths.length;
  checkAlphabetSize(alphabetSize, 'huffmanTableFromLengths');
  const encodeTable = new Uint32Array(alphabetSize);
  const perLength = new Uint32Array(MAX_CODE_LENGTH + 1);
  let present = 0, maxLength = 0, kraft = 0;  // kraft in units of 2^−16
  for (let s = 0; s < alphabetSize; s++) {
    const len = lengths[s];
    if (len === 0) continue;
    if (len > MAX_CODE_LENGTH) fail('table_invalid', `Huffman table: symbol ${s} has length ${len} > ${MAX_CODE_LENGTH}`);
    perLength[len]++; present++;
    kraft += 1 << (MAX_CODE_LENGTH - len);
    if (len > maxLength) maxLength = len;
  }
  if (single >= 0) {
    if (present !== 0 || single >= alphabetSize) fail('table_invalid', `Huffman table: one-symbol code for ${single} must have no other lengths (alphabet ${alphabetSize})`);
    return { kind: 'huffman', alphabetSize, lengths, single, maxLength: 0, encodeTable };
  }
  if (present === 1) fail('table_invalid', 'Huffman table: exactly one symbol has a length; use a one-symbol code');
  if (present > 1 && kraft !== 1 << MAX_CODE_LENGTH) {
    fail('table_invalid', `Huffman table: code lengths are ${kraft > 1 << MAX_CODE_LENGTH ? 'over-subscribed' : 'incomplete'} (Kraft sum ${kraft / 65536}, must be 1)`);
  }
  const nextCode = new Uint32Array(MAX_CODE_LENGTH + 1);
  for (let len = 1, code = 0; len <= MAX_CODE_LENGTH; len++) {
    code = (code + perLength[len - 1]) << 1;
    nextCode[len] = code;
  }
  for (let s = 0; s < alphabetSize; s++) {
    const len = lengths[s];
    if (len !== 0) encodeTable[s] = (reverseBits(nextCode[len]++, len) << 5) | len;
  }
  return { kind: 'huffman', alphabetSize, lengths, single: -1, maxLength, encodeTable };
}

export interface HuffmanFitOptions { maxLength?: number }

/** The optimal (length-limited) Huffman table for a histogram whose length is the alphabet size. */
export function fitHuffmanTable(counts: ArrayLike<number>, options: HuffmanFitOptions = {}): HuffmanTable {
  checkAlphabetSize(counts.length, 'fitHuffmanTable');
  const lengths = huffmanCodeLengths(counts, options.maxLength ?? DEFAULT_MAX_CODE_LENGTH);
  let single = -1, present = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) { present++; single = s; }
  return huffmanTableFromLengths(lengths, present === 1 ? single : -1);
}

// Serialized form, a byte-padded LSB-first bit stream: 2 bits kind (0 empty, 1 one-symbol, 2 lengths);
// one-symbol: the symbol in 16 bits; lengths: Exp-Golomb(n − 1) with n = last codable symbol + 1, then per
// symbol a delta code against the previous length: '0' same, '10' +1, '110' −1, '111' + 5-bit literal. A
// literal 0 is followed by Exp-Golomb(further zeros), so long absent ranges of 16-bit alphabets cost a few
// bits (a 5-bit geometric source's table is 3–7 bytes).
const KIND_EMPTY = 0, KIND_SINGLE = 1, KIND_LENGTHS = 2;

export function writeHuffmanTable(t: HuffmanTable): Uint8Array {
  const bw = new BitWriter(16);
  if (t.single >= 0) { bw.write(KIND_SINGLE, 2); bw.write(t.single, 16); return bw.finish(); }
  let n = t.lengths.length;
  while (n > 0 && t.lengths[n - 1] === 0) n--;
  if (n === 0) { bw.write(KIND_EMPTY, 2); return bw.finish(); }
  bw.write(KIND_LENGTHS, 2);
  bw.writeExpGolomb(n - 1);
  let prev = 0;
  for (let s = 0; s < n; s++) {
    const len = t.lengths[s];
    // Zeros always take the literal path, whose run swallows the following zeros too.
    if (len !== 0 && len === prev) bw.write(0, 1);
    else if (len !== 0 && len === prev + 1) bw.write(0b01, 2);
    else if (len !== 0 && len === prev - 1) bw.write(0b011, 3);
    else {
      bw.write(0b111, 3); bw.write(len, 5);
      if (len === 0) {
        let run = 0;
        while (s + 1 + run < n && t.lengths[s + 1 + run] === 0) run++;
        bw.writeExpGolomb(run);
        s += run;
      }
    }
    prev = len;
  }
  return bw.finish();
}

/** Parses a table written by writeHuffmanTable from `src[start, end)`; returns it and the bytes consumed. */
export function readHuffmanTable(src: Uint8Array, alphabetSize: number, start = 0, end = src.length): { table: HuffmanTable; bytes: number } {
  checkAlphabetSize(alphabetSize, 'readHuffmanTable');
  const br = new BitReader(src, start, end, 'Huffman table');
  const kind = br.read(2);
  const lengths = new Uint8Array(alphabetSize);
  let single = -1;
  if (kind === KIND_SINGLE) {
    single = br.read(16);
    if (single >= alphabetSize) fail('table_invalid', `Huffman table: symbol ${single} outside alphabet of ${alphabetSize}`, start);
  } else if (kind === KIND_LENGTHS) {
    const n = br.readExpGolomb() + 1;
    if (n > alphabetSize) fail('table_invalid', `Huffman table: ${n} lengths for an alphabet of ${alphabetSize}`, start);
    let prev = 0;
    for (let s = 0; s < n; s++) {
      let len: number;
      if (br.read(1) === 0) len = prev;
      else if (br.read(1) === 0) len = prev + 1;
      else if (br.read(1) === 0) len = prev - 1;
      else {
        len = br.read(5);
        if (len === 0) {
          const run = br.readExpGolomb();
          if (run >= n - s) fail('table_invalid', `Huffman table: run of ${run + 1} absent symbols passes the declared ${n}`, start);
          s += run;
        }
      }
      if (len < 0 || len > MAX_CODE_LENGTH) fail('table_invalid', `Huffman table: length ${len} for symbol ${s} outside 0…${MAX_CODE_LENGTH}`, start);
      lengths[s] = len;
      prev = len;
    }
  } else if (kind !== KIND_EMPTY) {
    fail('table_invalid', `Huffman table: unknown kind ${kind}`, start);
  }
  const bytes = br.alignToByte();
  return { table: huffmanTableFromLengths(lengths, single), bytes };
}

// ---------------------------------------------------------------------------------------------------------
// Coding

/** Output array type for an alphabet: bytes up to 256 symbols, else 16-bit. */
export function allocSymbols(alphabetSize: number, count: number): SymbolArray {
  return alphabetSize <= 256 ? new Uint8Array(count) : new Uint16Array(count);
}

/** Throws symbol_outOfRange for the first symbol of `counts` that `codable` rejects. */
export function checkCodable(counts: ArrayLike<number>, codable: (s: number) => boolean, what: string): void {
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] > 0 && !codable(s)) fail('symbol_outOfRange', `${what}: symbol ${s} occurs ${counts[s]} times but has no code in the table`);
  }
}

/** Bit positions are int32 in the decoder's hot loops, so one Huffman payload is at most 2^31 − 1 bits. */
const MAX_STREAM_BITS = 2 ** 31 - 1;

/** Streams at or above this many symbols are split into 4 bit streams that decode in parallel. */
const FOUR_STREAM_MIN = 256;

/** Symbol index where stream q of 4 starts (the first three hold ⌈count/4⌉ symbols each). */
function streamStart(count: number, q: number): number {
  return Math.min(count, q * Math.ceil(count / 4));
}

/**
 * Appends the codes of symbols[from, to) to `words`; `st` carries the writer state across calls
 * ([accumulator, bits in it, words written]). After a flush the high bits of the code that did not fit
 * start the next word (codes and joined pairs are < 32 bits, so no shift by 32 occurs).
 */
function encodeRange(symbols: SymbolArray, from: number, to: number, enc: Uint32Array, words: Uint32Array, st: Int32Array, joinPairs: boolean): void {
  let acc = st[0], accBits = st[1], wp = st[2], i = from;
  if (joinPairs) {
    // Two codes are joined first (≤ 30 bits), halving the flush branches.
    if (LITTLE_ENDIAN && symbols instanceof Uint8Array && to - from >= 16) {
      // Byte symbols are loaded four at a time from aligned words.
      for (; ((symbols.byteOffset + i) & 3) !== 0; i++) {
        const e = enc[symbols[i]], len = e & 31, code = e >>> 5;
        acc |= code << accBits; accBits += len;
        if (accBits >= 32) { words[wp++] = acc; accBits -= 32; acc = code >>> (len - accBits); }
      }
      const quads = new Uint32Array(symbols.buffer, symbols.byteOffset + i, (to - i) >>> 2);
      for (let j = 0; j < quads.length; j++) {
        const w = quads[j];
        let e1 = enc[w & 0xff], e2 = enc[(w >>> 8) & 0xff];
        let l1 = e1 & 31, len = l1 + (e2 & 31), code = (e1 >>> 5) | ((e2 >>> 5) << l1);
        acc |= code << accBits; accBits += len;
        if (accBits >= 32) { words[wp++] = acc; accBits -= 32; acc = code >>> (len - accBits); }
        e1 = enc[(w >>> 16) & 0xff]; e2 = enc[w >>> 24];
        l1 = e1 & 31; len = l1 + (e2 & 31); code = (e1 >>> 5) | ((e2 >>> 5) << l1);
        acc |= code << accBits; accBits += len;
        if (accBits >= 32) { words[wp++] = acc; accBits -= 32; acc = code >>> (len - accBits); }
      }
      i += 4 * quads.length;
    } else {
      for (const stop = to - 1; i < stop; i += 2) {
        const e1 = enc[symbols[i]], e2 = enc[symbols[i + 1]];
        const l1 = e1 & 31, len = l1 + (e2 & 31), code = (e1 >>> 5) | ((e2 >>> 5) << l1);
        acc |= code << accBits; accBits += len;
        if (accBits >= 32) { words[wp++] = acc; accBits -= 32; acc = code >>> (len - accBits); }
      }
    }
  }
  for (; i < to; i++) {
    const e = enc[symbols[i]], len = e & 31, code = e >>> 5;
    acc |= code << accBits; accBits += len;
    if (accBits >= 32) { words[wp++] = acc; accBits -= 32; acc = code >>> (len - accBits); }
  }
  st[0] = acc; st[1] = accBits; st[2] = wp;
}

/**
 * Codes `symbols` with table `t`: the bit length is known from the histogram, so the output is allocated
 * once at its exact size. Pass `counts` if you already have the histogram.
 *
 * Layout: for ≥ 256 symbols, varint bit offsets of streams 1, 2, 3 (ascending), then one continuous
 * LSB-first bit stream in which the four quarters of the input follow each other (Huff0's 4 streams
 * without padding); shorter inputs are a single bit stream. The last byte is zero-padded.
 */
export function huffmanEncode(symbols: SymbolArray, t: HuffmanTable, counts: ArrayLike<number> = histogram(symbols, t.alphabetSize)): Uint8Array {
  if (counts.length !== t.alphabetSize) fail('parameter_invalid', `huffmanEncode: histogram has ${counts.length} bins, table alphabet ${t.alphabetSize}`);
  if (t.single >= 0) {
    checkCodable(counts, (s) => s === t.single, 'huffmanEncode');
    return new Uint8Array(0);
  }
  checkCodable(counts, (s) => t.lengths[s] !== 0, 'huffmanEncode');
  let totalBits = 0;
  for (let s = 0; s < counts.length; s++) totalBits += counts[s] * t.lengths[s];
  if (totalBits > MAX_STREAM_BITS) fail('count_tooLarge', `huffmanEncode: ${totalBits} bits exceed the 256 MiB limit of one stream; code the tensor in parts`);
  const n = symbols.length;
  const streams = n >= FOUR_STREAM_MIN ? 4 : 1;
  const words = new Uint32Array(Math.ceil(totalBits / 32) + 1);
  const st = new Int32Array(3);
  const jump = new ByteWriter(16);
  for (let q = 0; q < streams; q++) {
    if (q > 0) jump.varint(st[2] * 32 + st[1]);
    const from = streams === 1 ? 0 : streamStart(n, q), to = streams === 1 ? n : streamStart(n, q + 1);
    encodeRange(symbols, from, to, t.encodeTable, words, st, t.maxLength <= 15);
  }
  if (st[1] > 0) words[st[2]] = st[0];
  const body = wordsToBytes(words, Math.ceil(totalBits / 8));
  if (streams === 1) return body;
  const out = new Uint8Array(jump.length + body.length);
  out.set(jump.finish());
  out.set(body, jump.length);
  return out;
}

interface HuffmanDecodeTable {
  readonly tableLog: number;
  /** entry = symbol << 5 | length, for every tableLog-bit pattern. */
  readonly entries: Uint32Array;
  /**
   * For byte alphabets with short codes: up to three whole codes per pattern,
   * entry = s1 | s2 << 8 | s3 << 16 | count << 24 | bits << 26; null where it would not pay.
   */
  readonly multi: Uint32Array | null;
}
const decodeTables = new WeakMap<HuffmanTable, HuffmanDecodeTable>();

/** Lookup tables, built once per table and cached. */
function decodeTableFor(t: HuffmanTable): HuffmanDecodeTable {
  let dt = decodeTables.get(t);
  if (dt) return dt;
  const tableLog = t.maxLength, size = 1 << tableLog;
  const entries = new Uint32Array(size);
  let meanLength = 0;  // under the code's own model 2^−len
  for (let s = 0; s < t.alphabetSize; s++) {
    const e = t.encodeTable[s];
    if (e === 0) continue;
    const len = e & 31, entry = (s << 5) | len;
    meanLength += len * 2 ** -len;
    for (let k = e >>> 5; k < size; k += 1 << len) entries[k] = entry;
  }
  let multi: Uint32Array | null = null;
  if (t.alphabetSize <= 256 && 2 * meanLength <= tableLog) {
    // A later code counts only if all its bits are inside the pattern (prefix codes need no lookahead).
    multi = new Uint32Array(size);
    for (let idx = 0; idx < size; idx++) {
      let e = entries[idx], bits = e & 31, v = e >>> 5, count = 1;
      for (; count < 3 && bits < tableLog; count++) {
        e = entries[idx >>> bits];
        const len = e & 31;
        if (len > tableLog - bits) break;
        v |= (e >>> 5) << (8 * count);
        bits += len;
      }
      multi[idx] = (v | (count << 24) | (bits << 26)) >>> 0;
    }
  }
  dt = { tableLog, entries, multi };
  decodeTables.set(t, dt);
  return dt;
}

/**
 * Decodes out[from, to) from the bit stream starting at bit `pos`; returns the bit position after the
 * last symbol, or a value > `limit` as soon as the stream overruns `limit` (reads stay in the zero
 * padding of `words` while pos ≤ limit ≤ total bits).
 */
function decodeRange(words: Uint32Array, entries: Uint32Array, mask: number, out: SymbolArray, from: number, to: number, pos: number, limit: number): number {
  let i = from;
  // 32 fresh bits per read serve two codes of ≤ 16 bits.
  for (const stop = to - 1; i < stop && pos <= limit; i += 2) {
    const wi = pos >>> 5, sh = pos & 31;
    let w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
    const e1 = entries[w & mask];
    out[i] = e1 >>> 5;
    const l1 = e1 & 31;
    w >>>= l1;
    const e2 = entries[w & mask];
    out[i + 1] = e2 >>> 5;
    pos += l1 + (e2 & 31);
  }
  if (i < to && pos <= limit) {
    const wi = pos >>> 5, sh = pos & 31;
    const e = entries[((words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh))) & mask];
    out[i++] = e >>> 5;
    pos += e & 31;
  }
  return i < to ? limit + 1 : pos;
}

/** Stream state for multi-symbol decoding: next output index and bit position of each of 4 streams. */
interface MultiState { i: Int32Array; pos: Int32Array }

/**
 * Multi-symbol decoding of 4 interleaved streams (byte alphabets): each 32-bit read feeds two lookups of
 * up to 3 symbols each. A stream stops 6 symbols before its end (stores write 3 bytes per lookup) or at its
 * bit limit; the callers finish the tails one symbol at a time.
 */
function decodeMulti4(words: Uint32Array, multi: Uint32Array, mask: number, out: Uint8Array, ends: readonly number[], limits: readonly number[], st: MultiState): void {
  let i0 = st.i[0], i1 = st.i[1], i2 = st.i[2], i3 = st.i[3];
  let p0 = st.pos[0], p1 = st.pos[1], p2 = st.pos[2], p3 = st.pos[3];
  const t0 = ends[0] - 5, t1 = ends[1] - 5, t2 = ends[2] - 5, t3 = ends[3] - 5;
  const l0 = limits[0], l1 = limits[1], l2 = limits[2], l3 = limits[3];
  while (i0 < t0 && i1 < t1 && i2 < t2 && i3 < t3 && p0 <= l0 && p1 <= l1 && p2 <= l2 && p3 <= l3) {
    let wi = p0 >>> 5, sh = p0 & 31;
    let w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
    let e = multi[w & mask];
    out[i0] = e; out[i0 + 1] = e >>> 8; out[i0 + 2] = e >>> 16; i0 += (e >>> 24) & 3;
    let b = e >>> 26; w >>>= b; p0 += b;
    e = multi[w & mask];
    out[i0] = e; out[i0 + 1] = e >>> 8; out[i0 + 2] = e >>> 16; i0 += (e >>> 24) & 3; p0 += e >>> 26;

    wi = p1 >>> 5; sh = p1 & 31;
    w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
    e = multi[w & mask];
    out[i1] = e; out[i1 + 1] = e >>> 8; out[i1 + 2] = e >>> 16; i1 += (e >>> 24) & 3;
    b = e >>> 26; w >>>= b; p1 += b;
    e = multi[w & mask];
    out[i1] = e; out[i1 + 1] = e >>> 8; out[i1 + 2] = e >>> 16; i1 += (e >>> 24) & 3; p1 += e >>> 26;

    wi = p2 >>> 5; sh = p2 & 31;
    w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
    e = multi[w & mask];
    out[i2] = e; out[i2 + 1] = e >>> 8; out[i2 + 2] = e >>> 16; i2 += (e >>> 24) & 3;
    b = e >>> 26; w >>>= b; p2 += b;
    e = multi[w & mask];
    out[i2] = e; out[i2 + 1] = e >>> 8; out[i2 + 2] = e >>> 16; i2 += (e >>> 24) & 3; p2 += e >>> 26;

    wi = p3 >>> 5; sh = p3 & 31;
    w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
    e = multi[w & mask];
    out[i3] = e; out[i3 + 1] = e >>> 8; out[i3 + 2] = e >>> 16; i3 += (e >>> 24) & 3;
    b = e >>> 26; w >>>= b; p3 += b;
    e = multi[w & mask];
    out[i3] = e; out[i3 + 1] = e >>> 8; out[i3 + 2] = e >>> 16; i3 += (e >>> 24) & 3; p3 += e >>> 26;
  }
  st.i[0] = i0; st.i[1] = i1; st.i[2] = i2; st.i[3] = i3;
  st.pos[0] = p0; st.pos[1] = p1; st.pos[2] = p2; st.pos[3] = p3;
}

/**
 * Decodes exactly `count` symbols from `src[start, end)`. Each stream must end exactly where the next one
 * starts and the last one at the end (only zero padding in the last byte); a count the stream cannot hold
 * is rejected before allocating.
 */
export function huffmanDecode(src: Uint8Array, count: number, t: HuffmanTable, start = 0, end = src.length): SymbolArray {
  if (t.single >= 0 || t.maxLength === 0) {
    if (end !== start) fail('srcSize_wrong', `Huffman: ${end - start} payload bytes for a code that needs none`, start);
    if (t.single < 0 && count > 0) fail('corruption_detected', `Huffman: ${count} symbols declared but the table codes none`, start);
    const out = allocSymbols(t.alphabetSize, count);
    if (t.single > 0) out.fill(t.single);  // (symbol 0: the fresh array is already all zeros)
    return out;
  }
  const streams = count >= FOUR_STREAM_MIN ? 4 : 1;
  const bounds = [0, 0, 0, 0, 0];  // bit offset where stream q starts; bounds[4] = total bits
  let bodyStart = start;
  if (streams === 4) {
    const jump = new ByteReader(src, start, end, 'Huffman jump table');
    for (let q = 1; q < 4; q++) bounds[q] = jump.varint(`stream ${q} offset`);
    bodyStart = jump.pos;
  }
  const totalBits = (end - bodyStart) * 8;
  if (totalBits > MAX_STREAM_BITS) fail('srcSize_wrong', `Huffman: payload of ${end - bodyStart} bytes exceeds the 256 MiB limit of one stream`, start);
  bounds[streams] = totalBits;
  for (let q = 1; q <= streams; q++) {
    if (bounds[q] < bounds[q - 1] || bounds[q] > totalBits) fail('corruption_detected', `Huffman: stream ${q} offset ${bounds[q]} outside ${bounds[q - 1]}…${totalBits}`, start);
  }
  // Every code is ≥ 1 bit, so a stream of B bits holds at most B symbols.
  if (count > totalBits) fail('srcSize_wrong', `Huffman: ${count} symbols declared, but ${end - bodyStart} bytes hold at most ${totalBits}`, start);
  const { tableLog, entries, multi } = decodeTableFor(t);
  const words = bytesToPaddedWords(src, bodyStart, end);
  const out = allocSymbols(t.alphabetSize, count);
  const mask = (1 << tableLog) - 1;
  let endPos: number;
  if (streams === 1) {
    endPos = decodeRange(words, entries, mask, out, 0, count, 0, totalBits);
  } else {
    // The four streams are independent dependency chains: interleaving them lets the CPU overlap the
    // table lookups. Each stream's reads stay inside `words` while its position is ≤ its own end.
    const starts = [0, streamStart(count, 1), streamStart(count, 2), streamStart(count, 3), count];
    const st: MultiState = { i: Int32Array.from(starts.slice(0, 4)), pos: Int32Array.from(bounds.slice(0, 4)) };
    if (multi && out instanceof Uint8Array) {
      decodeMulti4(words, multi, mask, out, starts.slice(1), bounds.slice(1), st);
    } else {
      let j = 0;
      const [s1, s2, s3] = [starts[1], starts[2], starts[3]];
      const [e0, e1, e2, e3] = [bounds[1], bounds[2], bounds[3], bounds[4]];
      let p0 = st.pos[0], p1 = st.pos[1], p2 = st.pos[2], p3 = st.pos[3];
      for (const stop = count - s3 - 1; j < stop && p0 <= e0 && p1 <= e1 && p2 <= e2 && p3 <= e3; j += 2) {
        let wi = p0 >>> 5, sh = p0 & 31;
        let w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
        let a = entries[w & mask]; out[j] = a >>> 5; let la = a & 31; w >>>= la;
        let b = entries[w & mask]; out[j + 1] = b >>> 5; p0 += la + (b & 31);
        wi = p1 >>> 5; sh = p1 & 31;
        w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
        a = entries[w & mask]; out[s1 + j] = a >>> 5; la = a & 31; w >>>= la;
        b = entries[w & mask]; out[s1 + j + 1] = b >>> 5; p1 += la + (b & 31);
        wi = p2 >>> 5; sh = p2 & 31;
        w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
        a = entries[w & mask]; out[s2 + j] = a >>> 5; la = a & 31; w >>>= la;
        b = entries[w & mask]; out[s2 + j + 1] = b >>> 5; p2 += la + (b & 31);
        wi = p3 >>> 5; sh = p3 & 31;
        w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
        a = entries[w & mask]; out[s3 + j] = a >>> 5; la = a & 31; w >>>= la;
        b = entries[w & mask]; out[s3 + j + 1] = b >>> 5; p3 += la + (b & 31);
      }
      st.i[0] = j; st.i[1] = s1 + j; st.i[2] = s2 + j; st.i[3] = s3 + j;
      st.pos[0] = p0; st.pos[1] = p1; st.pos[2] = p2; st.pos[3] = p3;
    }
    // Tails one symbol at a time; each stream must end exactly where the next one starts.
    for (let q = 0; q < 3; q++) {
      const e = decodeRange(words, entries, mask, out, st.i[q], starts[q + 1], st.pos[q], bounds[q + 1]);
      if (e !== bounds[q + 1]) fail('corruption_detected', `Huffman: stream ${q} ends at bit ${e}, its successor starts at ${bounds[q + 1]}`, start);
    }
    endPos = decodeRange(words, entries, mask, out, st.i[3], count, st.pos[3], totalBits);
  }
  if (endPos > totalBits) fail('srcSize_wrong', `Huffman: stream ends before all ${count} symbols are decoded`, end);
  assertStreamEnd('Huffman', endPos, totalBits, words, bodyStart);
  return out;
}
