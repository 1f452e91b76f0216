// npm run bench:codec — the same benchmark as `catkit codec bench` (src/codec/bench.ts).
import { benchJSON, runCodecBench } from '../src/codec/bench.js';
import { formatBenchTable } from '../src/cli/tables.js';

// `node dist/bench/codec.js cpu` times with process CPU time instead of wall clock.
const clock = process.argv[2] === 'cpu' ? 'cpu' : 'wall';
const rows = runCodecBench({ clock, log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`${formatBenchTable(rows)}\n${benchJSON(rows)}\n`);
