// Prints the README's mAP-vs-bits table from the report.json of every run folder in a directory.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const out = process.argv[2];
const f = (x, d = 3) => (x === null || x === undefined ? '–' : x.toFixed(d));
console.log('| run | act bits | λ | mAP (VOC07, %) | bits/value (entropy) | Huffman | rANS | Σ_l H_l (soft, first → last epoch) | training wall time |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const d of readdirSync(out).filter((d) => existsSync(path.join(out, d, 'report.json'))).sort()) {
  const r = JSON.parse(readFileSync(path.join(out, d, 'report.json'), 'utf8'));
  const b = r.bitsPerValue, h = r.history;
  const soft = r.actBits && r.lambda > 0 ? `${f(h[0].actRegularizer, 1)} → ${f(h[h.length - 1].actRegularizer, 1)} bits` : '–';
  console.log(`| ${d} | ${r.actBits ?? 32} | ${r.actBits ? r.lambda : '–'} | ${f(100 * r.accuracy, 2)} | ${b ? f(b.entropy) : '32 (float)'} | ${f(b?.huffman)} | ${f(b?.rans)} | ${soft} | ${(h.reduce((s, e) => s + e.epochSeconds, 0) / 60).toFixed(1)} min |`);
}
