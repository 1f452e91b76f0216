// The bandwidth ledger: for named layers of quantized tensors, the bits each coder really produces (coded,
// decoded and checked), next to raw b-bit storage and the entropy bound, per layer and element-weighted
// over layers (the paper's "average bits per value"). Batches of the same layer accumulate, as the CAT
// reference measures each test batch with its own table and averages weighted by element count.
import { CODEC_NAMES, CODECS, type CodecName, type CodecOptions, type EntropyTable } from '../codec/codecs.js';
import { decodeContainer, encodeContainerParts, type ContainerParts } from '../codec/container.js';
import { crossEntropy, histogram, shannonEntropy, type SymbolArray } from '../codec/entropy.js';
import { fail } from '../codec/errors.js';

/** Tables fitted once on calibration data for one layer (they live on chip, not in the stream). */
export interface StaticTables {
  readonly bits: number;
  /** Smoothed calibration histogram (every symbol ≥ 1): the model behind the cross-entropy bound. */
  readonly counts: Float64Array;
  readonly tables: Readonly<Partial<Record<CodecName, EntropyTable>>>;
}

export interface LedgerLayerInput {
  readonly name: string;
  /** Quantizer bit width b: symbols lie in 0…2^b − 1. */
  readonly bits: number;
  readonly symbols: SymbolArray;
  readonly staticTable?: StaticTables;
}

export interface LedgerOptions extends CodecOptions {
  /** Coders to run (default all: huffman, rans, zerorun). */
  readonly codecs?: readonly CodecName[];
  /** Decode every stream and compare with the input (default true). */
  readonly verify?: boolean;
}

export interface CodecCost {
  /** Coded symbols only. */
  readonly payloadBits: number;
  /** Serialized table (0 with a static table: it is not in the stream). */
  readonly tableBits: number;
  /** Everything stored: header, table, payload and CRC. */
  readonly containerBits: number;
  /** (payload + table) / elements. */
  readonly bitsPerValue: number;
  /** payload / elements. */
  readonly bitsPerValueNoTable: number;
}

export interface StaticCosts {
  /** Σ over batches of elements × cross-entropy of the data under the calibration model. */
  readonly crossEntropyBits: number;
  readonly crossEntropyPerValue: number;
  readonly codecs: Readonly<Partial<Record<CodecName, CodecCost>>>;
}

export interface LedgerRow {
  readonly name: string;
  readonly bits: number;
  readonly batches: number;
  readonly elements: number;
  /** elements × b. */
  readonly rawBits: number;
  /** Σ over batches of elements × Shannon entropy of that batch (the adaptive bound). */
  readonly entropyBits: number;
  readonly entropyPerValue: number;
  /** Count of each symbol 0 … 2^b − 1 over all batches (what the entropy is computed from). */
  readonly histogram: readonly number[];
  /** Each batch coded with its own table (table bytes counted in bitsPerValue). */
  readonly adaptive: Readonly<Partial<Record<CodecName, CodecCost>>>;
  /** Each batch coded with the layer's calibration table, when one was given. */
  readonly static?: StaticCosts;
}

export interface LedgerTotals {
  readonly elements: number;
  readonly rawBits: number;
  /** Element-weighted mean bit width. */
  readonly rawPerValue: number;
  readonly entropyBits: number;
  readonly entropyPerValue: number;
  readonly adaptive: Readonly<Partial<Record<CodecName, CodecCost>>>;
  /** Over the layers that have static tables only (their elements are `static.elements`). */
  readonly static?: StaticCosts & { readonly elements: number };
}

export interface BandwidthLedger {
  readonly codecs: readonly CodecName[];
  readonly layers: readonly LedgerRow[];
  readonly total: LedgerTotals;
}

