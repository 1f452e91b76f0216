// Evaluation in bits: every quantized activation tensor of the test set is entropy-coded for real
// through the bandwidth ledger (adaptive per-batch tables as the reference measures, and static
// per-layer tables fitted on the held-out calibration split), and so are the quantized weights.
import { tidy } from '../tensor/index.js';
import type { AnyModule } from '../nn/index.js';
import type { BatchSource } from '../data/index.js';
import type { DistributedContext } from '../distributed/index.js';
import { LedgerAccumulator, fitStaticTables, type BandwidthLedger, type LedgerState, type StaticTables } from '../ledger/index.js';
import { histogram, shannonEntropy, type SymbolArray } from '../codec/entropy.js';
import { convLayers, quantizationCodes, toCodeArray, type Cat } from '../method/index.js';
import { evaluateAccuracy, type Accuracy } from './evaluate.js';
import type { Progress } from './progress.js';

export interface LayerBits {
  name: string;
  /** Quantizer bit width b. */
  bits: number;
  numel: number;
  entropy: number; huffman: number; rans: number; zerorun: number;
  zeroFraction: number;
  /** Count of each code 0 … 2^b − 1 over the coded test batches. */
  histogram: number[];
}

export interface BandwidthReport {
  accuracy: Accuracy;
  /** Element-weighted over layers, adaptive per-batch tables (table bytes included). */
  bitsPerValue: { entropy: number; huffman: number; rans: number; zerorun: number };
  /** Same, with tables fitted once per layer on calibration data (not in the stream). */
  staticBitsPerValue: { crossEntropy: number; huffman: number; rans: number; zerorun: number } | null;
  layers: LayerBits[];
  /** Batches of the test set whose activations were coded. */
  codedBatches: number;
  /** Images in those batches. */
  codedImages: number;
  ledger: BandwidthLedger;
}

export interface BandwidthOptions {
  /** Code the activations of at most this many test batches (accuracy always uses all). */
  maxBatches?: number;
  /** Calibration batches for the static tables. */
  calibrationBatches?: number;
  /**
   * Data-parallel: the test batches are shared out by whole batches and the ledgers, zero counts
   * and accuracy are summed across ranks, so every rank returns the single-process report. The
   * static tables are fitted by every rank on the same calibration batches.
   */
  dist?: DistributedContext;
  /** Batches coded so far, with an ETA (coding is the slow part of an evaluation). */
  progress?: Progress;
}

/**
 * Runs `source` through the CAT model, handing each site's integer codes of the first
 * `codedBatches` batches to `sink` (later batches only count for accuracy and compute no codes);
 * `onCoded` hears this process's coded batches and images so far.
 */
async function collectCodes(cat: Cat, source: BatchSource, sink: (site: string, codes: SymbolArray, bits: number) => void,
  codedBatches: number, evaluatedBatches = Infinity, dist?: DistributedContext, onCoded?: (batches: number, images: number) => void): Promise<Accuracy> {
  let batches = 0, images = 0;
  return evaluateAccuracy(cat.model, source, {
    maxBatches: evaluatedBatches, dist,
    forward: (x, batch) => {
      if (batch >= codedBatches) return cat.model.forward(x);
      const { output, rate } = cat.forward(x, { codes: true, terms: false });
      for (const r of rate.sites) if (r.codes) sink(r.site, toCodeArray(r.codes, r.bits), r.bits);
      return output;
    },
    onBatch: (batch, n) => { if (batch < codedBatches) { images += n; onCoded?.(++batches, images); } },
  });
}

/**
 * The activation side of the bandwidth ledger for a task with its own evaluation loop (detection):
 * sites' integer codes go in batch by batch (adaptive per-batch tables, as the reference measures;
 * static per-layer tables when calibration codes came first), zero fractions are counted, and
 * finish() gives per-layer and element-weighted bits per value, as evaluateBandwidth does.
 */
