// Prints the README's mAP-vs-bits table from the report.json of every run folder in a directory.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const out = process.argv[2];
const f = (x, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
console.log('| run | act bits | λ (fixed, or the controller\'s last) | target | mAP (VOC07, %) | bits/value (entropy) | Huffman | rANS | training wall time |');
console.log('|---|---|---|---|---|---|---|---|---|');
// A run folder's report.json, or the eval-report.json of a checkpoint evaluated with `catkit eval`.
const reportOf = (d) => ['report.json', 'eval-report.json'].map((f) => path.join(out, d, f)).find((f) => existsSync(f));
for (const d of readdirSync(out).filter((d) => reportOf(d)).sort()) {
  const r = JSON.parse(readFileSync(reportOf(d), 'utf8'));
  const b = r.bitsPerValue, h = r.history;
  const target = r.rate ? `${r.rate.groups.map((g) => g.target).join(', ')} (${r.rate.reached ? 'reached' : 'not reached'})` : '–';
  console.log(`| ${d} | ${r.actBits ?? 32} | ${r.actBits ? Number(r.lambda.toPrecision(3)) : '–'} | ${target} | ${f(100 * r.accuracy, 2)} | ${b ? f(b.entropy) : '32 (float)'} | ${f(b?.huffman)} | ${f(b?.rans)} | ${(h.reduce((s, e) => s + e.epochSeconds, 0) / 60).toFixed(1)} min${r.task === 'eval' ? ` (${h.length} epochs; eval of the checkpoint)` : ''} |`);
}
