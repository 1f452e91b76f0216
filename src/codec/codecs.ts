// One interface over the three entropy coders, so the container, the ledger and the bench treat them alike:
// fit a table (adaptive: the data's own; static: smoothed calibration histograms), serialize it, code, decode.
import { fail } from './errors.js';
import { histogram, type SymbolArray } from './entropy.js';
import {
  fitHuffmanTable, huffmanDecode, huffmanEncode, readHuffmanTable, writeHuffmanTable, type HuffmanTable,
} from './huffman.js';
import { fitRansTable, ransDecode, ransEncode, readRansTable, writeRansTable, type RansTable } from './rans.js';
import {
  readZeroRunTable, RUN_ALPHABET, writeZeroRunTable, zeroRunCounts, zeroRunDecode, zeroRunEncode, zeroRunEncodeTokens,
  zeroRunTableFromCounts, zeroRunTokens, type InnerCoder, type ZeroRunTable,
} from './zerorun.js';

export type CodecName = 'huffman' | 'rans' | 'zerorun';
export const CODEC_NAMES: readonly CodecName[] = ['huffman', 'rans', 'zerorun'];
export type EntropyTable = HuffmanTable | RansTable | ZeroRunTable;

export interface CodecOptions {
  /** Huffman code-length limit, 1…16 (default 12). */
  maxCodeLength?: number;
  /** rANS probability resolution 2^scaleBits (default 'auto'). */
  scaleBits?: number | 'auto';
  /** Coder for zero-run's runs and literals (default 'huffman': the hardware-friendly pairing). */
  zeroRunInner?: InnerCoder;
}

export interface Codec {
  readonly name: CodecName;
  /** A table from calibration data that can code every symbol of the alphabet (add-one smoothing). */
  fitStatic(calibration: readonly SymbolArray[], alphabetSize: number, o: CodecOptions): EntropyTable;
  writeTable(t: EntropyTable): Uint8Array;
  readTable(src: Uint8Array, alphabetSize: number, start: number, end: number): { table: EntropyTable; bytes: number };
  encode(symbols: SymbolArray, t: EntropyTable, counts?: Uint32Array): Uint8Array;
  /** Adaptive coding: fits the data's own table (`counts` is its histogram) and codes the data with it. */
  fitAndEncode(symbols: SymbolArray, counts: Uint32Array, alphabetSize: number, o: CodecOptions): { table: EntropyTable; payload: Uint8Array };
  decode(src: Uint8Array, count: number, t: EntropyTable, start: number, end: number): SymbolArray;
}

function expect<K extends EntropyTable['kind']>(t: EntropyTable, kind: K): Extract<EntropyTable, { kind: K }> {
  if (t.kind !== kind) fail('table_mismatch', `a ${t.kind} table was given to the ${kind} coder`);
  return t as Extract<EntropyTable, { kind: K }>;
}

/** Calibration histogram with one extra count per symbol, so unseen symbols stay codable. */
function smoothedCounts(parts: readonly Uint32Array[], alphabetSize: number): Float64Array {
  const c = new Float64Array(alphabetSize).fill(1);
  for (const h of parts) for (let s = 0; s < alphabetSize; s++) c[s] += h[s];
  return c;
}

const huffman: Codec = {
  name: 'huffman',
  fitStatic: (cal, a, o) => fitHuffmanTable(smoothedCounts(cal.map((x) => histogram(x, a)), a), {
    // Every symbol of the alphabet must fit under the limit.
    maxLength: Math.max(o.maxCodeLength ?? 12, 32 - Math.clz32(a - 1)),
  }),
  writeTable: (t) => writeHuffmanTable(expect(t, 'huffman')),
  readTable: (src, a, start, end) => readHuffmanTable(src, a, start, end),
  encode: (symbols, t, counts) => huffmanEncode(symbols, expect(t, 'huffman'), counts),
  fitAndEncode: (symbols, counts, _a, o) => {
    const table = fitHuffmanTable(counts, { maxLength: o.maxCodeLength });
    return { table, payload: huffmanEncode(symbols, table, counts) };
  },
  decode: (src, count, t, start, end) => huffmanDecode(src, count, expect(t, 'huffman'), start, end),
};

const rans: Codec = {
  name: 'rans',
  fitStatic: (cal, a, o) => fitRansTable(smoothedCounts(cal.map((x) => histogram(x, a)), a), { scaleBits: o.scaleBits }),
  writeTable: (t) => writeRansTable(expect(t, 'rans')),
  readTable: (src, a, start, end) => readRansTable(src, a, start, end),
  encode: (symbols, t, counts) => ransEncode(symbols, expect(t, 'rans'), counts),
  fitAndEncode: (symbols, counts, _a, o) => {
    const table = fitRansTable(counts, { scaleBits: o.scaleBits });
    return { table, payload: ransEncode(symbols, table, counts) };
  },
  decode: (src, count, t, start, end) => ransDecode(src, count, expect(t, 'rans'), start, end),
};

function zeroRunOptions(o: CodecOptions) {
  return { inner: o.zeroRunInner, maxLength: o.maxCodeLength, scaleBits: o.scaleBits };
}

const zerorun: Codec = {
  name: 'zerorun',
  fitStatic: (cal, a, o) => {
    const parts = cal.map((x) => zeroRunCounts(zeroRunTokens(x, a), a));
    const lit = Math.max(1, a - 1);
    return zeroRunTableFromCounts(
      smoothedCounts(parts.map((p) => p.runs), RUN_ALPHABET), smoothedCounts(parts.map((p) => p.literals), lit), a, zeroRunOptions(o));
  },
  writeTable: (t) => writeZeroRunTable(expect(t, 'zerorun')),
  readTable: (src, a, start, end) => readZeroRunTable(src, a, start, end),
  encode: (symbols, t) => zeroRunEncode(symbols, expect(t, 'zerorun')),
  fitAndEncode: (symbols, _counts, a, o) => {
    const tokens = zeroRunTokens(symbols, a);
    const c = zeroRunCounts(tokens, a);
    const table = zeroRunTableFromCounts(c.runs, c.literals, a, zeroRunOptions(o));
    return { table, payload: zeroRunEncodeTokens(tokens, table, c) };
  },
  decode: (src, count, t, start, end) => zeroRunDecode(src, count, expect(t, 'zerorun'), start, end),
};

export const CODECS: Readonly<Record<CodecName, Codec>> = { huffman, rans, zerorun };

export function codecFor(name: string): Codec {
  const c = (CODECS as Record<string, Codec | undefined>)[name];
  if (!c) fail('parameter_invalid', `unknown codec '${name}' (expected one of: ${CODEC_NAMES.join(', ')})`);
  return c;
}
