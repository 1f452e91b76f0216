// The run report (DIR/report.json): what was run, how accurate it is and how many bits its feature
// maps and weights cost, measured by real coding. One object shape for train, cat and eval; the
// JSON Schema with units is schema/report.schema.json.
import path from 'node:path';
import type { RunConfig, TaskKind } from '../train/config.js';
import type { EpochRecord } from '../train/checkpoint.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { BandwidthReport, LayerBits, WeightBits } from '../train/bandwidth.js';
import type { DetectionMetrics } from '../train/detection.js';
import type { Accuracy } from '../train/evaluate.js';

/** The four ways bits/value are measured: the Shannon bound and three real coders. */
export const BIT_METRICS = ['entropy', 'huffman', 'rans', 'zerorun'] as const;
export type BitMetric = (typeof BIT_METRICS)[number];
type PerMetric = Record<BitMetric, number>;

/** Bytes per test image: raw b-bit storage and each coded form. */
export interface BytesPerImage extends PerMetric { raw: number }

export interface LayerReport extends LayerBits { bytesPerImage: BytesPerImage }

/** Target-rate control of a run (--target-bits): targets, λ trajectory, outcome. */
export interface RateReport {
  metric: BitMetric;
  groups: { name: string; target: number; sites: string[]; lambda: number; achieved: number | null; reached: boolean }[];
  trajectory: { step: number; lambda: number[]; bits: number[] }[];
  bestEpoch: number | null;
  reached: boolean;
  message: string;
}

/** The full-precision run a CAT run started from. */
export interface Baseline { run: string; accuracy: number; accuracyDelta: number }

export interface RunReport {
  task: RunConfig['task'] | 'eval';
  /** classification (accuracy is top-1) or detection (accuracy is the mAP at IoU 0.5; details in `detection`). */
  taskKind: TaskKind;
  model: string;
  dataset: string;
  actBits: number | null;
  weightBits: number | null;
  lambda: number;
  lambdaW: number;
  method: string;
  /** The task's headline metric on the test split, 0–1: top-1 (classification) or mAP@0.5 (detection). */
  accuracy: number;
  /** Detection runs: the VOC evaluation behind `accuracy`. */
  detection?: DetectionMetrics;
  top5: number | null;
  testSamples: number;
  bitsPerValue: BandwidthReport['bitsPerValue'] | null;
  staticBitsPerValue: BandwidthReport['staticBitsPerValue'];
  /** Compression of the coded feature maps against b-bit and 32-bit storage. */
  compression: { vsActBits: PerMetric; vs32bit: PerMetric } | null;
  layers: LayerReport[];
  weights: WeightBits | null;
  codedTestBatches: number;
  /** Test images whose activations were coded (the divisor of bytesPerImage). */
  codedImages: number;
  /** Feature-map bytes moved per image over all sites, raw vs coded. */
  bytesPerImage: BytesPerImage | null;
  baseline: Baseline | null;
  rate: RateReport | null;
  /** Set when only a share of each coded batch's images was coded (--code-fraction): the bits/value are estimates with these 95 % intervals. */
  codingSample: BandwidthReport['sampling'];
  config: RunConfig;
  history: EpochRecord[];
  timing: { trainSeconds: number; evalSeconds: number; secondsPerEpoch: number | null };
  catkitVersion: string;
  createdAt: string;
}

export interface ReportExtras {
  /** Accuracy of the run this one started from (CAT: the float model). */
  baseline?: { run: string; accuracy: number } | null;
  rate?: RateReport | null;
  /** Overrides config.lambda (a target-rate run reports the λ it ended at). */
  lambda?: number;
  /** Detection runs: the VOC evaluation behind `accuracy` (the mAP). */
  detection?: DetectionMetrics;
}

const perMetric = (f: (m: BitMetric) => number): PerMetric =>
  Object.fromEntries(BIT_METRICS.map((m) => [m, f(m)])) as PerMetric;

function layerBytes(l: LayerBits, images: number): BytesPerImage {
  const perImage = images > 0 ? l.numel / images : 0;
  return { raw: (perImage * l.bits) / 8, ...perMetric((m) => (perImage * l[m]) / 8) };
}

/** What a report needs of an activation measurement (BandwidthReport has it, and so does a detection evaluation). */
export type ActivationBits = Pick<BandwidthReport, 'bitsPerValue' | 'staticBitsPerValue' | 'layers' | 'codedBatches' | 'codedImages' | 'sampling'>;

export function buildReport(task: RunReport['task'], config: RunConfig, accuracy: Accuracy, bandwidth: ActivationBits | null,
  weights: WeightBits | null, history: EpochRecord[], timing: { trainSeconds: number; evalSeconds: number }, extras: ReportExtras = {}): RunReport {
  const cat = config.task === 'cat';
  const bpv = bandwidth?.bitsPerValue ?? null;
  const actBits = cat ? config.actBits ?? null : null;
  const epochs = history.filter((h) => Number.isFinite(h.epochSeconds));
  const images = bandwidth?.codedImages ?? 0;
  const layers: LayerReport[] = (bandwidth?.layers ?? []).map((l) => ({ ...l, bytesPerImage: layerBytes(l, images) }));
  const sum = (f: (b: BytesPerImage) => number) => layers.reduce((a, l) => a + f(l.bytesPerImage), 0);
  return {
    task, taskKind: config.taskKind ?? 'classification', model: config.model, dataset: config.dataset, actBits, weightBits: cat ? config.weightBits ?? null : null,
    lambda: cat ? extras.lambda ?? config.lambda : 0, lambdaW: cat ? config.lambdaW : 0, method: cat ? config.method : 'none',
    accuracy: accuracy.top1, ...(extras.detection ? { detection: extras.detection } : {}), top5: accuracy.top5, testSamples: accuracy.n,
    bitsPerValue: bpv, staticBitsPerValue: bandwidth?.staticBitsPerValue ?? null,
    compression: bpv && actBits ? { vsActBits: perMetric((m) => actBits / bpv[m]), vs32bit: perMetric((m) => 32 / bpv[m]) } : null,
    layers, weights, codedTestBatches: bandwidth?.codedBatches ?? 0, codedImages: images,
    bytesPerImage: layers.length ? { raw: sum((b) => b.raw), ...perMetric((m) => sum((b) => b[m])) } : null,
    baseline: extras.baseline ? { ...extras.baseline, accuracyDelta: accuracy.top1 - extras.baseline.accuracy } : null,
    rate: extras.rate ?? null,
    codingSample: bandwidth?.sampling ?? null,
    config, history,
    timing: { ...timing, secondsPerEpoch: epochs.length ? epochs.reduce((a, h) => a + h.epochSeconds!, 0) / epochs.length : null },
    catkitVersion: '0.1.0', createdAt: new Date().toISOString(),
  };
}

/** JSON text of a report; non-finite numbers (a coder that produced nothing) become null. */
export const reportToJSON = (report: RunReport): string =>
  JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1);

export function writeReport(dir: string, report: RunReport, name = 'report.json'): string {
  const file = path.join(dir, name);
  writeFileAtomic(file, reportToJSON(report));
  return file;
}
