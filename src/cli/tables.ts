// Console tables: run reports (per-layer bits, runs side by side), the codec benchmark and the
// bandwidth ledger, as plain aligned text.
import type { CodecName } from '../codec/codecs.js';
import type { BenchRow } from '../codec/bench.js';
import type { BandwidthLedger, CodecCost, StaticCosts } from '../ledger/ledger.js';
import type { RunReport } from '../report/report.js';
import { alignColumns } from './text-table.js';

const f = (x: number | null | undefined, d = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

/** One row per run: accuracy, entropy / Huffman / rANS bits per value, compression vs b and 32 bits. */
export function formatComparison(rows: { label: string; report: RunReport }[]): string {
  const metric = rows.length && rows.every((r) => r.report.taskKind === 'detection') ? 'mAP@0.5' : rows.some((r) => r.report.taskKind === 'detection') ? 'top-1 / mAP' : 'top-1';
  const head = ['run', metric, 'act bits', 'λ', 'entropy', 'huffman', 'rans', 'zero-run', '× vs b-bit', '× vs 32-bit'];
  const body = rows.map(({ label, report: r }) => [
    label, f(r.accuracy * 100, 2) + ' %', r.actBits === null ? '32' : String(r.actBits), r.actBits === null ? '—' : String(Number(r.lambda.toPrecision(3))),
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

function pct(bits: number, entropy: number): string {
  return entropy > 0 ? `${((bits / entropy - 1) * 100).toFixed(2)}%` : '—';
}

/** Plain aligned text table: bits/value (overhead vs entropy) and speeds in Msym/s. */
export function formatBenchTable(rows: readonly BenchRow[]): string {
  const head = ['source', 'entropy', 'huffman', '(+%)', 'rans', '(+%)', 'zerorun', '(+%)', 'zlib-huf', 'deflate',
    'huf enc', 'huf dec', 'rans enc', 'rans dec', 'zr enc', 'zr dec', 'zlibh enc', 'zlibh dec'];
  const f4 = (x: number) => x.toFixed(4), f0 = (x: number) => x.toFixed(0);
  const body = rows.map((r) => [
    r.source, f4(r.entropy), f4(r.huffman), pct(r.huffman, r.entropy), f4(r.rans), pct(r.rans, r.entropy),
    f4(r.zerorun), pct(r.zerorun, r.entropy), f4(r.zlib_huffman), f4(r.zlib_deflate),
    f0(r.huffman_enc_msym_s), f0(r.huffman_dec_msym_s), f0(r.rans_enc_msym_s), f0(r.rans_dec_msym_s),
    f0(r.zerorun_enc_msym_s), f0(r.zerorun_dec_msym_s), f0(r.zlib_huffman_enc_msym_s), f0(r.zlib_huffman_dec_msym_s),
  ]);
  return alignColumns([head, ...body]).join('\n');
}

const SHORT: Record<CodecName, string> = { huffman: 'huf', rans: 'rans', zerorun: 'zr' };

function num(x: number | undefined, digits = 3): string {
  return x === undefined ? '—' : Number.isFinite(x) ? x.toFixed(digits) : 'inf';
}

/**
 * Columns: layer, b, elements, raw b/v, entropy, then per coder bits/value without and with its table,
 * then (if any layer has static tables) the cross-entropy bound and each coder with the static table.
 * The last row is the element-weighted average over layers.
 */
export function formatLedgerTable(ledger: BandwidthLedger): string {
  const codecs = ledger.codecs;
  const hasStatic = ledger.total.static !== undefined;
  const head = ['layer', 'b', 'elements', 'raw', 'H'];
  for (const c of codecs) head.push(SHORT[c], `${SHORT[c]}+tbl`);
  if (hasStatic) { head.push('xH(static)'); for (const c of codecs) head.push(`${SHORT[c]}(static)`); }
  const cells = (name: string, bits: string, elements: number, raw: number, h: number, adaptive: Partial<Record<CodecName, CodecCost>>, st?: StaticCosts) => {
    const row = [name, bits, String(elements), num(raw), num(h)];
    for (const c of codecs) row.push(num(adaptive[c]?.bitsPerValueNoTable), num(adaptive[c]?.bitsPerValue));
    if (hasStatic) { row.push(num(st?.crossEntropyPerValue)); for (const c of codecs) row.push(num(st?.codecs[c]?.bitsPerValue)); }
    return row;
  };
  const rows = [head];
  for (const l of ledger.layers) rows.push(cells(l.name, String(l.bits), l.elements, l.bits, l.entropyPerValue, l.adaptive, l.static));
  const t = ledger.total;
  rows.push(cells('total (element-weighted)', '', t.elements, t.rawPerValue, t.entropyPerValue, t.adaptive, t.static));
  const lines = alignColumns(rows);
  const rule = '-'.repeat(Math.max(...lines.map((l) => l.length)));
  return [lines[0], rule, ...lines.slice(1, -1), rule, lines[lines.length - 1], '(bits per value)'].join('\n');
}
