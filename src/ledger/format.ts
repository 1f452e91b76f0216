// Console rendering of a bandwidth ledger: one plain, aligned text table in bits per value.
import type { CodecName } from '../codec/codecs.js';
import { alignColumns } from '../codec/text-table.js';
import type { BandwidthLedger, CodecCost, StaticCosts } from './ledger.js';

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
