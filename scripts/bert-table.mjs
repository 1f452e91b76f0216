// Prints the README table of the BERT run from its report.json files: metric and bits/value per
// site type for each task at float, 8 and 4 bits, λ = 0 and λ = 1, with seconds per step.
// Usage: node scripts/bert-table.mjs [RUNS_DIR]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
const R = process.argv[2] ?? 'runs';
const read = (d) => (existsSync(path.join(R, d, 'report.json')) ? JSON.parse(readFileSync(path.join(R, d, 'report.json'), 'utf8')) : null);
const TYPES = ['LayerNorm → Q/K/V', 'context → attn out', 'LayerNorm → FFN', 'GELU → FFN out'];
const f = (v, d = 3) => (v === undefined || v === null || Number.isNaN(v) ? '—' : v.toFixed(d));
const pre = read('bert-tiny-mlm');
if (pre) console.log(`pre-training: ${pre.texts} texts, ${pre.settings.steps} steps, held-out MLM loss ${f(pre.heldOut.before.loss, 2)} → ${f(pre.heldOut.after.loss, 2)}, masked-token accuracy ${f(pre.heldOut.after.accuracy)}, ${pre.seconds} s\n`);
console.log(`| task (metric) | run | activations | λ | metric | accuracy | bits/value (all sites) | ${TYPES.join(' | ')} | seconds |`);
console.log(`|---|---|---|---|---|---|---|${TYPES.map(() => '---').join('|')}|---|`);
for (const [task, p] of [['fine_foods (accuracy)', 'ff'], ['brown_cola (MCC)', 'bc']]) {
  const fl = read(`${p}-float`);
  if (fl) console.log(`| ${task} | ${p}-float | float | — | ${f(fl.final.metric)} | ${f(fl.final.accuracy)} | 32 (float) | ${TYPES.map(() => '—').join(' | ')} | ${fl.seconds} |`);
  for (const bits of [8, 4]) for (const l of [0, 1]) {
    const r = read(`${p}-cat${bits}-l${l}`);
    if (!r) { console.log(`| ${task} | ${p}-cat${bits}-l${l} | ${bits}-bit | ${l} | not run | | | ${TYPES.map(() => '').join(' | ')} | |`); continue; }
    const per = Object.fromEntries(r.final.perType.map((t) => [t.type, t.bitsPerValue]));
    const m = r.epochs.at(-1);
    console.log(`| ${task} | ${p}-cat${bits}-l${l} | ${bits}-bit | ${l} | ${f(m.metric)} | ${f(m.accuracy)} | ${f(m.bitsPerValue)} | ${TYPES.map((t) => f(per[t], 2)).join(' | ')} | ${r.seconds} |`);
  }
}

