// report.html: one self-contained page for one or more runs. vega, vega-lite and vega-embed are
// inlined from node_modules, so the page draws its charts offline (no network request at all).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { BIT_METRICS, type RunReport } from './report.js';
import {
  curvesChart, histogramChart, layerBitsChart, layerElementsChart, paretoChart, paretoPoints, runKind, type Chart, type LabelledReport,
} from './charts.js';

const require = createRequire(import.meta.url);

/** The three UMD bundles, in load order (vega-lite and vega-embed read the globals before them). */
function chartLibraries(): string[] {
  const embedDir = path.dirname(require.resolve('vega-embed')); // its exports map hides the other files
  return [
    path.join(path.dirname(require.resolve('vega')), 'vega.min.js'),
    path.join(path.dirname(require.resolve('vega-lite')), 'vega-lite.min.js'),
    path.join(embedDir, 'vega-embed.min.js'),
  ].map((f) => readFileSync(f, 'utf8'));
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** Text that sits inside a <script> element must not contain "</script" (or "<!--"). */
const scriptSafe = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
/** JSON inside a <script type="application/json">: no raw '<' at all. */
const jsonInScript = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

const num = (x: number | null | undefined, d = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const pct = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(d)} %`);
const bytes = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x >= 1024 ? `${(x / 1024).toFixed(2)} KiB` : `${x.toFixed(1)} B`);

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`
    + `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function comparisonTable(runs: readonly LabelledReport[]): string {
  const pareto = new Set(paretoPoints(runs).filter((p) => p.pareto).map((p) => p.label));
  return table(
    ['run', 'kind', 'act bits', 'λ', 'top-1', 'Δ vs fp', 'entropy', 'huffman', 'rans', 'zero-run', 'bytes/image raw', 'coded (best)', 'Pareto'],
    runs.map(({ label, report: r }) => {
      const b = r.bytesPerImage;
      const best = b ? Math.min(b.huffman, b.rans, b.zerorun) : null;
      return [
        esc(label), esc(runKind(r)), r.actBits === null ? '32' : String(r.actBits), r.actBits === null ? '—' : num(r.lambda, 3),
        pct(r.accuracy), r.baseline ? `${(r.baseline.accuracyDelta * 100).toFixed(2)} pt` : '—',
        ...BIT_METRICS.map((m) => num(r.bitsPerValue?.[m])), bytes(b?.raw), bytes(best), pareto.has(label) ? '★' : '',
      ];
    }), 'runs');
}

/** Bytes per image per site: raw b-bit vs each coded form, and the saving of the best coder. */
function ledgerTable(r: RunReport): string {
  if (!r.layers.length || !r.bytesPerImage) return '';
  const row = (name: string, elements: number, b: NonNullable<RunReport['bytesPerImage']>) => {
    const best = Math.min(b.huffman, b.rans, b.zerorun);
    return [esc(name), elements.toFixed(0), bytes(b.raw), bytes(b.entropy), bytes(b.huffman), bytes(b.rans), bytes(b.zerorun),
      Number.isFinite(best) && b.raw > 0 ? `${((1 - best / b.raw) * 100).toFixed(1)} %` : '—'];
  };
  const n = Math.max(1, r.codedImages);
  const rows = r.layers.map((l) => row(l.name, l.numel / n, l.bytesPerImage));
  rows.push(row('total', r.layers.reduce((a, l) => a + l.numel, 0) / n, r.bytesPerImage).map((c) => `<b>${c}</b>`));
  return `<p>Feature-map bytes moved per image (${r.codedImages} coded test images, ${r.actBits}-bit codes; coded sizes include each batch's table).</p>`
    + table(['site', 'values/image', `raw (${r.actBits}-bit)`, 'entropy bound', 'huffman', 'rans', 'zero-run', 'saving (best coder)'], rows, 'ledger');
}

function rateSummary(r: RunReport): string {
  if (!r.rate) return '';
  const g = r.rate.groups.map((x) => [esc(x.name), num(x.target, 2), num(x.achieved), num(x.lambda, 4), x.reached ? 'yes' : '<b>no</b>', String(x.sites.length)]);
  return `<p class="${r.rate.reached ? 'ok' : 'warn'}">${esc(r.rate.message)}</p>`
    + table([`target (${r.rate.metric})`, 'bits', 'achieved', 'final λ', 'reached', 'sites'], g);
}

function configLine(r: RunReport): string {
  const c = r.config;
  return `${esc(r.model)} on ${esc(r.dataset)} · ${c.epochs} epochs · batch ${c.batchSize} · ${esc(c.optimizer)} lr ${c.lr} ${esc(c.schedule)}`
    + (r.actBits !== null ? ` · ${r.actBits}-bit activations, ${r.weightBits ?? 32}-bit weights · ${esc(r.method)}` : '')
    + (r.baseline ? ` · from ${esc(r.baseline.run)} (top-1 ${pct(r.baseline.accuracy)})` : '');
}

export interface HtmlReport { html: string; charts: Chart[] }

/** The page for `runs` (one run: its own report; several: a sweep or a comparison). */
export function renderHtmlReport(runs: readonly LabelledReport[], o: { title?: string } = {}): HtmlReport {
  const charts: Chart[] = [];
  const add = (c: Chart | null) => { if (c) charts.push(c); return c ? `<section class="chart"><h3>${esc(c.title)}</h3><div id="chart-${c.id}" class="vega" data-chart="${c.id}"></div></section>` : ''; };
  const title = o.title ?? (runs.length === 1 ? `catkit report: ${runs[0]!.label}` : `catkit report: ${runs.length} runs`);
  const parts: string[] = [`<h1>${esc(title)}</h1>`, comparisonTable(runs), add(paretoChart(runs))];
  const quantized = runs.filter(({ report: r }) => r.layers.length > 0);
  parts.push(add(histogramChart(quantized, 'histograms')));
  parts.push(add(curvesChart(runs, 'curves')));
  runs.forEach((run, i) => {
    const r = run.report;
    parts.push(`<h2 id="run-${i}">${esc(run.label)}</h2><p class="config">${configLine(r)}</p>`, rateSummary(r));
    parts.push(add(layerBitsChart(run, `bits-${i}`)), add(layerElementsChart(run, `elements-${i}`)), ledgerTable(r));
  });
  const specs = Object.fromEntries(charts.map((c) => [c.id, c.spec]));
  const libs = chartLibraries().map((src) => `<script>${scriptSafe(src)}</script>`).join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1180px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 36px; border-top: 1px solid #ddd; padding-top: 16px; } h3 { font-size: 14px; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 9px; text-align: right; white-space: nowrap; } th:first-child, td:first-child { text-align: left; }
th { background: #f6f6f6; } .config { color: #555; } .warn { color: #a33; font-weight: 600; } .ok { color: #265; }
.chart { margin: 10px 0 22px; overflow-x: auto; }
</style></head><body>
${parts.filter(Boolean).join('\n')}
<p class="config">bits/value: element-count-weighted over the quantized sites of the coded test batches; entropy is the Shannon bound, huffman / rans / zero-run are real coded streams with their tables. Written by catkit.</p>
<script type="application/json" id="catkit-charts">${jsonInScript(specs)}</script>
${libs}
<script>
(function () {
  var specs = JSON.parse(document.getElementById('catkit-charts').textContent);
  var ids = Object.keys(specs);
  window.catkitRendered = Promise.all(ids.map(function (id) {
    return vegaEmbed('#chart-' + id, specs[id], { renderer: 'svg', actions: false });
  })).then(function () { document.body.setAttribute('data-rendered', String(ids.length)); },
    function (e) { document.body.setAttribute('data-render-error', String(e)); console.error(e); });
})();
</script>
</body></html>
`;
  return { html, charts };
}

/** Writes the page for `runs` to `file` atomically; returns the file. */
export function writeHtmlReport(file: string, runs: readonly LabelledReport[], o: { title?: string } = {}): string {
  writeFileAtomic(file, renderHtmlReport(runs, o).html);
  return file;
}
