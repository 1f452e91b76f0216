// Evaluation in bits: every quantized activation tensor of the test set is entropy-coded for real
// through the bandwidth ledger (adaptive per-batch tables as the reference measures, and static
// per-layer tables fitted on the held-out calibration split), and so are the quantized weights.
import { tidy } from '../tensor/index.js';
import type { AnyModule } from '../nn/index.js';
import type { BatchSource } from '../data/index.js';
import type { DistributedContext } from '../distributed/index.js';
import { LedgerAccumulator, fitStaticTables, type BandwidthLedger, type LedgerState, type StaticTables } from '../ledger/index.js';
import { histogram, shannonEntropy, type SymbolArray } from '../codec/entropy.js';
import { convLayers, toCodeArray, weightCodes, type Cat } from '../method/index.js';
import { evaluateAccuracy, type Accuracy } from './evaluate.js';
import { CodingPool } from './coding-pool.js';
import type { Progress } from './progress.js';
import { mulberry32 } from '../data/random.js';
import { availableParallelism } from 'node:os';

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
  /** Images whose activations were coded (with codeFraction < 1: the sampled ones). */
  codedImages: number;
  ledger: BandwidthLedger;
  /** Present when only a share of each batch's images was coded (codeFraction < 1): the bits/value above are estimates. */
  sampling?: CodingSample | null;
}

/** How a sampled coding was drawn and how far its bits/value can be from the full coding's. */
export interface CodingSample {
  fraction: number;
  /** Images coded out of the images of the coded batches. */
  images: number;
  ofImages: number;
  /**
   * 95 % confidence interval of each adaptive bits/value (normal approximation over the coded batches'
   * ratio estimates, batches as clusters: conservative, as it also counts batch-to-batch differences).
   */
  ci95: Record<'entropy' | 'huffman' | 'rans' | 'zerorun', [number, number]>;
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
  /**
   * Worker threads that code and verify the feature maps while the next batch runs forward
   * (default: available cores − 1, at least 1; 0 codes on the main thread). The ledger is the same
   * bit for bit whatever the count.
   */
  codingWorkers?: number;
  /**
   * 'native' (default): the addon's coders, byte-identical to src/codec's TypeScript coders and many times
   * faster, on the libuv thread pool with at most `codingWorkers` batches in flight (0: on the main
   * thread); 'typescript': src/codec's coders in `codingWorkers` worker threads. Same ledger bit for bit.
   */
  codingBackend?: 'native' | 'typescript';
  /** Bound on the code bytes waiting for the coders; the forwards pause when it is reached (default 256 MiB). */
  maxPendingBytes?: number;
  /**
   * Code this share of each batch's images, 0 < f ≤ 1 (default 1: every value): ⌈f·B⌉ images per batch
   * at a stride with a seeded random offset; the report's `sampling` states the confidence interval.
   */
  codeFraction?: number;
  /** Seed of the sampled images' offsets (default 0). */
  sampleSeed?: number;
}

/** The images a sampled coding takes from a batch of `n`: ⌈f·n⌉ at stride n/k from a random offset. */
export function sampledImages(n: number, fraction: number, rng: () => number): number[] {
  const k = Math.min(n, Math.max(1, Math.ceil(fraction * n)));
  if (k === n) return Array.from({ length: n }, (_, i) => i);
  const stride = n / k, offset = rng() * stride;
  return Array.from({ length: k }, (_, j) => Math.min(n - 1, Math.floor(offset + j * stride)));
}

/** The codes of images `images` of a batch whose codes are `all` (batch-major, `n` images). */
function pickImages(all: SymbolArray, n: number, images: number[]): SymbolArray {
  if (images.length === n) return all;
  const per = all.length / n;
  const out = all instanceof Uint8Array ? new Uint8Array(per * images.length) : new Uint16Array(per * images.length);
  images.forEach((img, j) => out.set(all.subarray(img * per, (img + 1) * per), j * per));
  return out;
}

