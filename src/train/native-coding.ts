// The ledger's coding on the native backend: the same measurement as measureLayerBatch (src/ledger),
// bit for bit, with the per-symbol work in the addon (native/src/codec.cc). Tables are still fitted
// and serialized by the TypeScript coders from the histogram (a few dozen symbols: negligible), the
// addon counts, encodes each stream into a complete container and decodes it back to verify; the
// TypeScript coders stay the specification (test/train/native-coding.test.ts compares the bytes).
import { native, type NativeCodingJob, type NativeCodingResult } from '../tensor/native.js';
import { CODECS, type CodecName, type EntropyTable } from '../codec/codecs.js';
import { containerHead, decodeContainer, encodeContainerParts, tableFingerprint } from '../codec/container.js';
import type { SymbolArray } from '../codec/entropy.js';
import { fail } from '../codec/errors.js';
import { checkCodable, fitHuffmanTable, type HuffmanTable } from '../codec/huffman.js';
import { fitRansTable, type RansTable } from '../codec/rans.js';
import { RUN_ALPHABET, zeroRunTableFromCounts } from '../codec/zerorun.js';
import {
  batchMeasurement, checkLayerBatch, type BatchMeasurement, type CostSums, type LedgerOptions, type StaticTables,
} from '../ledger/index.js';

const descriptors = new WeakMap<EntropyTable, Uint32Array>();

/** The flat table form native/src/codec.cc reads (cached per table: static tables serve every batch). */
export function tableDescriptor(t: EntropyTable): Uint32Array {
  let d = descriptors.get(t);
  if (d) return d;
  if (t.kind === 'huffman') {
    d = new Uint32Array(4 + t.alphabetSize);
    d.set([0, t.alphabetSize, t.single + 1, t.maxLength]);
    d.set(t.encodeTable, 4);
  } else if (t.kind === 'rans') {
    d = new Uint32Array(4 + t.alphabetSize);
    d.set([1, t.alphabetSize, t.scaleBits, 0]);
    d.set(t.freq, 4);
  } else {
    const r = tableDescriptor(t.runs), l = tableDescriptor(t.literals);
    d = new Uint32Array(4 + r.length + l.length);
    d.set([2, t.alphabetSize, 0, 0]);
    d.set(r, 4);
    d.set(l, 4 + r.length);
  }
  descriptors.set(t, d);
  return d;
}

function checkTableCodes(t: EntropyTable, counts: ArrayLike<number>, runCounts: ArrayLike<number>): void {
  // The messages of the TypeScript encoders, which check the same before coding.
  const inner = (x: HuffmanTable | RansTable, c: ArrayLike<number>) => {
    if (x.kind === 'huffman') checkCodable(c, x.single >= 0 ? (s) => s === x.single : (s) => x.lengths[s] !== 0, 'huffmanEncode');
    else checkCodable(c, (s) => x.freq[s] !== 0, 'ransEncode');
  };
  if (t.kind === 'zerorun') {
    inner(t.runs, runCounts);
    inner(t.literals, Array.prototype.slice.call(counts, 1));
  } else inner(t, counts);
}

interface Planned {
  /** Jobs for the addon, in order; `slots` says where each result goes. */
  jobs: NativeCodingJob[];
  slots: { name: CodecName; isStatic: boolean; tableBits: number }[];
  /** Constant containers (one distinct symbol), already coded and verified here. */
  fixed: { name: CodecName; isStatic: boolean; sums: CostSums }[];
  counts: Uint32Array;
}

