// Console tables for reports: per-layer bits and a side-by-side comparison of runs.
import { alignColumns } from '../codec/text-table.js';
import type { RunReport } from './report.js';

const f = (x: number | null | undefined, d = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** One row per run: accuracy, entropy / Huffman / rANS bits per value, compression vs b and 32 bits. */
export function formatComparison(rows: { label: string; report: RunReport }[]): string {
  const head = ['run', 'top-1', 'act bits', 'λ', 'entropy', 'huffman', 'rans', 'zero-run', '× vs b-bit', '× vs 32-bit'];
  const body = rows.map(({ label, report: r }) => [
    label, f(r.accuracy * 100, 2) + ' %', r.actBits === null ? '32' : String(r.actBits), r.actBits === null ? '—' : String(r.lambda),
    f(r.bitsPerValue?.entropy), f(r.bitsPerValue?.huffman), f(r.bitsPerValue?.rans), f(r.bitsPerValue?.zerorun),
    r.compression ? f(r.compression.vsActBits.rans, 2) : '—', r.compression ? f(r.compression.vs32bit.rans, 1) : '—',
  ]);
  return alignColumns([head, ...body]).join('\n');
}

/** Per-layer bits of one report. */
export function formatLayers(r: RunReport): string {
  const head = ['layer', 'elements', 'zeros', 'entropy', 'huffman', 'rans', 'zero-run'];
  const body = r.layers.map((l) => [l.name, String(l.numel), f(l.zeroFraction * 100, 1) + ' %', f(l.entropy), f(l.huffman), f(l.rans), f(l.zerorun)]);
  if (r.bitsPerValue) body.push(['weighted mean', String(r.layers.reduce((a, l) => a + l.numel, 0)), '', f(r.bitsPerValue.entropy), f(r.bitsPerValue.huffman), f(r.bitsPerValue.rans), f(r.bitsPerValue.zerorun)]);
  return alignColumns([head, ...body]).join('\n');
}