export class ActivationMeter {
  readonly #calib = new Map<string, { bits: number; parts: SymbolArray[] }>();
  #tables: Map<string, StaticTables> | null = null;
  readonly #acc = new LedgerAccumulator();
  readonly #zeros = new Map<string, { zero: number; n: number }>();

  /** Codes of held-out data for the static tables; all of them come before the first add(). */
  calibrate(site: string, codes: SymbolArray, bits: number): void {
    if (this.#tables) throw new Error('ActivationMeter: calibrate() after add()');
    let e = this.#calib.get(site);
    if (!e) this.#calib.set(site, (e = { bits, parts: [] }));
    e.parts.push(codes);
  }

  add(site: string, codes: SymbolArray, bits: number): void {
    if (!this.#tables) {
      this.#tables = new Map();
      for (const [name, e] of this.#calib) this.#tables.set(name, fitStaticTables(e.parts, e.bits));
    }
    this.#acc.add(site, bits, codes, this.#tables.get(site));
    const z = this.#zeros.get(site) ?? { zero: 0, n: 0 };
    for (let i = 0; i < codes.length; i++) if (codes[i] === 0) z.zero++;
    z.n += codes.length;
    this.#zeros.set(site, z);
  }

  finish(): Pick<BandwidthReport, 'bitsPerValue' | 'staticBitsPerValue' | 'layers' | 'ledger'> {
    const zeros = this.#zeros;
    const ledger = this.#acc.finish();
    const per = (c: { bitsPerValue: number } | undefined) => c?.bitsPerValue ?? NaN;
    const layers = ledger.layers.map((r) => ({
      name: r.name, bits: r.bits, numel: r.elements, histogram: [...r.histogram], entropy: r.entropyPerValue, huffman: per(r.adaptive.huffman), rans: per(r.adaptive.rans),
      zerorun: per(r.adaptive.zerorun), zeroFraction: (zeros.get(r.name)?.zero ?? 0) / Math.max(1, zeros.get(r.name)?.n ?? 0),
    }));
    const t = ledger.total;
    return {
      bitsPerValue: { entropy: t.entropyPerValue, huffman: per(t.adaptive.huffman), rans: per(t.adaptive.rans), zerorun: per(t.adaptive.zerorun) },
      staticBitsPerValue: t.static
        ? { crossEntropy: t.static.crossEntropyPerValue, huffman: per(t.static.codecs.huffman), rans: per(t.static.codecs.rans), zerorun: per(t.static.codecs.zerorun) }
        : null,
      layers, ledger,
    };
  }
}

export async function evaluateBandwidth(cat: Cat, test: BatchSource, calibration: BatchSource,
  o: BandwidthOptions = {}): Promise<BandwidthReport> {
  // Static tables: one per layer, from the calibration split.
  const calib = new Map<string, { bits: number; parts: SymbolArray[] }>();
  await collectCodes(cat, calibration, (site, codes, bits) => {
    let e = calib.get(site);
    if (!e) calib.set(site, (e = { bits, parts: [] }));
    e.parts.push(codes);
  }, o.calibrationBatches ?? 8, o.calibrationBatches ?? 8);
  const tables = new Map<string, StaticTables>();
  for (const [site, e] of calib) tables.set(site, fitStaticTables(e.parts, e.bits));

  const acc = new LedgerAccumulator();
  const zeros = new Map<string, { zero: number; n: number }>();
  const maxBatches = o.maxBatches ?? Infinity;
  const toCode = Math.min(maxBatches, test.numBatches);
  let codedImages = 0;
  o.progress?.start('coding test activations', toCode);
  const t0 = performance.now();
  const accuracy = await collectCodes(cat, test, (site, codes, bits) => {
    acc.add(site, bits, codes, tables.get(site));
    const z = zeros.get(site) ?? { zero: 0, n: 0 };
    for (let i = 0; i < codes.length; i++) if (codes[i] === 0) z.zero++;
    z.n += codes.length;
    zeros.set(site, z);
  }, maxBatches, Infinity, o.dist, (batches, images) => {
    codedImages = images;
    o.progress?.update(batches, { images: String(images) });
  });
  const coded = Math.min(maxBatches, test.numBatches);
  if (o.dist) codedImages = (await o.dist.allgatherJson<number>(codedImages)).reduce((a, b) => a + b, 0);
  o.progress?.stop(`coded ${coded} test batches (${codedImages} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const ledger = o.dist ? await mergeShards(o.dist, acc, zeros) : acc.finish();
  const per = (c: { bitsPerValue: number } | undefined) => c?.bitsPerValue ?? NaN;
  const layers = ledger.layers.map((r) => ({
    name: r.name, bits: r.bits, numel: r.elements, histogram: [...r.histogram], entropy: r.entropyPerValue, huffman: per(r.adaptive.huffman), rans: per(r.adaptive.rans),
    zerorun: per(r.adaptive.zerorun), zeroFraction: (zeros.get(r.name)?.zero ?? 0) / Math.max(1, zeros.get(r.name)?.n ?? 0),
  }));
  const t = ledger.total;
  return {
    accuracy,
    bitsPerValue: { entropy: t.entropyPerValue, huffman: per(t.adaptive.huffman), rans: per(t.adaptive.rans), zerorun: per(t.adaptive.zerorun) },
    staticBitsPerValue: t.static
      ? { crossEntropy: t.static.crossEntropyPerValue, huffman: per(t.static.codecs.huffman), rans: per(t.static.codecs.rans), zerorun: per(t.static.codecs.zerorun) }
      : null,
    layers, codedBatches: coded, codedImages, ledger,
  };
}

export interface WeightBits {
  bits: number;
  /** Element-weighted Shannon entropy of the b-bit weight codes over conv layers. */
  entropy: number;
  /** Bytes of the coded weights (tables included) for each coder, and raw b-bit bytes. */
  huffmanBytes: number;
  ransBytes: number;
  rawBytes: number;
  numel: number;
  layers: { name: string; numel: number; entropy: number }[];
}

/** Entropy and real coded size of every conv's b-bit weight codes (per-tensor min/max grid). */
export function weightBandwidth(model: AnyModule, bits: number): WeightBits {
  const acc = new LedgerAccumulator({ codecs: ['huffman', 'rans'] });
  const layers: WeightBits['layers'] = [];
  for (const [name, conv] of convLayers(model)) {
    const codes = tidy(() => {
      const w = conv.param('weight');
      const q = quantizationCodes(w, bits, { min: w.min(), max: w.max() });
      return q ? toCodeArray(q, bits) : new Uint8Array(w.size);
    });
    acc.add(name, bits, codes);
    layers.push({ name, numel: codes.length, entropy: shannonEntropy(histogram(codes, 1 << bits)) });
  }
  const t = acc.finish().total;
  return {
    bits, entropy: t.entropyPerValue, numel: t.elements, rawBytes: (t.elements * bits) / 8,
    huffmanBytes: ((t.adaptive.huffman?.bitsPerValue ?? NaN) * t.elements) / 8,
    ransBytes: ((t.adaptive.rans?.bitsPerValue ?? NaN) * t.elements) / 8,
    layers,
  };
}

/** Sums every rank's ledger and zero counts (in rank order) into this rank's `zeros` and the returned ledger. */
async function mergeShards(dist: DistributedContext, acc: LedgerAccumulator, zeros: Map<string, { zero: number; n: number }>): Promise<BandwidthLedger> {
  const all = await dist.allgatherJson<{ ledger: LedgerState; zeros: [string, { zero: number; n: number }][] }>({ ledger: acc.exportState(), zeros: [...zeros] });
  const merged = new LedgerAccumulator();
  zeros.clear();
  for (const part of all) {
    merged.mergeState(part.ledger);
    for (const [site, z] of part.zeros) {
      const t = zeros.get(site) ?? { zero: 0, n: 0 };
      t.zero += z.zero; t.n += z.n;
      zeros.set(site, t);
    }
  }
  return merged.finish();
}