/** Counts the symbols and prepares one job per stream measureLayerBatch would code. */
function plan(layerName: string, bits: number, symbols: SymbolArray, staticTable: StaticTables | undefined, options: LedgerOptions): Planned {
  const codecs = checkLayerBatch(layerName, bits, staticTable, options);
  const alphabetSize = 2 ** bits, n = symbols.length;
  const range = symbols instanceof Uint8Array ? 256 : 65536;
  const zeroRuns = codecs.includes('zerorun');
  const all = native.codecStats(symbols, zeroRuns);
  for (let s = alphabetSize; s < range; s++) {
    if (all[s] !== 0) fail('symbol_outOfRange', `histogram: symbol ${s} at index ${symbols.indexOf(s)} is outside the alphabet 0…${alphabetSize - 1}`);
  }
  const counts = all.slice(0, alphabetSize);
  const runCounts = zeroRuns ? all.subarray(range, range + RUN_ALPHABET) : new Uint32Array(RUN_ALPHABET);
  const p: Planned = { jobs: [], slots: [], fixed: [], counts };
  let distinct = 0;
  for (let s = 0; s < alphabetSize && distinct < 2; s++) if (counts[s] > 0) distinct++;
  const add = (name: CodecName, table: EntropyTable, isStatic: boolean) => {
    checkTableCodes(table, counts, runCounts);
    const tableBytes = isStatic ? null : CODECS[name].writeTable(table);
    const tableLength = tableBytes ? tableBytes.length : 4;
    const head = containerHead(name, isStatic, alphabetSize, n, tableLength);
    const prefix = new Uint8Array(head.length + tableLength);
    prefix.set(head);
    if (tableBytes) prefix.set(tableBytes, head.length);
    else { const fp = tableFingerprint(table); prefix.set([fp & 0xff, (fp >>> 8) & 0xff, (fp >>> 16) & 0xff, fp >>> 24], head.length); }
    p.jobs.push({ prefix, table: tableDescriptor(table) });
    p.slots.push({ name, isStatic, tableBits: isStatic ? 0 : tableLength * 8 });
  };
  for (const name of codecs) {
    if (distinct < 2) {
      // One distinct symbol (or none): a constant container, as encodeContainerParts writes it; no payload.
      const parts = encodeContainerParts(symbols, { ...options, codec: name, alphabetSize, counts });
      const back = decodeContainer(parts.bytes, { maxElements: Math.max(n, 1) });
      if (back.length !== n || (n > 0 && back[0] !== symbols[0])) throw new Error(`ledger: ${name} round trip failed on layer '${layerName}' (a codec bug; please report it)`);
      p.fixed.push({ name, isStatic: false, sums: { payload: parts.payloadBytes * 8, table: parts.tableBytes * 8, container: parts.bytes.length * 8 } });
      continue;
    }
    if (name === 'huffman') add(name, fitHuffmanTable(counts, { maxLength: options.maxCodeLength }), false);
    else if (name === 'rans') add(name, fitRansTable(counts, { scaleBits: options.scaleBits }), false);
    else {
      const literals = alphabetSize > 1 ? counts.subarray(1) : new Uint32Array(1);
      add(name, zeroRunTableFromCounts(runCounts, literals, alphabetSize, { inner: options.zeroRunInner, maxLength: options.maxCodeLength, scaleBits: options.scaleBits }), false);
    }
  }
  if (staticTable) for (const name of codecs) { const t = staticTable.tables[name]; if (t) add(name, t, true); }
  return p;
}

function finish(layerName: string, bits: number, n: number, staticTable: StaticTables | undefined, options: LedgerOptions, p: Planned,
  results: NativeCodingResult[]): BatchMeasurement {
  const adaptive: Partial<Record<CodecName, CostSums>> = {};
  const stat: Partial<Record<CodecName, CostSums>> = {};
  const codecs = options.codecs ?? (['huffman', 'rans', 'zerorun'] as const);
  const found = new Map<string, CostSums>();
  for (const f of p.fixed) found.set(`${f.isStatic}:${f.name}`, f.sums);
  p.slots.forEach((s, k) => {
    const r = results[k]!;
    found.set(`${s.isStatic}:${s.name}`, { payload: r.payload * 8, table: s.tableBits, container: r.container * 8 });
  });
  // Same key order as measureLayerBatch (the ledger checks the codec list's order).
  for (const name of codecs) adaptive[name] = found.get(`false:${name}`);
  if (staticTable) for (const name of codecs) { const v = found.get(`true:${name}`); if (v) stat[name] = v; }
  return batchMeasurement(layerName, bits, n, p.counts, adaptive, staticTable, staticTable ? stat : undefined);
}

/** measureLayerBatch on the native coders, synchronously; the same measurement bit for bit. */
export function measureLayerBatchNative(layerName: string, bits: number, symbols: SymbolArray, staticTable: StaticTables | undefined,
  options: LedgerOptions = {}): BatchMeasurement {
  const p = plan(layerName, bits, symbols, staticTable, options);
  return finish(layerName, bits, symbols.length, staticTable, options, p, p.jobs.length ? native.codecEncode(symbols, p.jobs, false) : []);
}

/** The same with the encoding and verifying on the libuv thread pool: `symbols` must stay untouched until it settles. */
export async function measureLayerBatchNativeAsync(layerName: string, bits: number, symbols: SymbolArray, staticTable: StaticTables | undefined,
  options: LedgerOptions = {}): Promise<BatchMeasurement> {
  const p = plan(layerName, bits, symbols, staticTable, options);
  const results = p.jobs.length ? await native.codecEncodeAsync(symbols, p.jobs) : [];
  return finish(layerName, bits, symbols.length, staticTable, options, p, results);
}

/** The native coders' containers for the jobs of one batch (tests compare them with the TypeScript coders' bytes). */
export function nativeContainers(layerName: string, bits: number, symbols: SymbolArray, staticTable: StaticTables | undefined,
  options: LedgerOptions = {}): { name: CodecName; isStatic: boolean; bytes: Uint8Array }[] {
  const p = plan(layerName, bits, symbols, staticTable, options);
  const r = p.jobs.length ? native.codecEncode(symbols, p.jobs, true) : [];
  return p.slots.map((s, k) => ({ ...s, bytes: r[k]!.bytes ?? new Uint8Array(0) }));
}
