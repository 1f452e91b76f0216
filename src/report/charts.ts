// Chart specifications (vega-lite) for the HTML report, built from run reports. Pure data in,
// JSON out: no engine, no DOM. Each chart says which marks it draws, so a browser test can count them.
import { BIT_METRICS, type RunReport } from './report.js';

export interface LabelledReport { label: string; report: RunReport }

/** How a run shows up in the accuracy-vs-bits chart. */
export type RunKind = 'full precision' | 'λ = 0 control' | 'fixed λ' | 'target rate';

export function runKind(r: RunReport): RunKind {
  if (r.actBits === null || r.bitsPerValue === null) return 'full precision';
  if (r.rate) return 'target rate';
  return r.lambda > 0 ? 'fixed λ' : 'λ = 0 control';
}

export interface ParetoPoint { label: string; kind: RunKind; bits: number; accuracy: number; pareto: boolean; huffman: number | null; rans: number | null; zerorun: number | null; lambda: number; actBits: number }

/**
 * Quantized runs as (entropy bits/value, top-1 %) points; a point is Pareto-optimal when no other
 * point has fewer or equal bits and higher or equal accuracy with one of them strictly better.
 */
export function paretoPoints(runs: readonly LabelledReport[]): ParetoPoint[] {
  const pts = runs.filter(({ report: r }) => runKind(r) !== 'full precision' && Number.isFinite(r.bitsPerValue!.entropy)).map(({ label, report: r }) => ({
    label, kind: runKind(r), bits: r.bitsPerValue!.entropy, accuracy: r.accuracy * 100, pareto: false,
    huffman: r.bitsPerValue!.huffman, rans: r.bitsPerValue!.rans, zerorun: r.bitsPerValue!.zerorun, lambda: r.lambda, actBits: r.actBits!,
  }));
  for (const p of pts) {
    p.pareto = !pts.some((q) => q !== p && q.bits <= p.bits && q.accuracy >= p.accuracy && (q.bits < p.bits || q.accuracy > p.accuracy));
  }
  return pts;
}

/** Full-precision accuracies to draw as horizontal rules: given fp runs, else the baselines CAT runs carry. */
export function baselines(runs: readonly LabelledReport[]): { label: string; accuracy: number }[] {
  const out = new Map<string, number>();
  for (const { label, report: r } of runs) if (runKind(r) === 'full precision') out.set(label, r.accuracy * 100);
  if (out.size === 0) for (const { report: r } of runs) if (r.baseline) out.set(`fp (${r.baseline.run})`, r.baseline.accuracy * 100);
  return [...out].map(([label, accuracy]) => ({ label, accuracy }));
}

/** One chart: its vega-lite spec and the marks (by vega mark type) it draws as data items. */
export interface Chart { id: string; title: string; spec: object; marks: Partial<Record<'symbol' | 'rect' | 'line' | 'rule' | 'text', number>> }

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const KIND_ORDER: RunKind[] = ['λ = 0 control', 'fixed λ', 'target rate'];

export function paretoChart(runs: readonly LabelledReport[]): Chart | null {
  const pts = paretoPoints(runs);
  if (!pts.length) return null;
  const fp = baselines(runs);
  const front = pts.filter((p) => p.pareto).sort((a, b) => a.bits - b.bits);
  const x = { field: 'bits', type: 'quantitative', title: 'activation bits / value (entropy, test set)', scale: { zero: false, padding: 12 } };
  const y = { field: 'accuracy', type: 'quantitative', title: 'top-1 (%)', scale: { zero: false, padding: 12 } };
  const layer: object[] = [];
  if (fp.length) {
    layer.push({ data: { values: fp }, mark: { type: 'rule', strokeDash: [6, 4], color: '#555' }, encoding: { y: { ...y, field: 'accuracy' }, tooltip: [{ field: 'label' }, { field: 'accuracy', format: '.2f' }] } });
  }
  if (front.length > 1) {
    layer.push({ data: { values: front }, mark: { type: 'line', interpolate: 'step-after', color: '#e45756', strokeWidth: 1.5 }, encoding: { x, y, order: { field: 'bits' } } });
  }
  layer.push({
    mark: { type: 'point', filled: true, size: 90 },
    encoding: {
      x, y,
      color: { field: 'kind', type: 'nominal', title: 'run', scale: { domain: KIND_ORDER, range: ['#4c78a8', '#f58518', '#54a24b'] } },
      shape: { field: 'pareto', type: 'nominal', title: 'Pareto-optimal', scale: { domain: [true, false], range: ['diamond', 'circle'] } },
      tooltip: [{ field: 'label' }, { field: 'kind' }, { field: 'accuracy', format: '.2f', title: 'top-1 %' }, { field: 'bits', format: '.3f', title: 'entropy' },
        { field: 'huffman', format: '.3f' }, { field: 'rans', format: '.3f' }, { field: 'zerorun', format: '.3f' }, { field: 'lambda', format: '.3g', title: 'λ' }],
    },
  });
  layer.push({ mark: { type: 'text', dy: -11, fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } });
  return {
    id: 'pareto', title: 'Accuracy vs bits per value (red: Pareto front, dashed: full precision)',
    spec: { $schema: SCHEMA, width: 560, height: 320, data: { values: pts }, layer },
    marks: { symbol: pts.length, text: pts.length, rule: fp.length, line: front.length > 1 ? 1 : 0 },
  };
}

