// Synthetic run reports for the report tests: built through buildReport from made-up but
// consistent measurements (no engine), so every field has the shape a real run writes.
import { TRAIN_DEFAULTS, CAT_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { buildReport, type RunReport } from '../../src/report/index.js';
import type { BandwidthReport, LayerBits } from '../../src/train/bandwidth.js';
import type { LabelledReport } from '../../src/report/charts.js';

export const SITES = ['relu', 'layer1.0.relu', 'layer1.0.relu2', 'layer2.0.relu'];
const ELEMENTS_PER_IMAGE = [4096, 4096, 4096, 2048];
const IMAGES = 200;

/** A geometric-ish histogram over 2^bits codes whose entropy falls as `peak` grows. */
function histogramFor(bits: number, peak: number, n: number): number[] {
  const w = Array.from({ length: 2 ** bits }, (_, k) => Math.exp(-peak * k));
  const s = w.reduce((a, b) => a + b, 0);
  const h = w.map((x) => Math.floor((x / s) * n));
  h[0] += n - h.reduce((a, b) => a + b, 0);
  return h;
}

function entropyOf(h: number[]): number {
  const n = h.reduce((a, b) => a + b, 0);
  return -h.filter((c) => c > 0).reduce((a, c) => a + (c / n) * Math.log2(c / n), 0);
}

export function fpReport(accuracy = 0.975): RunReport {
  const config: RunConfig = { ...TRAIN_DEFAULTS, model: 'resnet8', epochs: 2 };
  const history = [1, 2].map((epoch) => ({ epoch, loss: 1 / epoch, taskLoss: 1 / epoch, actRegularizer: 0, weightRegularizer: 0, trainAccuracy: 0.9, testAccuracy: accuracy - 0.01 / epoch, lr: 0.05 / epoch, epochSeconds: 3 }));
  return buildReport('train', config, { top1: accuracy, top5: 1, n: 1000 }, null, null, history, { trainSeconds: 6, evalSeconds: 1 });
}

/** A CAT run at 4 bits whose codes are more peaked for larger `peak` (fewer bits). */
export function catReport(o: { lambda: number; peak: number; accuracy: number; target?: number }): RunReport {
  const bits = 4;
  const layers: LayerBits[] = SITES.map((name, i) => {
    const numel = ELEMENTS_PER_IMAGE[i]! * IMAGES;
    const histogram = histogramFor(bits, o.peak * (1 + i * 0.2), numel);
    const entropy = entropyOf(histogram);
    return { name, bits, numel, histogram, entropy, huffman: Math.max(1, entropy) + 0.05, rans: entropy + 0.01, zerorun: entropy * 0.92, zeroFraction: histogram[0]! / numel };
  });
  const tot = layers.reduce((a, l) => a + l.numel, 0);
  const mean = (k: 'entropy' | 'huffman' | 'rans' | 'zerorun') => layers.reduce((a, l) => a + l[k] * l.numel, 0) / tot;
  const bandwidth: Omit<BandwidthReport, 'ledger'> = {
    accuracy: { top1: o.accuracy, top5: 1, n: 1000 },
    bitsPerValue: { entropy: mean('entropy'), huffman: mean('huffman'), rans: mean('rans'), zerorun: mean('zerorun') },
    staticBitsPerValue: null, layers, codedBatches: 2, codedImages: IMAGES,
  };
  const config: RunConfig = { ...TRAIN_DEFAULTS, ...CAT_DEFAULTS, task: 'cat', model: 'resnet8', init: 'runs/fp', actBits: bits, weightBits: 8, lambda: o.lambda, epochs: 3 } as RunConfig;
  const history = [1, 2, 3].map((epoch) => ({
    epoch, loss: 0.3, taskLoss: 0.2 / epoch, actRegularizer: 2.6 - 0.1 * epoch * o.peak, weightRegularizer: 0, trainAccuracy: 0.95, testAccuracy: o.accuracy,
    lr: 0.01 * Math.cos((Math.PI / 2) * ((epoch - 1) / 3)), epochSeconds: 4, ...(o.target !== undefined ? { lambda: o.lambda * epoch / 3, bits: 2.5 - 0.15 * epoch } : {}),
  }));
  const rate = o.target === undefined ? null : {
    metric: 'entropy' as const, reached: true, bestEpoch: null, message: `reached ${o.target} bits`,
    groups: [{ name: 'all', target: o.target, sites: SITES, lambda: o.lambda, achieved: mean('entropy'), reached: true }],
    trajectory: [{ step: 0, lambda: [0], bits: [2.6] }, { step: 10, lambda: [o.lambda], bits: [o.target] }],
  };
  return buildReport('cat', config, bandwidth.accuracy, bandwidth as BandwidthReport, null, history, { trainSeconds: 12, evalSeconds: 2 },
    { baseline: { run: 'runs/fp', accuracy: 0.975 }, rate, lambda: o.lambda });
}

/** fp + λ = 0 + two λ > 0 runs (one dominated) + one target run. */
export function sweepFixture(): LabelledReport[] {
  return [
    { label: 'fp32', report: fpReport() },
    { label: 'λ=0', report: catReport({ lambda: 0, peak: 0.6, accuracy: 0.978 }) },
    { label: 'λ=0.5', report: catReport({ lambda: 0.5, peak: 1.0, accuracy: 0.972 }) },
    { label: 'λ=1', report: catReport({ lambda: 1, peak: 1.1, accuracy: 0.960 }) },   // dominated by the target run
    { label: 'target 1.5', report: catReport({ lambda: 1.3, peak: 1.3, accuracy: 0.965, target: 1.5 }) },
  ];
}
