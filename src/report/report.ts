// The run report (DIR/report.json): what was run, how accurate it is and how many bits its feature
// maps and weights cost, measured by real coding. One object shape for train, cat and eval.
import path from 'node:path';
import type { RunConfig } from '../train/config.js';
import type { EpochRecord } from '../train/checkpoint.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { BandwidthReport, LayerBits, WeightBits } from '../train/bandwidth.js';
import type { Accuracy } from '../train/evaluate.js';

export interface RunReport {
  task: RunConfig['task'] | 'eval';
  model: string;
  dataset: string;
  actBits: number | null;
  weightBits: number | null;
  lambda: number;
  lambdaW: number;
  method: string;
  /** Top-1 on the test split, 0–1. */
  accuracy: number;
  top5: number | null;
  testSamples: number;
  bitsPerValue: BandwidthReport['bitsPerValue'] | null;
  staticBitsPerValue: BandwidthReport['staticBitsPerValue'];
  /** Compression of the coded feature maps against b-bit and 32-bit storage (rANS, entropy). */
  compression: { vsActBits: { entropy: number; rans: number }; vs32bit: { entropy: number; rans: number } } | null;
  layers: LayerBits[];
  weights: WeightBits | null;
  codedTestBatches: number;
  config: RunConfig;
  history: EpochRecord[];
  timing: { trainSeconds: number; evalSeconds: number; secondsPerEpoch: number | null };
  catkitVersion: string;
  createdAt: string;
}

export function buildReport(task: RunReport['task'], config: RunConfig, accuracy: Accuracy, bandwidth: BandwidthReport | null,
  weights: WeightBits | null, history: EpochRecord[], timing: { trainSeconds: number; evalSeconds: number }): RunReport {
  const cat = config.task === 'cat';
  const bpv = bandwidth?.bitsPerValue ?? null;
  const actBits = cat ? config.actBits ?? null : null;
  const epochs = history.filter((h) => Number.isFinite(h.epochSeconds));
  return {
    task, model: config.model, dataset: config.dataset, actBits, weightBits: cat ? config.weightBits ?? null : null,
    lambda: cat ? config.lambda : 0, lambdaW: cat ? config.lambdaW : 0, method: cat ? config.method : 'none',
    accuracy: accuracy.top1, top5: accuracy.top5, testSamples: accuracy.n,
    bitsPerValue: bpv, staticBitsPerValue: bandwidth?.staticBitsPerValue ?? null,
    compression: bpv && actBits ? {
      vsActBits: { entropy: actBits / bpv.entropy, rans: actBits / bpv.rans },
      vs32bit: { entropy: 32 / bpv.entropy, rans: 32 / bpv.rans },
    } : null,
    layers: bandwidth?.layers ?? [], weights, codedTestBatches: bandwidth?.codedBatches ?? 0,
    config, history,
    timing: { ...timing, secondsPerEpoch: epochs.length ? epochs.reduce((a, h) => a + h.epochSeconds!, 0) / epochs.length : null },
    catkitVersion: '0.1.0', createdAt: new Date().toISOString(),
  };
}

export function writeReport(dir: string, report: RunReport, name = 'report.json'): string {
  const file = path.join(dir, name);
  writeFileAtomic(file, JSON.stringify(report, null, 1));
  return file;
}
