// GLUE-format text classification data, read exactly as the GLUE distribution lays it out:
//   CoLA  train.tsv / dev.tsv: no header; columns source, label (0/1), original mark, sentence.
//   SST-2 train.tsv / dev.tsv: header "sentence\tlabel".
//   MNLI  train.tsv / dev_matched.tsv / dev_mismatched.tsv: a header naming sentence1, sentence2 and
//         gold_label (entailment / neutral / contradiction) among other columns.
//   tsv   any tab-separated file: text columns and a label column by header name or 0-based index.
// Fields are split on tabs with no quoting (as GLUE's own readers do). Every file a task names is a
// fixed or user-given name resolved inside the data folder; reads are bounded; a malformed row is
// an error naming the file and line.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CatkitError } from '../../errors.js';
import { readFileBounded, resolveInside as resolveInsideFolder } from '../../io/safe-files.js';

export interface TextExample { a: string; b: string | null; label: number }
export interface TextDataset {
  /** Task and split, e.g. 'cola/dev'. */
  name: string;
  /** Label names by id. */
  labels: string[];
  examples: TextExample[];
  /** The file it came from. */
  file: string;
}

/** MNLI dev/train together are ~400 MB; anything above this is not a GLUE file. */
export const MAX_TSV_BYTES = 1 << 30;

export const GLUE_TASKS = ['cola', 'sst2', 'mnli'] as const;
export type GlueTask = (typeof GLUE_TASKS)[number];

export const MNLI_LABELS = ['entailment', 'neutral', 'contradiction'];

/** Files of each task's splits inside its folder. */
export const GLUE_FILES: Record<GlueTask, Record<string, string>> = {
  cola: { train: 'train.tsv', dev: 'dev.tsv' },
  sst2: { train: 'train.tsv', dev: 'dev.tsv' },
  mnli: { train: 'train.tsv', dev_matched: 'dev_matched.tsv', dev_mismatched: 'dev_mismatched.tsv' },
};

export function dataError(file: string, line: number | null, msg: string): CatkitError {
  return new CatkitError('bad_data', `${file}${line === null ? '' : `:${line}`}: ${msg}`, { file });
}

/**
 * `name` resolved inside `dir` (its real path): absolute paths, `..` that leave the folder and
 * symbolic links that point out of it are refused.
 */
export function resolveInside(dir: string, name: string): string {
  const root = path.resolve(dir);
  const full = path.resolve(root, name);
  if (path.isAbsolute(name) || (full !== root && !full.startsWith(root + path.sep))) {
    throw new CatkitError('path_outside', `${name}: a data file must be inside the data folder ${dir}`);
  }
  if (!existsSync(full)) throw new CatkitError('no_such_file', `${full}: no such file`, { file: full });
  return resolveInsideFolder(root, name, full, { what: 'data file' });
}