/** Fits static tables for every coder from calibration tensors of one layer (b-bit symbols). */
export function fitStaticTables(calibration: SymbolArray | readonly SymbolArray[], bits: number, options: LedgerOptions = {}): StaticTables {
  checkBits(bits, 'fitStaticTables');
  const parts = (Array.isArray(calibration) ? calibration : [calibration]) as readonly SymbolArray[];
  const alphabetSize = 2 ** bits;
  const counts = new Float64Array(alphabetSize).fill(1);
  for (const p of parts) {
    const h = histogram(p, alphabetSize);
    for (let s = 0; s < alphabetSize; s++) counts[s] += h[s];
  }
  const tables: Partial<Record<CodecName, EntropyTable>> = {};
  for (const name of options.codecs ?? CODEC_NAMES) tables[name] = CODECS[name].fitStatic(parts, alphabetSize, options);
  return { bits, counts, tables };
}

function checkBits(bits: number, where: string): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) fail('parameter_invalid', `${where}: bits must be an integer in 1…16, got ${bits}`);
}

export interface CostSums { payload: number; table: number; container: number }

/** LedgerAccumulator's sums as JSON (see exportState / mergeState). */
export interface LedgerState {
  codecs: CodecName[];
  layers: {
    name: string; bits: number; batches: number; elements: number; entropyBits: number; histogram?: number[]; adaptive: Partial<Record<CodecName, CostSums>>;
    staticElements: number; crossEntropyBits: number; staticCosts: Partial<Record<CodecName, CostSums>>;
  }[];
}
const newSums = (): CostSums => ({ payload: 0, table: 0, container: 0 });

function addParts(sums: CostSums, p: ContainerParts): void {
  sums.payload += p.payloadBytes * 8;
  sums.table += p.externalTable ? 0 : p.tableBytes * 8;
  sums.container += p.bytes.length * 8;
}

function toCost(s: CostSums, elements: number): CodecCost {
  const per = (x: number) => (elements > 0 ? x / elements : 0);
  return {
    payloadBits: s.payload, tableBits: s.table, containerBits: s.container,
    bitsPerValue: per(s.payload + s.table), bitsPerValueNoTable: per(s.payload),
  };
}

interface LayerState {
  name: string;
  bits: number;
  batches: number;
  elements: number;
  entropyBits: number;
  histogram: Float64Array;
  adaptive: Map<CodecName, CostSums>;
  staticElements: number;
  crossEntropyBits: number;
  staticCosts: Map<CodecName, CostSums>;
}

