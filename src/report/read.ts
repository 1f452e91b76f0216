// Reading reports back from run folders: bounded, parsed, schema-checked (they are user files).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CatkitError } from '../errors.js';
import { assertReport } from './schema.js';
import type { RunReport } from './report.js';

/** Largest report.json accepted (a ResNet-50 report with histograms is well under 1 MB). */
export const MAX_REPORT_BYTES = 64 << 20;

/** DIR → DIR/report.json (or eval-report.json when that is all there is); a .json file is taken as is. */
export function reportFileOf(runOrFile: string): string {
  if (runOrFile.endsWith('.json')) return runOrFile;
  for (const name of ['report.json', 'eval-report.json']) {
    const f = path.join(runOrFile, name);
    if (existsSync(f)) return f;
  }
  throw new CatkitError('report_missing', `no report.json in ${runOrFile} (a run folder from catkit train, cat or eval)`, { file: runOrFile });
}

export function readReport(runOrFile: string): RunReport {
  const file = reportFileOf(runOrFile);
  if (!existsSync(file)) throw new CatkitError('report_missing', `${file} does not exist`, { file });
  const size = statSync(file).size;
  if (size > MAX_REPORT_BYTES) throw new CatkitError('report_too_large', `${file} is ${size} bytes, more than a report can be (${MAX_REPORT_BYTES})`, { file });
  let value: unknown;
  try { value = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new CatkitError('report_invalid', `${file} is not valid JSON: ${(e as Error).message}`, { file });
  }
  const report = upgrade(value);
  assertReport(report, file);
  return report;
}

/** Fields added after the first reports were written take their "not measured" values. */
function upgrade(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const r = value as Record<string, unknown>;
    for (const [k, v] of [['codedImages', 0], ['bytesPerImage', null], ['baseline', null], ['rate', null]] as const) if (!(k in r)) r[k] = v;
    // Compression ratios once covered entropy and rANS only.
    const bpv = r.bitsPerValue as Record<string, number> | null | undefined, b = r.actBits;
    if (r.compression && bpv && typeof b === 'number') {
      const of = (n: number) => Object.fromEntries(['entropy', 'huffman', 'rans', 'zerorun'].map((m) => [m, typeof bpv[m] === 'number' ? n / bpv[m]! : null]));
      r.compression = { vsActBits: of(b), vs32bit: of(32) };
    }
  }
  return value;
}

/**
 * The accuracy of the run a CAT run started from, when that run has a report (null otherwise).
 * Only `task` and `accuracy` are read, so a report written by an older catkit still counts.
 */
export function readBaseline(initRun: string | undefined): { run: string; accuracy: number } | null {
  const file = initRun && !initRun.endsWith('.json') ? path.join(initRun, 'report.json') : null;
  if (!file || !existsSync(file) || statSync(file).size > MAX_REPORT_BYTES) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { task?: unknown; accuracy?: unknown };
    return r.task === 'train' && typeof r.accuracy === 'number' && r.accuracy >= 0 && r.accuracy <= 1 ? { run: initRun!, accuracy: r.accuracy } : null;
  } catch { return null; } // unreadable: the run goes on without a baseline
}
