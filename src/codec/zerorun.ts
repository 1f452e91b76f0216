// Zero-run coding for ReLU feature maps: the input becomes (run of zeros, non-zero literal) pairs plus a
// final run; run lengths and literals are entropy-coded by an inner coder (Huffman or rANS) with their own
// tables. Long runs use log-buckets with raw extra bits (two buckets per octave), like deflate's lengths.
import { BitReader, BitWriter, ByteReader, ByteWriter } from './bitio.js';
import { fail } from './errors.js';
import { checkAlphabetSize, histogram, type SymbolArray } from './entropy.js';
import {
  allocSymbols, fitHuffmanTable, huffmanDecode, huffmanEncode, readHuffmanTable, writeHuffmanTable,
  type HuffmanTable,
} from './huffman.js';
import { fitRansTable, ransDecode, ransEncode, readRansTable, writeRansTable, type RansTable } from './rans.js';

/** Runs below this are their own symbol. */
export const RUN_DIRECT = 16;
/** Run alphabet: 16 direct runs, then 2 buckets per octave for 2^4 ≤ r < 2^32. */
export const RUN_ALPHABET = RUN_DIRECT + 2 * (32 - 4);

export type InnerCoder = 'huffman' | 'rans';
type InnerTable = HuffmanTable | RansTable;

export interface ZeroRunTable {
  readonly kind: 'zerorun';
  readonly alphabetSize: number;
  readonly inner: InnerCoder;
  /** Table over run symbols (RUN_ALPHABET). */
  readonly runs: InnerTable;
  /** Table over literal − 1 (alphabetSize − 1 symbols, at least 1). */
  readonly literals: InnerTable;
}

/** Bucket symbol of a run length r ≥ 0 and the number of raw extra bits that follow it. */
export function runSymbol(r: number): number {
  if (r < RUN_DIRECT) return r;
  const e = 31 - Math.clz32(r);               // r in [2^e, 2^(e+1)), e ≥ 4
  return RUN_DIRECT + 2 * (e - 4) + ((r >>> (e - 1)) & 1);
}
export function runExtraBits(sym: number): number {
  return sym < RUN_DIRECT ? 0 : ((sym - RUN_DIRECT) >>> 1) + 3;
}
/** Run length of bucket `sym` with extra bits `extra` (exact in doubles up to 2^32). */
export function runValue(sym: number, extra: number): number {
  if (sym < RUN_DIRECT) return sym;
  const j = sym - RUN_DIRECT, e = (j >>> 1) + 4;
  return (2 + (j & 1)) * 2 ** (e - 1) + extra;
}

export interface ZeroRunTokens {
  readonly count: number;
  /** Bucket symbol of each run; one more run than literals (the trailing run). */
  readonly runs: Uint8Array;
  /** Each non-zero symbol minus one. */
  readonly literals: SymbolArray;
  /** Raw extra bits of bucketed runs, LSB-first. */
  readonly extra: Uint8Array;
}

/** Splits `symbols` into zero runs and non-zero literals (literals stored as value − 1). */
export function zeroRunTokens(symbols: SymbolArray, alphabetSize: number): ZeroRunTokens {
  checkAlphabetSize(alphabetSize, 'zeroRunTokens');
  const n = symbols.length;
  let nonZero = 0;
  for (let i = 0; i < n; i++) nonZero += +(symbols[i] !== 0);
  const runs = new Uint8Array(nonZero + 1);
  const literals = allocSymbols(Math.max(1, alphabetSize - 1), nonZero);
  const extra = new BitWriter(64);
  let last = -1, k = 0;  // index of the previous literal
  for (let i = 0; i < n; i++) {
    const s = symbols[i];
    if (s === 0) continue;
    if (s >= alphabetSize) fail('symbol_outOfRange', `zeroRunTokens: symbol ${s} at index ${i} is outside the alphabet 0…${alphabetSize - 1}`);
    const run = i - last - 1;
    if (run < RUN_DIRECT) runs[k] = run;
    else { const rs = runSymbol(run); runs[k] = rs; extra.write(run, runExtraBits(rs)); }
    literals[k++] = s - 1;
    last = i;
  }
  const run = n - last - 1, rs = runSymbol(run);
  runs[k] = rs;
  if (rs >= RUN_DIRECT) extra.write(run, runExtraBits(rs));
  return { count: n, runs, literals, extra: extra.finish() };
}

export interface ZeroRunFitOptions {
  inner?: InnerCoder;
  /** Huffman code-length limit for the inner tables. */
  maxLength?: number;
  /** rANS resolution for the inner tables. */
  scaleBits?: number | 'auto';
}

function fitInner(counts: Uint32Array | Float64Array, o: ZeroRunFitOptions): InnerTable {
  return (o.inner ?? 'huffman') === 'huffman'
    ? fitHuffmanTable(counts, { maxLength: o.maxLength })
    : fitRansTable(counts, { scaleBits: o.scaleBits });
}

/** Histograms of run symbols and literals, for fitting tables. */
export function zeroRunCounts(tokens: ZeroRunTokens, alphabetSize: number): { runs: Uint32Array; literals: Uint32Array } {
  return { runs: histogram(tokens.runs, RUN_ALPHABET), literals: histogram(tokens.literals, Math.max(1, alphabetSize - 1)) };
}

