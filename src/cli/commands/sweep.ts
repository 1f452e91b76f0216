// `catkit sweep --init RUN --targets 1.5,2,2.5 [--lambdas …] --out DIR [cat options]`: parses, runs
// the sweep flow (src/app/sweep.ts) and prints its summary.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { CatkitError } from '../../errors.js';
import { configureCat } from '../../app/configure.js';
import type { CatFlags } from '../../app/run-config.js';
import { addCatOptions, addDataOptions, addOptimOptions, addRunOptions } from './train.js';

const numberList = (name: string, min: number) => (v: string): number[] => {
  const xs = v.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  if (!xs.length || xs.some((x) => !Number.isFinite(x) || x < min)) throw new InvalidArgumentError(`${name} takes comma-separated numbers >= ${min}, got '${v}'`);
  return xs;
};

type SweepFlags = CatFlags & { out: string; resume?: boolean; force?: boolean; nprocPerNode?: number; nnodes?: number; config?: string; codedBatches?: number; targets?: number[]; lambdas?: number[] };

export function registerSweepCommand(program: Command): void {
  const sweep = program.command('sweep').description('CAT fine-tunings from one run at several rate targets and/or λ values, plus the λ = 0 control; resumable; summary + one HTML report');
  addDataOptions(sweep.optionsGroup('Model and data:').option('--init <run>', 'full-precision run folder every point starts from'), 'cat');
  addOptimOptions(sweep, 'cat');
  addCatOptions(sweep);
  addRunOptions(sweep)
    .optionsGroup('Sweep:')
    .option('--targets <bits,…>', 'target bits/value of each point, e.g. 1.5,2,2.5', numberList('--targets', 0))
    .option('--lambdas <x,…>', 'fixed λ of further points, e.g. 0.1,0.3', numberList('--lambdas', 0))
    .addHelpText('after', `
Each point goes to OUT/<point>/ (lambda-0, target-1.5, lambda-0.3, …) with its report.json and report.html;
OUT/sweep.json, OUT/sweep.md and OUT/report.html summarise them (Pareto-optimal points marked).
Running the same command again skips finished points and continues an interrupted one.`)
    .action(async (o: SweepFlags) => {
      const usage = (m: string) => new CatkitError('bad_option', m);
      if (o.resume) throw usage('catkit sweep resumes by itself: run the same command again');
      if (o.targetBits !== undefined || o.targetBitsAt !== undefined) throw usage('catkit sweep: give the targets with --targets, not --target-bits');
      if (o.nprocPerNode !== undefined || o.nnodes !== undefined) throw usage('catkit sweep runs its points in this process: --nproc-per-node / --nnodes are not supported (rate targets are single-process)');
      if (o.force) throw usage('catkit sweep keeps finished points: remove a point\'s folder to run it again instead of --force');
      const targets = o.targets ?? [], lambdas = o.lambdas ?? [];
      if (!targets.length && !lambdas.length) throw usage('catkit sweep: give --targets and/or --lambdas');
      const [{ runSweep, sweepPoints }, { runTraining }, { createProgress }] = await Promise.all([import('../../app/sweep.js'), import('../../app/run.js'), import('../progress.js')]);
      const points = sweepPoints(targets, lambdas);
      const { targets: _t, lambdas: _l, out, ...flags } = o;
      // Options are checked (and the --init run read) before the first point trains.
      const configFor = (p: (typeof points)[number], dir: string) => configureCat({
        ...flags, out: dir, lambda: p.lambda, targetBits: p.targetBits,
        targetMetric: p.kind === 'target' ? flags.targetMetric : undefined, targetTolerance: p.kind === 'target' ? flags.targetTolerance : undefined,
        targetMeasureEvery: p.kind === 'target' ? flags.targetMeasureEvery : undefined,
      });
      const summary = await runSweep({
        out, init: flags.init ?? '', points, configFor,
        run: (config, dir, resume) => runTraining(config, { outDir: dir, resume, codedBatches: o.codedBatches, progress: createProgress() }),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(readFileSync(summary.markdown, 'utf8'));
      process.stdout.write(`summary: ${summary.json}, ${summary.markdown}\nHTML report: ${summary.html}\n`);
    });
}
