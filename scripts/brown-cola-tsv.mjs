// Writes the built-in Brown acceptability tasks as CoLA-layout TSV folders (train.tsv, dev.tsv),
// e.g. for scripts/acceptability-baseline.py. Needs a build (npm run build).
// Usage: node scripts/brown-cola-tsv.mjs OUT_DIR [TRAIN_SIZE]   → OUT_DIR/<task>/{train,dev}.tsv
import path from 'node:path';
import { brownAcceptability, writeColaTsv } from '../dist/src/data/text/acceptability.js';
import { loadBrown } from '../dist/src/data/text/brown.js';

const [out, size = '16000'] = process.argv.slice(2);
if (!out) { console.error('usage: node scripts/brown-cola-tsv.mjs OUT_DIR [TRAIN_SIZE]'); process.exit(2); }
const brown = loadBrown();
const TASKS = [
  ['brown_cola', 'any', false], ['brown_cola_fw', 'function-word', false], ['brown_cola_scramble', 'scramble', false],
  ['brown_cola_pairs', 'any', true], ['brown_cola_fw_pairs', 'function-word', true], ['brown_cola_initial', 'initial', false],
];
for (const [name, corruptions, pairs] of TASKS) {
  writeColaTsv(path.join(out, name), brownAcceptability(brown, { trainSize: Number(size), devSize: 1000, corruptions, pairs }));
  console.log(`${path.join(out, name)}: train.tsv, dev.tsv`);
}