/** Reads a text file (bounded) and splits it into lines without their terminators. */
export function readLines(file: string, maxBytes = MAX_TSV_BYTES): string[] {
  if (!existsSync(file)) throw new CatkitError('no_such_file', `${file}: no such file`, { file });
  const lines = readFileBounded(file, { maxBytes }).toString('utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function labelIndex(value: string, labels: readonly string[], file: string, line: number): number {
  const i = labels.indexOf(value);
  if (i < 0) throw dataError(file, line, `label '${value}' is not one of ${labels.join(', ')}`);
  return i;
}

/** CoLA: 4 columns, no header. */
export function parseCola(lines: readonly string[], file: string): TextExample[] {
  return lines.map((l, i) => {
    const f = l.split('\t');
    if (f.length !== 4) throw dataError(file, i + 1, `expected 4 tab-separated columns (source, label, mark, sentence), got ${f.length}`);
    if (f[3]!.trim() === '') throw dataError(file, i + 1, 'empty sentence');
    return { a: f[3]!, b: null, label: labelIndex(f[1]!, ['0', '1'], file, i + 1) };
  });
}

/** Columns of a header row by name; a missing one is an error naming the file. */
function headerColumns(header: string, names: readonly string[], file: string): number[] {
  const cols = header.split('\t');
  return names.map((n) => {
    const i = cols.indexOf(n);
    if (i < 0) throw dataError(file, 1, `header has no '${n}' column (columns: ${cols.join(', ')})`);
    return i;
  });
}

/** SST-2: header "sentence\tlabel". */
export function parseSst2(lines: readonly string[], file: string): TextExample[] {
  if (lines.length === 0) throw dataError(file, null, 'empty file (expected a "sentence\\tlabel" header)');
  const [s, y] = headerColumns(lines[0]!, ['sentence', 'label'], file) as [number, number];
  const width = lines[0]!.split('\t').length;
  return lines.slice(1).map((l, i) => {
    const f = l.split('\t');
    if (f.length !== width) throw dataError(file, i + 2, `expected ${width} tab-separated columns, got ${f.length}`);
    return { a: f[s]!, b: null, label: labelIndex(f[y]!, ['0', '1'], file, i + 2) };
  });
}

/** MNLI: sentence1, sentence2, gold_label by header name (a row may carry extra annotator labels before gold_label). */
export function parseMnli(lines: readonly string[], file: string): TextExample[] {
  if (lines.length === 0) throw dataError(file, null, 'empty file (expected the MNLI header)');
  const [s1, s2, gold] = headerColumns(lines[0]!, ['sentence1', 'sentence2', 'gold_label'], file) as [number, number, number];
  const width = lines[0]!.split('\t').length;
  return lines.slice(1).map((l, i) => {
    const f = l.split('\t');
    if (f.length !== width) throw dataError(file, i + 2, `expected ${width} tab-separated columns, got ${f.length}`);
    return { a: f[s1]!, b: f[s2]!, label: labelIndex(f[gold]!, MNLI_LABELS, file, i + 2) };
  });
}

/** Loads one split of a GLUE task from its folder. */
export function loadGlue(task: GlueTask, dir: string, split: string): TextDataset {
  const files = GLUE_FILES[task];
  const name = files[split];
  if (!name) throw new CatkitError('bad_option', `${task} has splits ${Object.keys(files).join(', ')}, not '${split}'`);
  const file = resolveInside(dir, name);
  const lines = readLines(file);
  const examples = task === 'cola' ? parseCola(lines, file) : task === 'sst2' ? parseSst2(lines, file) : parseMnli(lines, file);
  return { name: `${task}/${split}`, labels: task === 'mnli' ? [...MNLI_LABELS] : ['0', '1'], examples, file };
}

export interface TsvOptions {
  /** Text columns (one, or two for pairs) by header name, or by 0-based index when there is no header. */
  textColumns: readonly string[];
  labelColumn: string;
  /** First line is a header (default true). */
  header?: boolean;
  /** Label names in id order; default: the distinct labels of this file (numerically sorted when all are numbers). */
  labels?: readonly string[];
}

/** A generic TSV file: text column(s) and a label column. */
export function parseTsv(lines: readonly string[], file: string, o: TsvOptions): { examples: TextExample[]; labels: string[] } {
  if (o.textColumns.length < 1 || o.textColumns.length > 2) throw new CatkitError('bad_option', `--text-columns takes one or two columns, got ${o.textColumns.length}`);
  const header = o.header ?? true;
  if (header && lines.length === 0) throw dataError(file, null, 'empty file (expected a header)');
  const wanted = [...o.textColumns, o.labelColumn];
  const width = (lines[0] ?? '').split('\t').length;
  const cols = header ? headerColumns(lines[0]!, wanted, file) : wanted.map((c) => {
    const i = Number(c);
    if (!Number.isInteger(i) || i < 0) throw new CatkitError('bad_option', `without a header, columns are 0-based indices; got '${c}'`);
    if (i >= width) throw dataError(file, 1, `column ${i} does not exist (the row has ${width} columns)`);
    return i;
  });
  const body = header ? lines.slice(1) : lines;
  const first = header ? 2 : 1;
  const rows = body.map((l, i) => {
    const f = l.split('\t');
    if (f.length !== width) throw dataError(file, i + first, `expected ${width} tab-separated columns, got ${f.length}`);
    return cols.map((c) => f[c]!);
  });
  let labels = o.labels ? [...o.labels] : [...new Set(rows.map((r) => r.at(-1)!))];
  if (!o.labels) labels = labels.every((l) => l !== '' && !Number.isNaN(Number(l))) ? labels.sort((x, y) => Number(x) - Number(y)) : labels.sort();
  const examples = rows.map((r, i) => ({ a: r[0]!, b: o.textColumns.length === 2 ? r[1]! : null, label: labelIndex(r.at(-1)!, labels, file, i + first) }));
  return { examples, labels };
}

export function loadTsv(dir: string, fileName: string, o: TsvOptions): TextDataset {
  const file = resolveInside(dir, fileName);
  const { examples, labels } = parseTsv(readLines(file), file, o);
  return { name: `tsv/${fileName}`, labels, examples, file };
}