function sameSymbols(a: SymbolArray, b: SymbolArray): boolean {
  if (a.length !== b.length || a.BYTES_PER_ELEMENT !== b.BYTES_PER_ELEMENT) return false;
  // Four bytes at a time where both are 4-byte aligned (the usual case: fresh arrays), then the tail.
  const bytes = a.length * a.BYTES_PER_ELEMENT;
  let i = 0;
  if ((a.byteOffset & 3) === 0 && (b.byteOffset & 3) === 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset, bytes >>> 2), wb = new Uint32Array(b.buffer, b.byteOffset, bytes >>> 2);
    for (let k = 0; k < wa.length; k++) if (wa[k] !== wb[k]) return false;
    i = (wa.length * 4) / a.BYTES_PER_ELEMENT;
  }
  for (; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What one batch of one layer costs, before it is summed into a ledger (plain data: it crosses threads). */
export interface BatchMeasurement {
  readonly layer: string;
  readonly bits: number;
  readonly elements: number;
  /** elements × Shannon entropy of this batch. */
  readonly entropyBits: number;
  /** The batch's histogram over the 2^bits symbols. */
  readonly counts: Uint32Array;
  /** Symbols equal to 0 (ReLU sparsity), from the same histogram. */
  readonly zeros: number;
  /** Bits of each coder with the batch's own table. */
  readonly adaptive: Partial<Record<CodecName, CostSums>>;
  /** With the layer's static tables, when given. */
  readonly static?: { readonly crossEntropyBits: number; readonly codecs: Partial<Record<CodecName, CostSums>> };
}

/**
 * Codes one batch of one layer with every coder of `options` (adaptive tables, and the static ones
 * when given), decoding each stream to check it unless `verify` is false. One histogram serves the
 * entropy, the zero count and every coder. Pure: safe to run in a worker thread.
 */
export function measureLayerBatch(layerName: string, bits: number, symbols: SymbolArray, staticTable: StaticTables | undefined,
  options: LedgerOptions = {}): BatchMeasurement {
  const codecs = checkLayerBatch(layerName, bits, staticTable, options);
  const alphabetSize = 2 ** bits, n = symbols.length;
  const counts = histogram(symbols, alphabetSize);  // rejects symbols ≥ 2^bits, naming the first
  const verify = options.verify ?? true;
  const code = (name: CodecName, table?: EntropyTable): CostSums => {
    const parts = encodeContainerParts(symbols, { ...options, codec: name, alphabetSize, staticTable: table, counts });
    if (verify && !sameSymbols(decodeContainer(parts.bytes, { staticTable: table, maxElements: Math.max(n, 1) }), symbols)) {
      throw new Error(`ledger: ${name} round trip failed on layer '${layerName}' (a codec bug; please report it)`);
    }
    const s = newSums();
    addParts(s, parts);
    return s;
  };
  const adaptive: Partial<Record<CodecName, CostSums>> = {};
  for (const name of codecs) adaptive[name] = code(name);
  let sc: Partial<Record<CodecName, CostSums>> | undefined;
  if (staticTable) {
    sc = {};
    for (const name of codecs) {
      const t = staticTable.tables[name];
      if (t) sc[name] = code(name, t);
    }
  }
  return batchMeasurement(layerName, bits, n, counts, adaptive, staticTable, sc);
}

/** Checks a batch's layer, bit width, coder names and static tables, as measureLayerBatch does (for other coding backends). */
export function checkLayerBatch(layerName: string, bits: number, staticTable: StaticTables | undefined, options: LedgerOptions): readonly CodecName[] {
  checkBits(bits, `ledger layer '${layerName}'`);
  const codecs = options.codecs ?? CODEC_NAMES;
  for (const c of codecs) if (!CODEC_NAMES.includes(c)) fail('parameter_invalid', `ledger: unknown codec '${c}' (expected ${CODEC_NAMES.join(', ')})`);
  if (staticTable && staticTable.bits !== bits) fail('parameter_invalid', `ledger layer '${layerName}': static tables are for ${staticTable.bits} bits, layer has ${bits}`);
  return codecs;
}

/** A batch's measurement from its histogram and the coders' sizes (shared by every coding backend, so the floating-point numbers agree). */
export function batchMeasurement(layer: string, bits: number, n: number, counts: Uint32Array, adaptive: Partial<Record<CodecName, CostSums>>,
  staticTable: StaticTables | undefined, staticCodecs: Partial<Record<CodecName, CostSums>> | undefined): BatchMeasurement {
  const stat = staticTable && staticCodecs ? { crossEntropyBits: n * crossEntropy(counts, staticTable.counts), codecs: staticCodecs } : undefined;
  return {
    layer, bits, elements: n, entropyBits: n * shannonEntropy(counts), counts, zeros: n > 0 ? counts[0]! : 0, adaptive,
    ...(stat ? { static: stat } : {}),
  };
}

/** Accumulates batches per layer; `finish()` produces the ledger. Layers keep the order of their first batch. */
export class LedgerAccumulator {
  private readonly layers = new Map<string, LayerState>();
  private readonly codecs: readonly CodecName[];

  constructor(private readonly options: LedgerOptions = {}) {
    this.codecs = options.codecs ?? CODEC_NAMES;
    for (const c of this.codecs) if (!CODEC_NAMES.includes(c)) fail('parameter_invalid', `ledger: unknown codec '${c}' (expected ${CODEC_NAMES.join(', ')})`);
  }

  /** Codes one batch of a layer with every coder (and with its static tables, if given). */
  add(layerName: string, bits: number, symbols: SymbolArray, staticTable?: StaticTables): this {
    const st = this.layer(layerName, bits);
    return this.recordInto(st, measureLayerBatch(layerName, bits, symbols, staticTable, this.options));
  }

  /**
   * Adds a batch measured elsewhere (by `measureLayerBatch` with this accumulator's options, e.g. in a
   * worker thread). Recording the measurements in the order `add` would have seen the batches gives
   * the same ledger bit for bit: the coding is pure, and only the floating-point sums depend on order.
   */
  record(m: BatchMeasurement): this {
    const want = this.codecs.join(), got = Object.keys(m.adaptive).join();
    if (got !== want) fail('parameter_invalid', `ledger layer '${m.layer}': measurement has codecs ${got}, this ledger runs ${want}`);
    return this.recordInto(this.layer(m.layer, m.bits), m);
  }

  private layer(layerName: string, bits: number): LayerState {
    checkBits(bits, `ledger layer '${layerName}'`);
    let st = this.layers.get(layerName);
    if (!st) {
      st = { name: layerName, bits, batches: 0, elements: 0, entropyBits: 0, histogram: new Float64Array(2 ** bits), adaptive: new Map(), staticElements: 0, crossEntropyBits: 0, staticCosts: new Map() };
      this.layers.set(layerName, st);
    } else if (st.bits !== bits) {
      fail('parameter_invalid', `ledger layer '${layerName}': batch has ${bits} bits, earlier batches had ${st.bits}`);
    }
    return st;
  }

  private recordInto(st: LayerState, m: BatchMeasurement): this {
    const addTo = (sums: Map<CodecName, CostSums>, from: Partial<Record<CodecName, CostSums>>) => {
      for (const name of this.codecs) {
        const v = from[name];
        if (!v) continue;
        let s = sums.get(name);
        if (!s) sums.set(name, (s = newSums()));
        s.payload += v.payload; s.table += v.table; s.container += v.container;
      }
    };
    st.batches++;
    st.elements += m.elements;
    st.entropyBits += m.entropyBits;
    for (let k = 0; k < m.counts.length; k++) st.histogram[k] += m.counts[k];
    addTo(st.adaptive, m.adaptive);
    if (m.static) {
      st.staticElements += m.elements;
      st.crossEntropyBits += m.static.crossEntropyBits;
      addTo(st.staticCosts, m.static.codecs);
    }
    return this;
  }

  /** The accumulated sums as plain JSON, so shards of a data-parallel evaluation can be combined. */
  exportState(): LedgerState {
    const sums = (m: Map<CodecName, CostSums>) => Object.fromEntries([...m].map(([k, v]) => [k, { ...v }])) as Partial<Record<CodecName, CostSums>>;
    return {
      codecs: [...this.codecs],
      layers: [...this.layers.values()].map((st) => ({
        name: st.name, bits: st.bits, batches: st.batches, elements: st.elements, entropyBits: st.entropyBits, histogram: [...st.histogram], adaptive: sums(st.adaptive),
        staticElements: st.staticElements, crossEntropyBits: st.crossEntropyBits, staticCosts: sums(st.staticCosts),
      })),
    };
  }

  /** Adds the sums of another accumulator (same codecs); layers new here are appended in the order given. */
  mergeState(state: LedgerState): this {
    if (state.codecs.join() !== this.codecs.join()) fail('parameter_invalid', `ledger merge: codecs ${state.codecs.join(', ')} differ from ${this.codecs.join(', ')}`);
    const addSums = (into: Map<CodecName, CostSums>, from: Partial<Record<CodecName, CostSums>>) => {
      for (const [k, v] of Object.entries(from) as [CodecName, CostSums][]) {
        const t = into.get(k) ?? newSums();
        t.payload += v.payload; t.table += v.table; t.container += v.container;
        into.set(k, t);
      }
    };
    for (const l of state.layers) {
      let st = this.layers.get(l.name);
      if (!st) {
        st = { name: l.name, bits: l.bits, batches: 0, elements: 0, entropyBits: 0, histogram: new Float64Array(2 ** l.bits), adaptive: new Map(), staticElements: 0, crossEntropyBits: 0, staticCosts: new Map() };
        this.layers.set(l.name, st);
      } else if (st.bits !== l.bits) {
        fail('parameter_invalid', `ledger merge: layer '${l.name}' has ${l.bits} bits here and ${st.bits} bits there`);
      }
      st.batches += l.batches; st.elements += l.elements; st.entropyBits += l.entropyBits;
      (l.histogram ?? []).forEach((c, k) => { if (k < st!.histogram.length) st!.histogram[k] += c; });
      st.staticElements += l.staticElements; st.crossEntropyBits += l.crossEntropyBits;
      addSums(st.adaptive, l.adaptive);
      addSums(st.staticCosts, l.staticCosts);
    }
    return this;
  }

  finish(): BandwidthLedger {
    const per = (x: number, n: number) => (n > 0 ? x / n : 0);
    const layers: LedgerRow[] = [];
    const totAdaptive = new Map<CodecName, CostSums>(), totStatic = new Map<CodecName, CostSums>();
    let elements = 0, rawBits = 0, entropyBits = 0, staticElements = 0, crossBits = 0;
    const fold = (into: Map<CodecName, CostSums>, from: Map<CodecName, CostSums>) => {
      for (const [k, v] of from) {
        const t = into.get(k) ?? newSums();
        t.payload += v.payload; t.table += v.table; t.container += v.container;
        into.set(k, t);
      }
    };
    const costs = (m: Map<CodecName, CostSums>, n: number) => {
      const out: Partial<Record<CodecName, CodecCost>> = {};
      for (const c of this.codecs) { const s = m.get(c); if (s) out[c] = toCost(s, n); }
      return out;
    };
    for (const st of this.layers.values()) {
      layers.push({
        name: st.name, bits: st.bits, batches: st.batches, elements: st.elements, rawBits: st.elements * st.bits,
        entropyBits: st.entropyBits, entropyPerValue: per(st.entropyBits, st.elements), histogram: [...st.histogram],
        adaptive: costs(st.adaptive, st.elements),
        ...(st.staticCosts.size > 0 || st.staticElements > 0
          ? { static: { crossEntropyBits: st.crossEntropyBits, crossEntropyPerValue: per(st.crossEntropyBits, st.staticElements), codecs: costs(st.staticCosts, st.staticElements) } }
          : {}),
      });
      elements += st.elements; rawBits += st.elements * st.bits; entropyBits += st.entropyBits;
      staticElements += st.staticElements; crossBits += st.crossEntropyBits;
      fold(totAdaptive, st.adaptive);
      fold(totStatic, st.staticCosts);
    }
    return {
      codecs: [...this.codecs],
      layers,
      total: {
        elements, rawBits, rawPerValue: per(rawBits, elements), entropyBits, entropyPerValue: per(entropyBits, elements),
        adaptive: costs(totAdaptive, elements),
        ...(staticElements > 0
          ? { static: { elements: staticElements, crossEntropyBits: crossBits, crossEntropyPerValue: per(crossBits, staticElements), codecs: costs(totStatic, staticElements) } }
          : {}),
      },
    };
  }
}

/** The ledger for one batch per layer (entries with the same name accumulate). */
export function buildLedger(layers: readonly LedgerLayerInput[], options: LedgerOptions = {}): BandwidthLedger {
  const acc = new LedgerAccumulator(options);
  for (const l of layers) acc.add(l.name, l.bits, l.symbols, l.staticTable);
  return acc.finish();
}

/** JSON text of the ledger (non-finite numbers, e.g. an infinite cross-entropy, become null). */
export function ledgerToJSON(ledger: BandwidthLedger, space?: number): string {
  return JSON.stringify(ledger, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), space);
}