/**
 * Runs `source` through the CAT model, handing each site's integer codes of the first
 * `codedBatches` batches to `sink` (later batches only count for accuracy and compute no codes);
 * `afterBatch` is awaited after each batch (backpressure from the coders); `onCoded` hears this
 * process's coded batches and images so far.
 */
async function collectCodes(cat: Cat, source: BatchSource, sink: (site: string, codes: SymbolArray, bits: number, batch: number, images: number) => void,
  codedBatches: number, evaluatedBatches = Infinity, dist?: DistributedContext, afterBatch?: () => Promise<void>,
  onCoded?: (batches: number, images: number) => void): Promise<Accuracy> {
  let batches = 0, images = 0;
  return evaluateAccuracy(cat.model, source, {
    maxBatches: evaluatedBatches, dist, afterBatch,
    onBatch: (batch, n) => { if (batch < codedBatches) { images += n; onCoded?.(++batches, images); } },
    forward: (x, batch) => {
      if (batch >= codedBatches) return cat.model.forward(x);
      const { output, rate } = cat.forward(x, { codes: true, terms: false });
      for (const r of rate.sites) if (r.codes) sink(r.site, toCodeArray(r.codes, r.bits), r.bits, batch, x.shape[0]!);
      return output;
    },
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

  finish(): LedgerBits {
    return ledgerBits(this.#acc.finish(), this.#zeros);
  }
}

type LedgerBits = Pick<BandwidthReport, 'bitsPerValue' | 'staticBitsPerValue' | 'layers' | 'ledger'>;

/** The report's view of a finished ledger: per-layer and element-weighted bits per value, zero fractions. */
function ledgerBits(ledger: BandwidthLedger, zeros: Map<string, { zero: number; n: number }>): LedgerBits {
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

/** Static tables per layer from the first `batches` batches of the calibration split. */
export async function fitBandwidthTables(cat: Cat, calibration: BatchSource, batches = 8): Promise<Map<string, StaticTables>> {
  const calib = new Map<string, { bits: number; parts: SymbolArray[] }>();
  await collectCodes(cat, calibration, (site, codes, bits) => {
    let e = calib.get(site);
    if (!e) calib.set(site, (e = { bits, parts: [] }));
    e.parts.push(codes);
  }, batches, batches);
  const tables = new Map<string, StaticTables>();
  for (const [site, e] of calib) tables.set(site, fitStaticTables(e.parts, e.bits));
  return tables;
}

export async function evaluateBandwidth(cat: Cat, test: BatchSource, calibration: BatchSource,
  o: BandwidthOptions = {}): Promise<BandwidthReport> {
  const tables = await fitBandwidthTables(cat, calibration, o.calibrationBatches ?? 8);
  return codedEvaluation(cat, test, tables, o);
}

/** Per-batch sums for the sampling confidence interval. */
interface BatchSums { elements: number; bits: Record<'entropy' | 'huffman' | 'rans' | 'zerorun', number> }

/** The test pass of evaluateBandwidth with given static tables: accuracy over every batch, codes of the first maxBatches through the ledger. */
export async function codedEvaluation(cat: Cat, test: BatchSource, tables: ReadonlyMap<string, StaticTables>,
  o: BandwidthOptions = {}): Promise<BandwidthReport> {
  const fraction = o.codeFraction ?? 1;
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`codeFraction must be in (0, 1], got ${fraction}`);
  const acc = new LedgerAccumulator();
  const zeros = new Map<string, { zero: number; n: number }>();
  const perBatch = new Map<number, BatchSums>();
  const batchOf: number[] = [];
  let measured = 0, images = 0, ofImages = 0;
  const pool = new CodingPool({
    workers: o.codingWorkers ?? Math.max(1, availableParallelism() - 1), tables, maxPendingBytes: o.maxPendingBytes, backend: o.codingBackend ?? 'native',
  }, (m) => {
    acc.record(m);
    const z = zeros.get(m.layer) ?? { zero: 0, n: 0 };
    z.zero += m.zeros;
    z.n += m.elements;
    zeros.set(m.layer, z);
    if (fraction < 1) {
      const b = batchOf[measured]!;
      const t = perBatch.get(b) ?? { elements: 0, bits: { entropy: 0, huffman: 0, rans: 0, zerorun: 0 } };
      t.elements += m.elements;
      t.bits.entropy += m.entropyBits;
      for (const c of ['huffman', 'rans', 'zerorun'] as const) { const v = m.adaptive[c]; if (v) t.bits[c] += v.payload + v.table; }
      perBatch.set(b, t);
    }
    measured++;
  });
  const maxBatches = o.maxBatches ?? Infinity;
  const toCode = Math.min(maxBatches, test.numBatches);
  let codedImages = 0;
  o.progress?.start('coding test activations', toCode);
  const t0 = performance.now();
  const rng = mulberry32(o.sampleSeed ?? 0);
  let lastBatch = -1, picked: number[] = [];
  let accuracy: Accuracy;
  try {
    accuracy = await collectCodes(cat, test, (site, codes, bits, batch, n) => {
      if (fraction < 1) {
        if (codes.length % n !== 0) throw new Error(`codeFraction: site '${site}' of batch ${batch} has ${codes.length} codes, not a multiple of the batch's ${n} images`);
        if (batch !== lastBatch) {
          lastBatch = batch;
          picked = sampledImages(n, fraction, rng);
          images += picked.length; ofImages += n;
        }
        codes = pickImages(codes, n, picked);
      }
      batchOf.push(batch);
      pool.submit(site, bits, codes);
    }, maxBatches, Infinity, o.dist, () => pool.ready(), (batches, n) => {
      codedImages = n;
      o.progress?.update(batches, { images: String(n) });
    });
    await pool.drain();
  } finally { await pool.close(); }
  const coded = toCode;
  // Sampled: the ledger holds only the sampled images, so they are what bytes per image divide by.
  if (fraction < 1) codedImages = images;
  if (o.dist) codedImages = (await o.dist.allgatherJson<number>(codedImages)).reduce((a, b) => a + b, 0);
  o.progress?.stop(`coded ${coded} test batches (${codedImages} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const ledger = o.dist ? await mergeShards(o.dist, acc, zeros) : acc.finish();
  return {
    accuracy,
    ...ledgerBits(ledger, zeros),
    codedBatches: coded, codedImages,
    sampling: fraction < 1 ? { fraction, images, ofImages, ci95: confidenceIntervals([...perBatch.values()]) } : null,
  };
}

/** Ratio estimates Σ bits / Σ elements with a 95 % normal interval over batches (clusters). */
export function confidenceIntervals(batches: BatchSums[]): CodingSample['ci95'] {
  const m = batches.length;
  const totalN = batches.reduce((a, b) => a + b.elements, 0);
  const meanN = totalN / Math.max(1, m);
  const out = {} as CodingSample['ci95'];
  for (const k of ['entropy', 'huffman', 'rans', 'zerorun'] as const) {
    const r = batches.reduce((a, b) => a + b.bits[k], 0) / Math.max(1, totalN);
    let ss = 0;
    for (const b of batches) ss += ((b.bits[k] - r * b.elements) / meanN) ** 2;
    const se = m > 1 ? Math.sqrt(ss / (m * (m - 1))) : Infinity;
    out[k] = [r - 1.96 * se, r + 1.96 * se];
  }
  return out;
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

/** Entropy and real coded size of every conv's b-bit weight codes (per-tensor min/max grid, the codes QuantConv2d computes with). */
export function weightBandwidth(model: AnyModule, bits: number): WeightBits {
  const acc = new LedgerAccumulator({ codecs: ['huffman', 'rans'] });
  const layers: WeightBits['layers'] = [];
  for (const [name, conv] of convLayers(model)) {
    const codes = tidy(() => toCodeArray(weightCodes(conv.param('weight'), bits), bits));
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
