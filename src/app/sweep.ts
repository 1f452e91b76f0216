// `catkit sweep`: several CAT fine-tunings from one starting run — rate targets, fixed λ values and
// always the λ = 0 control at the same bit width — run one after another into DIR/<point>/, then
// a summary (sweep.json, sweep.md) with the Pareto-optimal points marked and one report.html.
// Resumable: a point with a report is skipped, a point with only a checkpoint continues from it.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CatkitError } from '../errors.js';
import type { RunConfig } from '../train/config.js';
import { CHECKPOINT_JSON, readCheckpointMeta } from '../train/checkpoint-meta.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { BIT_METRICS, readReport, type RunReport } from '../report/index.js';
import { paretoPoints, type LabelledReport } from '../report/charts.js';
import { writeHtmlReport } from '../report/html.js';

export interface SweepPoint {
  /** Folder name under the sweep folder. */
  id: string;
  label: string;
  kind: 'control' | 'target' | 'lambda';
  targetBits?: number;
  lambda: number;
}

/** λ = 0 control first, then the targets, then fixed λ values (a λ of 0 is the control). */
export function sweepPoints(targets: readonly number[], lambdas: readonly number[] = []): SweepPoint[] {
  const num = (x: number) => String(Number(x.toPrecision(6)));
  const pts: SweepPoint[] = [{ id: 'lambda-0', label: 'λ = 0', kind: 'control', lambda: 0 }];
  for (const t of [...new Set(targets)]) {
    if (!(t > 0)) throw new CatkitError('bad_option', `--targets: ${t} is not a positive number of bits`);
    pts.push({ id: `target-${num(t)}`, label: `target ${num(t)}`, kind: 'target', targetBits: t, lambda: 0 });
  }
  for (const l of [...new Set(lambdas)]) {
    if (!(l >= 0)) throw new CatkitError('bad_option', `--lambdas: ${l} is not a non-negative number`);
    if (l > 0) pts.push({ id: `lambda-${num(l)}`, label: `λ = ${num(l)}`, kind: 'lambda', lambda: l });
  }
  return pts;
}

export type PointState = 'done' | 'partial' | 'new';

/** done: report.json exists; partial: a checkpoint without a report (interrupted); new: nothing yet. */
export function pointState(dir: string): PointState {
  if (existsSync(path.join(dir, 'report.json'))) return 'done';
  if (existsSync(path.join(dir, CHECKPOINT_JSON))) return 'partial';
  return 'new';
}

/** Settings a point folder must have been run with to be reused. */
const IDENTITY: (keyof RunConfig)[] = ['model', 'dataset', 'init', 'actBits', 'actBitsAt', 'weightBits', 'epochs', 'lr', 'schedule', 'batchSize', 'seed', 'lambda',
  'targetBits', 'targetBitsAt', 'targetMetric', 'method'];

function checkSameRun(dir: string, want: RunConfig): void {
  const saved = readCheckpointMeta(dir).meta.config;
  const diff = IDENTITY.filter((k) => JSON.stringify(saved[k] ?? null) !== JSON.stringify(want[k] ?? null));
  if (diff.length) {
    throw new CatkitError('run_exists', `${dir} holds a run with other settings (${diff.map((k) => `${k}: ${JSON.stringify(saved[k])} ≠ ${JSON.stringify(want[k])}`).join(', ')}); ` +
      'choose another --out for a sweep with different settings');
  }
}

export interface SweepRow {
  id: string; label: string; kind: SweepPoint['kind']; dir: string;
  targetBits: number | null; lambda: number; accuracy: number; accuracyDelta: number | null;
  bits: Record<(typeof BIT_METRICS)[number], number | null>; bytesPerImage: { raw: number; coded: number } | null;
  reached: boolean | null; pareto: boolean;
}

export interface SweepSummary {
  init: string;
  actBits: number | null;
  baseline: { accuracy: number } | null;
  rows: SweepRow[];
  html: string;
  json: string;
  markdown: string;
}

export interface SweepOptions {
  out: string;
  init: string;
  points: readonly SweepPoint[];
  /** The run config of one point (its out folder is `dir`). */
  configFor(point: SweepPoint, dir: string): RunConfig;
  /** Trains and measures one point into `dir` (resume: continue its checkpoint). */
  run(config: RunConfig, dir: string, resume: boolean): Promise<RunReport>;
  /** One line per event (point started, skipped, finished, ETA). */
  log(line: string): void;
}

const fmtSeconds = (s: number): string => (s < 60 ? `${Math.round(s)}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${(s / 3600).toFixed(1)}h`);

