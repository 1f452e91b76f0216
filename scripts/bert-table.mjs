// Prints the README tables of the BERT run from its report.json files: pre-training, the float
// fine-tunes, and for each CAT run (folders <task>-cat<bits>-l<λ>) the metric, bits/value over
// all sites and per site type, milliseconds per training step and seconds of the whole run.
// Usage: node scripts/bert-table.mjs [RUNS_DIR]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
const R = process.argv[2] ?? 'runs';
const read = (d) => (existsSync(path.join(R, d, 'report.json')) ? JSON.parse(readFileSync(path.join(R, d, 'report.json'), 'utf8')) : null);
const TYPES = ['LayerNorm → Q/K/V', 'context → attn out', 'LayerNorm → FFN', 'GELU → FFN out'];
const f = (v, d = 3) => (v === undefined || v === null || Number.isNaN(v) ? '—' : v.toFixed(d));
const TASKS = [['ff', 'fine_foods (accuracy)'], ['bci', 'brown_cola_initial (MCC)'], ['bcis', 'brown_cola_initial, no pre-training (MCC)'], ['bcfwp', 'brown_cola_fw_pairs (MCC)'], ['bcfw', 'brown_cola_fw (MCC)'], ['bcs', 'brown_cola_scramble (MCC)'], ['bc', 'brown_cola (MCC)']];

const pre = read('mlm');
if (pre) {
  const h = pre.heldOut;
  console.log(`pre-training: ${pre.texts} texts, ${pre.settings.steps} steps × ${pre.settings.batchSize}, held-out MLM loss ${f(h.before.loss, 2)} → ${f(h.after.loss, 2)}, ` +
    `masked-token accuracy ${f(h.before.accuracy)} → ${f(h.after.accuracy)}, ${pre.seconds} s\n`);
}

console.log('| task (metric) | float run | init | train / dev | metric per epoch | accuracy | ms / step | seconds |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [p, task] of TASKS) {
  for (const d of readdirSync(R).filter((x) => x.startsWith(`${p}-float`)).sort()) {
    const r = read(d);
    if (!r) continue;
    const ms = r.epochs.map((x) => x.msPerStep).filter((x) => x !== undefined);
    console.log(`| ${task} | ${d} | ${r.settings.init ? 'pre-trained' : 'from scratch'} | ${r.train} / ${r.dev} | ${r.epochs.map((e) => f(e.metric)).join(' → ')} | ${f(r.final.accuracy)} | ${ms.length ? f(ms.reduce((a, b) => a + b, 0) / ms.length, 0) : '—'} | ${r.seconds} |`);
  }
}

console.log(`\n| task (metric) | run | activations | λ | metric | accuracy | bits/value (all sites) | ${TYPES.join(' | ')} | ms / step | seconds |`);
console.log(`|---|---|---|---|---|---|---|${TYPES.map(() => '---').join('|')}|---|---|`);
for (const [p, task] of TASKS) {
  // <prefix>-cat<bits>-l<λ>, or <prefix>-cat<bits>-target<B> (λ column: the target)
  const cats = readdirSync(R).map((d) => [d, /^([a-z]+)-cat(\d+)-(?:l|target)([\d.]+)$/.exec(d)]).filter(([, m]) => m && m[1] === p)
    .sort((a, b) => Number(b[1][2]) - Number(a[1][2]) || Number(a[1][3]) - Number(b[1][3]));
  if (!cats.length) continue;
  const init = read(cats[0][0])?.init;
  const fl = init ? read(path.basename(init)) : null;
  if (fl) console.log(`| ${task} | ${path.basename(init)} | float | — | ${f(fl.final.metric)} | ${f(fl.final.accuracy)} | 32 (float) | ${TYPES.map(() => '—').join(' | ')} | — | ${fl.seconds} |`);
  for (const [d, m] of cats) {
    const r = read(d);
    if (!r) { console.log(`| ${task} | ${d} | ${m[2]}-bit | ${m[3]} | not finished | | | ${TYPES.map(() => '').join(' | ')} | | |`); continue; }
    const per = Object.fromEntries(r.final.perType.map((t) => [t.type, t.bitsPerValue]));
    const e = r.epochs.at(-1);
    const ms = r.epochs.map((x) => x.msPerStep).filter((x) => x !== undefined);
    const lam = r.rate ? `target ${r.settings.targetBits} (λ → ${r.rate.lambda.toPrecision(3)}, ${r.rate.reached ? 'reached' : 'NOT reached'})` : r.settings.lambda;
    console.log(`| ${task} | ${d} | ${r.settings.bits}-bit | ${lam} | ${f(e.metric)} | ${f(e.accuracy)} | ${f(e.bitsPerValue)} | ${TYPES.map((t) => f(per[t], 2)).join(' | ')} | ${ms.length ? f(ms.reduce((a, b) => a + b, 0) / ms.length, 0) : '—'} | ${r.seconds} |`);
  }
}
