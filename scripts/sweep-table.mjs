// Prints a Markdown table (accuracy, bits per value by entropy and by each coder, zeros, time)
// from catkit report.json files: node scripts/sweep-table.mjs runs/*/report.json
import { readFileSync } from 'node:fs';
import path from 'node:path';

const f3 = (x) => (x === undefined || x === null || !Number.isFinite(x) ? '—' : x.toFixed(3));
console.log('| run | λ | top-1 | entropy | Huffman | rANS | zero-run | static rANS | zeros | s/epoch |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const file of process.argv.slice(2)) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const b = r.bitsPerValue;
  const n = r.layers.reduce((a, l) => a + l.numel, 0);
  const zeros = n ? r.layers.reduce((a, l) => a + l.zeroFraction * l.numel, 0) / n : NaN;
  console.log(`| ${path.basename(path.dirname(file))} | ${r.lambda} | ${(r.accuracy * 100).toFixed(2)} % | ${f3(b?.entropy)} | ${f3(b?.huffman)} | ` +
    `${f3(b?.rans)} | ${f3(b?.zerorun)} | ${f3(r.staticBitsPerValue?.rans)} | ${Number.isFinite(zeros) ? (zeros * 100).toFixed(1) + ' %' : '—'} | ` +
    `${r.timing.secondsPerEpoch?.toFixed(0) ?? '—'} |`);
}