/** Tables fitted to given run/literal histograms (adaptive: the data's own; static: smoothed calibration). */
export function zeroRunTableFromCounts(runCounts: Uint32Array | Float64Array, literalCounts: Uint32Array | Float64Array, alphabetSize: number, options: ZeroRunFitOptions = {}): ZeroRunTable {
  checkAlphabetSize(alphabetSize, 'zeroRunTableFromCounts');
  return { kind: 'zerorun', alphabetSize, inner: options.inner ?? 'huffman', runs: fitInner(runCounts, options), literals: fitInner(literalCounts, options) };
}

export function fitZeroRunTable(tokens: ZeroRunTokens, alphabetSize: number, options: ZeroRunFitOptions = {}): ZeroRunTable {
  const c = zeroRunCounts(tokens, alphabetSize);
  return zeroRunTableFromCounts(c.runs, c.literals, alphabetSize, options);
}

function encodeInner(symbols: SymbolArray, t: InnerTable, counts?: Uint32Array): Uint8Array {
  return t.kind === 'huffman' ? huffmanEncode(symbols, t, counts) : ransEncode(symbols, t, counts);
}
function decodeInner(src: Uint8Array, count: number, t: InnerTable, start: number, end: number): SymbolArray {
  return t.kind === 'huffman' ? huffmanDecode(src, count, t, start, end) : ransDecode(src, count, t, start, end);
}

/** Payload: varint literal count, varint run-stream bytes, varint literal-stream bytes, the two streams, extra bits. */
export function zeroRunEncodeTokens(tokens: ZeroRunTokens, t: ZeroRunTable, counts?: { runs: Uint32Array; literals: Uint32Array }): Uint8Array {
  const runBytes = encodeInner(tokens.runs, t.runs, counts?.runs);
  const litBytes = encodeInner(tokens.literals, t.literals, counts?.literals);
  return new ByteWriter(runBytes.length + litBytes.length + tokens.extra.length + 16)
    .varint(tokens.literals.length).varint(runBytes.length).varint(litBytes.length)
    .bytes(runBytes).bytes(litBytes).bytes(tokens.extra).finish();
}

export function zeroRunEncode(symbols: SymbolArray, t: ZeroRunTable): Uint8Array {
  return zeroRunEncodeTokens(zeroRunTokens(symbols, t.alphabetSize), t);
}

export function zeroRunDecode(src: Uint8Array, count: number, t: ZeroRunTable, start = 0, end = src.length): SymbolArray {
  const r = new ByteReader(src, start, end, 'zero-run payload');
  const nLit = r.varint('literal count');
  if (nLit > count) fail('corruption_detected', `zero-run: ${nLit} literals declared for ${count} symbols`, start);
  const runLen = r.varint('run stream length'), litLen = r.varint('literal stream length');
  if (runLen + litLen > r.left) fail('srcSize_wrong', `zero-run: streams of ${runLen} + ${litLen} bytes, ${r.left} left`, r.pos);
  const runStart = r.pos, litStart = runStart + runLen, extraStart = litStart + litLen;
  const runs = decodeInner(src, nLit + 1, t.runs, runStart, litStart);
  const literals = decodeInner(src, nLit, t.literals, litStart, extraStart);
  const extra = new BitReader(src, extraStart, end, 'zero-run extra bits');
  const out = allocSymbols(t.alphabetSize, count);
  let pos = 0;
  for (let k = 0; k <= nLit; k++) {
    const rs = runs[k];
    if (rs >= RUN_ALPHABET) fail('corruption_detected', `zero-run: run symbol ${rs} outside ${RUN_ALPHABET}`, runStart);
    pos += rs < RUN_DIRECT ? rs : runValue(rs, extra.read(runExtraBits(rs)));
    if (k === nLit) break;
    if (pos >= count) fail('corruption_detected', `zero-run: run ${k} passes the end of ${count} symbols`, runStart);
    out[pos++] = literals[k] + 1;  // output starts zeroed: runs are just skipped
  }
  if (pos !== count) fail('corruption_detected', `zero-run: runs and literals cover ${pos} symbols, header says ${count}`, runStart);
  extra.assertEnd();
  return out;
}

// Table: u8 inner coder (0 Huffman, 1 rANS), then the run table and the literal table, each byte-aligned.
export function writeZeroRunTable(t: ZeroRunTable): Uint8Array {
  const write = (x: InnerTable) => (x.kind === 'huffman' ? writeHuffmanTable(x) : writeRansTable(x));
  return new ByteWriter(64).u8(t.inner === 'huffman' ? 0 : 1).bytes(write(t.runs)).bytes(write(t.literals)).finish();
}

export function readZeroRunTable(src: Uint8Array, alphabetSize: number, start = 0, end = src.length): { table: ZeroRunTable; bytes: number } {
  checkAlphabetSize(alphabetSize, 'readZeroRunTable');
  const r = new ByteReader(src, start, end, 'zero-run table');
  const id = r.u8('inner coder');
  if (id > 1) fail('table_invalid', `zero-run table: unknown inner coder ${id}`, start);
  const read = id === 0 ? readHuffmanTable : readRansTable;
  const runs = read(src, RUN_ALPHABET, r.pos, end);
  const literals = read(src, Math.max(1, alphabetSize - 1), r.pos + runs.bytes, end);
  const table: ZeroRunTable = { kind: 'zerorun', alphabetSize, inner: id === 0 ? 'huffman' : 'rans', runs: runs.table, literals: literals.table };
  return { table, bytes: 1 + runs.bytes + literals.bytes };
}
