// `catkit report RUN… --out FILE.html`: one offline HTML page for several runs.
import type { Command } from 'commander';

export function registerReportCommand(program: Command): void {
  program.command('report').description('combine saved runs into one self-contained HTML report (accuracy vs bits, per-layer bits, code histograms, curves, ledger)')
    .argument('<runs...>', 'run folders (or their report.json files)')
    .requiredOption('--out <file.html>', 'the HTML file to write')
    .option('--title <text>', 'page title')
    .action(async (runs: string[], o: { out: string; title?: string }) => {
      const { combineReports } = await import('../../report/combine.js');
      const { file, runs: read } = combineReports(runs, o.out, { title: o.title });
      process.stdout.write(`${read.length} runs → ${file}\n`);
    });
}
