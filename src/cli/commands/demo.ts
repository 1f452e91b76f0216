// `catkit demo`: the README's main job on the embedded digits data. Trains a small full-precision
// ResNet, CAT-fine-tunes it at 4-bit activations with λ = 0 and λ > 0, and prints them side by side.
import path from 'node:path';
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { TRAIN_DEFAULTS, CAT_DEFAULTS, type RunConfig } from '../../train/config.js';
import type { RunReport } from '../../report/index.js';
import { addThreadsOption, float, int } from '../options.js';

export function registerDemoCommand(program: Command): void {
  addThreadsOption(program.command('demo').description('train on the embedded digits, then CAT at 4 bits with λ = 0 and λ > 0, and compare'))
    .option('--out <dir>', 'folder for the three runs', 'runs/demo')
    .option('--model <name>', 'CIFAR-layout ResNet to train', 'resnet8')
    .option('--epochs <n>', 'full-precision epochs', int('--epochs', 1), 8)
    .option('--cat-epochs <n>', 'CAT fine-tuning epochs', int('--cat-epochs', 1), 4)
    .option('--lambda <x>', 'entropy weight of the regularized run', float('--lambda', 0), 1.5)
    .option('--act-bits <b>', 'activation bits', int('--act-bits', 1, 16), 4)
    .action(async (o: { out: string; model: string; epochs: number; catEpochs: number; lambda: number; actBits: number }) => {
      const { runTraining } = await import('../../train/run.js');
      const { formatComparison, formatLayers } = await import('../../report/index.js');
      const t0 = performance.now();
      rmSync(o.out, { recursive: true, force: true });
      const fpDir = path.join(o.out, 'fp32');
      const fp: RunConfig = { ...TRAIN_DEFAULTS, model: o.model, dataset: 'digits', randomCrop: 2, epochs: o.epochs, lr: 0.05 };
      process.stderr.write(`[1/3] full-precision ${o.model} on digits (${o.epochs} epochs) → ${fpDir}\n`);
      const reports: { label: string; report: RunReport }[] = [{ label: 'fp32', report: await runTraining(fp, { outDir: fpDir }) }];
      for (const [i, lambda] of [0, o.lambda].entries()) {
        const dir = path.join(o.out, `cat-${o.actBits}bit-lambda${lambda}`);
        process.stderr.write(`[${i + 2}/3] CAT ${o.actBits}-bit activations, 8-bit weights, λ = ${lambda} (${o.catEpochs} epochs) → ${dir}\n`);
        // The λ sweep's setting (scripts/lambda-sweep.sh): a cosine-decayed lr 0.01 lets the
        // weights reorganise for low entropy within a few epochs; 16 images per entropy sample.
        const cat: RunConfig = {
          ...fp, ...CAT_DEFAULTS, task: 'cat', init: fpDir, actBits: o.actBits, weightBits: 8, lambda, epochs: o.catEpochs,
          lr: 0.01, schedule: 'cosine', sampleImages: 16, bnRecalibration: 20,
        };
        reports.push({ label: `cat λ=${lambda}`, report: await runTraining(cat, { outDir: dir }) });
      }
      process.stdout.write(`\nPer-layer bits of the λ = ${o.lambda} run (test set, real coding):\n${formatLayers(reports[2]!.report)}\n`);
      process.stdout.write(`\n${formatComparison(reports)}\n`);
      process.stdout.write(`\nbits are per activation value, weighted by element count over the ${reports[2]!.report.layers.length} quantized ReLU outputs; ` +
        `entropy is the Shannon bound, huffman / rans / zero-run are real coded streams (tables included).\n`);
      process.stdout.write(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s; reports in ${o.out}/*/report.json\n`);
    });
}