const shortName = (name: string, i: number) => `${String(i).padStart(2, '0')} ${name}`;

/** Bits per value of each site for each measure, grouped bars. */
export function layerBitsChart(run: LabelledReport, id: string): Chart | null {
  const r = run.report;
  if (!r.layers.length) return null;
  const values = r.layers.flatMap((l, i) => BIT_METRICS.filter((m) => Number.isFinite(l[m])).map((m) => ({ layer: shortName(l.name, i), measure: m, bits: l[m] })));
  return {
    id, title: `${run.label}: bits per value per site`,
    spec: {
      $schema: SCHEMA, width: { step: 14 }, height: 220, data: { values },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'layer', type: 'nominal', title: null, axis: { labelAngle: -40, labelLimit: 160 } },
        xOffset: { field: 'measure', type: 'nominal', sort: [...BIT_METRICS] },
        y: { field: 'bits', type: 'quantitative', title: 'bits / value' },
        color: { field: 'measure', type: 'nominal', sort: [...BIT_METRICS], title: 'measure' },
      },
    },
    marks: { rect: values.length },
  };
}

/** Elements per image of each site (where the bandwidth goes) and their raw vs coded bytes. */
export function layerElementsChart(run: LabelledReport, id: string): Chart | null {
  const r = run.report;
  if (!r.layers.length || r.codedImages <= 0) return null;
  const values = r.layers.map((l, i) => ({ layer: shortName(l.name, i), elements: l.numel / r.codedImages, share: 0 }));
  const total = values.reduce((a, v) => a + v.elements, 0);
  for (const v of values) v.share = v.elements / total;
  return {
    id, title: `${run.label}: elements per image per site`,
    spec: {
      $schema: SCHEMA, width: { step: 22 }, height: 160, data: { values },
      mark: { type: 'bar', color: '#72b7b2' },
      encoding: {
        x: { field: 'layer', type: 'nominal', title: null, axis: { labelAngle: -40, labelLimit: 160 } },
        y: { field: 'elements', type: 'quantitative', title: 'values / image' },
        tooltip: [{ field: 'layer' }, { field: 'elements', format: ',.0f' }, { field: 'share', format: '.1%' }],
      },
    },
    marks: { rect: values.length },
  };
}

/**
 * Histogram of the quantized codes per site (rows), one column per run: the λ = 0 control next to
 * the regularized runs shows what the entropy term did to the distribution.
 */
export function histogramChart(runs: readonly LabelledReport[], id: string): Chart | null {
  const withHist = runs.filter(({ report: r }) => r.layers.some((l) => l.histogram?.length));
  if (!withHist.length) return null;
  const order = [...withHist].sort((a, b) => KIND_ORDER.indexOf(runKind(a.report) as RunKind) - KIND_ORDER.indexOf(runKind(b.report) as RunKind));
  const values = order.flatMap(({ label, report: r }) => r.layers.flatMap((l, i) => {
    const h = l.histogram ?? [];
    const n = h.reduce((a, c) => a + c, 0) || 1;
    return h.map((c, code) => ({ run: label, layer: shortName(l.name, i), code, fraction: c / n }));
  }));
  return {
    id, title: 'Quantized codes per site (fraction of values; square-root scale)',
    spec: {
      $schema: SCHEMA, data: { values },
      facet: { row: { field: 'layer', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelLimit: 160 } }, column: { field: 'run', type: 'nominal', title: null, sort: order.map((o) => o.label) } },
      spec: {
        width: 150, height: 46,
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'code', type: 'ordinal', title: 'code', axis: { labelFontSize: 8 } },
          y: { field: 'fraction', type: 'quantitative', title: null, scale: { type: 'sqrt', domain: [0, 1] }, axis: { tickCount: 2, format: '.0%' } },
          color: { field: 'run', type: 'nominal', legend: null },
        },
      },
    },
    marks: { rect: values.length },
  };
}

/** The per-epoch series a report's history can hold, with their titles. */
export const CURVES: readonly [key: string, title: string][] = [
  ['taskLoss', 'task loss (cross-entropy)'], ['actRegularizer', 'soft entropy (bits)'], ['bits', 'achieved bits (validation entropy)'],
  ['testAccuracy', 'test top-1'], ['lambda', 'λ'], ['lr', 'learning rate'],
];

export function curvesChart(runs: readonly LabelledReport[], id: string): Chart | null {
  const values: { run: string; epoch: number; series: string; value: number }[] = [];
  for (const { label, report: r } of runs) {
    const float = runKind(r) === 'full precision';
    for (const h of r.history) {
      for (const [key, title] of CURVES) {
        if (float && key === 'actRegularizer') continue; // a float run has no entropy term (it logs 0)
        const v = h[key];
        if (typeof v === 'number' && Number.isFinite(v)) values.push({ run: label, epoch: h.epoch, series: title, value: v });
      }
    }
  }
  if (!values.length) return null;
  const series = new Set(values.map((v) => `${v.series}\u0000${v.run}`));
  return {
    id, title: 'Training curves per epoch',
    spec: {
      $schema: SCHEMA, data: { values },
      facet: { field: 'series', type: 'nominal', title: null, sort: CURVES.map((c) => c[1]) }, columns: 3,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 220, height: 130,
        mark: { type: 'line', point: false, tooltip: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'run', type: 'nominal', sort: runs.map((r) => r.label) },
        },
      },
    },
    marks: { line: series.size },
  };
}
