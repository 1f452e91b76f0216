// `catkit demo` as a flow: a full-precision model on the embedded digits, then CAT at λ = 0 and
// λ > 0 with exactly what `catkit cat --init` would use by default. Returns the three reports; the
// caller prints them.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { CatkitError } from '../errors.js';
import { CHECKPOINT_JSON } from '../train/checkpoint-meta.js';
import type { RunReport } from '../report/index.js';
import type { Progress } from '../train/progress.js';
import { runTraining } from './run.js';
import { writeHtmlReport } from '../report/html.js';
import { demoCatConfig, demoFullPrecisionConfig, type DemoSettings } from './run-config.js';

export interface DemoRun { label: string; dir: string; report: RunReport }

/** The run folders of a demo in `out` (replaced when the demo runs again with --force). */
export function demoFolders(d: DemoSettings, out: string): { fp: string; cat: [string, string] } {
  const cat = (lambda: number) => path.join(out, `cat-${d.actBits}bit-lambda${lambda}`);
  return { fp: path.join(out, 'fp32'), cat: [cat(0), cat(d.lambda)] };
}

export async function runDemo(d: DemoSettings, out: string, log: (line: string) => void = () => {}, o: { force?: boolean; progress?: Progress } = {}): Promise<DemoRun[]> {
  const dirs = demoFolders(d, out);
  // The demo owns these three folders and nothing else in `out`; earlier runs in them are replaced
  // only with `force` (as `train --out` refuses an existing run).
  const held = [dirs.fp, ...dirs.cat].filter((dir) => existsSync(path.join(dir, CHECKPOINT_JSON)));
  if (held.length && !o.force) {
    throw new CatkitError('run_exists', `${out} already holds the runs of an earlier demo (${held.map((h) => path.basename(h)).join(', ')})`,
      { hint: 'pass --force to replace them, or choose another --out' });
  }
  const { force, progress } = o;
  const fp = demoFullPrecisionConfig(d);
  log(`[1/3] full-precision ${d.model} on digits (${d.epochs} epochs) → ${dirs.fp}`);
  const runs: DemoRun[] = [{ label: 'fp32', dir: dirs.fp, report: await runTraining(fp, { outDir: dirs.fp, force, progress }) }];
  for (const [i, lambda] of [0, d.lambda].entries()) {
    const dir = dirs.cat[i]!;
    log(`[${i + 2}/3] CAT ${d.actBits}-bit activations, 8-bit weights, λ = ${lambda} (${d.catEpochs} epochs) → ${dir}`);
    runs.push({ label: `cat λ=${lambda}`, dir, report: await runTraining(demoCatConfig(d, dirs.fp, fp, lambda), { outDir: dir, force, progress }) });
  }
  // One page for the three runs (accuracy vs bits, histograms λ = 0 vs λ > 0, curves, ledger).
  writeHtmlReport(path.join(out, 'report.html'), runs, { title: `catkit demo: ${d.model} on digits, ${d.actBits}-bit CAT` });
  return runs;
}