export async function runSweep(o: SweepOptions): Promise<SweepSummary> {
  mkdirSync(o.out, { recursive: true });
  const plan = o.points.map((p) => {
    const dir = path.join(o.out, p.id);
    const config = o.configFor(p, dir);
    const state = pointState(dir);
    if (state !== 'new') checkSameRun(dir, config);
    return { p, dir, config, state };
  });
  const todo = plan.filter((x) => x.state !== 'done').length;
  o.log(`sweep: ${plan.length} points in ${o.out} (${plan.length - todo} done, ${todo} to run)`);
  const durations: number[] = [];
  let ran = 0;
  const t0 = performance.now();
  for (const [i, x] of plan.entries()) {
    const head = `[${i + 1}/${plan.length}] ${x.p.label}`;
    if (x.state === 'done') { o.log(`${head}: done before, skipped (${x.dir})`); continue; }
    const left = todo - ran;
    const eta = durations.length ? ` — sweep ETA ${fmtSeconds((durations.reduce((a, b) => a + b, 0) / durations.length) * left)}` : '';
    o.log(`${head}: ${x.state === 'partial' ? 'resuming' : 'running'} → ${x.dir}${eta}`);
    const ts = performance.now();
    await o.run(x.config, x.dir, x.state === 'partial');
    durations.push((performance.now() - ts) / 1000);
    ran++;
    o.log(`${head}: finished in ${fmtSeconds(durations.at(-1)!)} (sweep elapsed ${fmtSeconds((performance.now() - t0) / 1000)}` +
      `${todo - ran > 0 ? `, ETA ${fmtSeconds((durations.reduce((a, b) => a + b, 0) / durations.length) * (todo - ran))}` : ''})`);
  }
  return summarize(o.out, o.init, plan.map((x) => ({ point: x.p, dir: x.dir })));
}

/** Reads the points' reports and writes sweep.json, sweep.md and report.html into `out`. */
export function summarize(out: string, init: string, points: readonly { point: SweepPoint; dir: string }[]): SweepSummary {
  const runs: LabelledReport[] = points.map(({ point, dir }) => ({ label: point.label, report: readReport(dir) }));
  let fp: LabelledReport | null = null;
  try { if (existsSync(path.join(init, 'report.json'))) fp = { label: 'full precision', report: readReport(init) }; } catch { fp = null; }
  const pareto = new Set(paretoPoints(runs).filter((p) => p.pareto).map((p) => p.label));
  const rows: SweepRow[] = points.map(({ point, dir }, i) => {
    const r = runs[i]!.report;
    const b = r.bytesPerImage;
    return {
      id: point.id, label: point.label, kind: point.kind, dir, targetBits: point.targetBits ?? null, lambda: r.lambda, accuracy: r.accuracy,
      accuracyDelta: r.baseline?.accuracyDelta ?? null,
      bits: Object.fromEntries(BIT_METRICS.map((m) => [m, r.bitsPerValue?.[m] ?? null])) as SweepRow['bits'],
      bytesPerImage: b ? { raw: b.raw, coded: Math.min(b.huffman, b.rans, b.zerorun) } : null,
      reached: r.rate ? r.rate.reached : null, pareto: pareto.has(point.label),
    };
  });
  const first = runs[0]?.report;
  const summary = {
    init, actBits: first?.actBits ?? null,
    baseline: fp ? { accuracy: fp.report.accuracy } : first?.baseline ? { accuracy: first.baseline.accuracy } : null, rows,
  };
  const json = path.join(out, 'sweep.json'), markdown = path.join(out, 'sweep.md'), html = path.join(out, 'report.html');
  writeFileAtomic(json, JSON.stringify(summary, null, 1));
  writeFileAtomic(markdown, sweepMarkdown(summary));
  writeHtmlReport(html, fp ? [fp, ...runs] : runs, { title: `catkit sweep from ${init}` });
  return { ...summary, html, json, markdown };
}

export function sweepMarkdown(s: Pick<SweepSummary, 'init' | 'actBits' | 'baseline' | 'rows'>): string {
  const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
  const lines = [
    `# CAT sweep from \`${s.init}\``, '',
    `${s.actBits ?? '?'}-bit activations; full-precision top-1 ${s.baseline ? `${f(s.baseline.accuracy * 100, 2)} %` : 'unknown'}. ` +
    'Bits are per activation value on the test set (entropy: Shannon bound; huffman, rans, zero-run: real coded size). ★ = Pareto-optimal (accuracy vs entropy).', '',
    '| point | target | final λ | top-1 % | Δ vs fp (pt) | entropy | huffman | rans | zero-run | bytes/image raw → coded | reached | Pareto |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...s.rows.map((r) => `| ${r.label} | ${r.targetBits ?? '—'} | ${Number(r.lambda.toPrecision(3))} | ${f(r.accuracy * 100, 2)} | ${r.accuracyDelta === null ? '—' : f(r.accuracyDelta * 100, 2)} | ` +
      `${f(r.bits.entropy)} | ${f(r.bits.huffman)} | ${f(r.bits.rans)} | ${f(r.bits.zerorun)} | ${r.bytesPerImage ? `${f(r.bytesPerImage.raw, 0)} → ${f(r.bytesPerImage.coded, 0)}` : '—'} | ` +
      `${r.reached === null ? '—' : r.reached ? 'yes' : '**no**'} | ${r.pareto ? '★' : ''} |`),
    '',
  ];
  return lines.join('\n');
}
