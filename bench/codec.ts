// npm run bench:codec — the same benchmark as `catkit codec bench` (src/codec/bench.ts).
import { benchJSON, formatBenchTable, runCodecBench } from '../src/codec/bench.js';

const rows = runCodecBench({ log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${formatBenchTable(rows)}\n${benchJSON(rows)}\n`);
