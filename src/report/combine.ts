// `catkit report RUN… --out FILE.html`: several saved runs on one page (a sweep, a comparison).
import path from 'node:path';
import { CatkitError } from '../errors.js';
import { readReport } from './read.js';
import { writeHtmlReport } from './html.js';
import type { LabelledReport } from './charts.js';

/** Labels runs by folder name, or by their path when two folders share a name. */
export function labelRuns(runs: readonly string[]): string[] {
  const names = runs.map((r) => path.basename(r.endsWith('.json') ? path.dirname(r) : path.resolve(r)));
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? runs[i]! : n));
}

export function combineReports(runs: readonly string[], out: string, o: { title?: string } = {}): { file: string; runs: LabelledReport[] } {
  if (!runs.length) throw new CatkitError('usage', 'catkit report: give at least one run folder');
  if (!out.endsWith('.html')) throw new CatkitError('usage', `--out ${out}: the combined report is an .html file`);
  const labels = labelRuns(runs);
  const reports = runs.map((r, i) => ({ label: labels[i]!, report: readReport(r) }));
  return { file: writeHtmlReport(out, reports, o), runs: reports };
}
