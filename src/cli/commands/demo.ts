// `catkit demo`: the README's main job on the embedded digits data (the flow is app/demo.ts).
import path from 'node:path';
import type { Command } from 'commander';
import { DEMO_DEFAULTS, type DemoSettings } from '../../app/run-config.js';
import { addThreadsOption, float, int } from '../options.js';
import { formatComparison, formatLayers } from '../tables.js';

export function registerDemoCommand(program: Command): void {
  const d = DEMO_DEFAULTS;
  addThreadsOption(program.command('demo').description('train on the embedded digits, then CAT at 4 bits with λ = 0 and λ > 0 (the `catkit cat` defaults), and compare'))
    .option('--out <dir>', 'folder for the three runs (default: runs/demo; an earlier demo there is replaced only with --force)', 'runs/demo')
    .option('--model <name>', `CIFAR-layout ResNet to train (default: ${d.model})`, d.model)
    .option('--epochs <n>', `full-precision epochs (default: ${d.epochs})`, int('--epochs', 1), d.epochs)
    .option('--cat-epochs <n>', `CAT fine-tuning epochs (default: ${d.catEpochs})`, int('--cat-epochs', 1), d.catEpochs)
    .option('--lambda <x>', `entropy weight of the regularized run (default: ${d.lambda})`, float('--lambda', 0), d.lambda)
    .option('--act-bits <b>', `activation bits (default: ${d.actBits})`, int('--act-bits', 1, 16), d.actBits)
    .option('--force', 'replace the runs of an earlier demo in --out')
    .action(async (o: DemoSettings & { out: string; force?: boolean }) => {
      const { runDemo } = await import('../../app/demo.js');
      const { createProgress } = await import('../progress.js');
      const t0 = performance.now();
      const runs = await runDemo(o, o.out, (line) => process.stderr.write(`${line}\n`), { force: o.force, progress: createProgress() });
      const last = runs[runs.length - 1]!.report;
      process.stdout.write(`\nPer-layer bits of the λ = ${o.lambda} run (test set, real coding):\n${formatLayers(last)}\n`);
      process.stdout.write(`\n${formatComparison(runs)}\n`);
      process.stdout.write(`\nbits are per activation value, weighted by element count over the ${last.layers.length} quantized ReLU outputs; ` +
        `entropy is the Shannon bound, huffman / rans / zero-run are real coded streams (tables included).\n`);
      process.stdout.write(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s; reports in ${o.out}/*/report.json\n`);
      process.stdout.write(`HTML report: ${path.join(o.out, 'report.html')}\n`);
    });
}
