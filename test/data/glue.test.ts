// GLUE-format loaders on fixtures in the exact GLUE layouts (test/fixtures/glue), malformed rows
// named by file and line, paths kept inside the data folder; metrics against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGlue, loadTsv, parseCola, parseMnli, parseSst2, resolveInside, MNLI_LABELS } from '../../src/data/text/glue.js';
import { accuracy, f1, macroF1, matthewsCorrelation } from '../../src/train/metrics.js';
import { CatkitError } from '../../src/errors.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/glue/', import.meta.url));

test('CoLA (no header, label col 2, sentence col 4), SST-2 (header) and MNLI matched/mismatched load from GLUE-layout folders', () => {
  const cola = loadGlue('cola', path.join(FIXTURES, 'CoLA'), 'train');
  assert.equal(cola.examples.length, 6);
  assert.deepEqual(cola.examples[1], { a: 'The committee approved last week the budget the.', b: null, label: 0 });
  assert.deepEqual(cola.examples.map((e) => e.label), [1, 0, 1, 0, 1, 0]);
  assert.equal(loadGlue('cola', path.join(FIXTURES, 'CoLA'), 'dev').examples.length, 5);
  const sst = loadGlue('sst2', path.join(FIXTURES, 'SST-2'), 'dev');
  assert.deepEqual(sst.examples[0], { a: 'sharp writing and a superb cast ', b: null, label: 1 });
  for (const split of ['train', 'dev_matched', 'dev_mismatched']) {
    const m = loadGlue('mnli', path.join(FIXTURES, 'MNLI'), split);
    assert.deepEqual(m.labels, ['entailment', 'neutral', 'contradiction']);
    assert.ok(m.examples.every((e) => e.b !== null));
  }
  const dm = loadGlue('mnli', path.join(FIXTURES, 'MNLI'), 'dev_matched');
  assert.deepEqual(dm.examples[1], { a: 'The shop sells only bread.', b: 'The shop sells shoes.', label: 2 }, 'gold_label, not label1');
  assert.deepEqual(loadGlue('mnli', path.join(FIXTURES, 'MNLI'), 'train').examples.map((e) => MNLI_LABELS[e.label]), ['entailment', 'neutral', 'contradiction']);
  assert.throws(() => loadGlue('mnli', path.join(FIXTURES, 'MNLI'), 'dev'), /mnli has splits train, dev_matched, dev_mismatched, not 'dev'/);
});

test('malformed rows: one-line errors naming the file and line', () => {
  const isData = (re: RegExp) => (e: unknown) => e instanceof CatkitError && e.userFacing && re.test(e.message);
  assert.throws(() => parseCola(['a\t1\t\tok', 'b\t1\tonly three'], 'cola.tsv'), isData(/^cola\.tsv:2: expected 4 tab-separated columns/));
  assert.throws(() => parseCola(['a\t2\t\tbad label'], 'cola.tsv'), isData(/^cola\.tsv:1: label '2' is not one of 0, 1/));
  assert.throws(() => parseCola(['a\t1\t\t  '], 'cola.tsv'), isData(/^cola\.tsv:1: empty sentence/));
  assert.throws(() => parseSst2(['text\tlabel', 'x\t1'], 'sst.tsv'), isData(/^sst\.tsv:1: header has no 'sentence' column/));
  assert.throws(() => parseSst2(['sentence\tlabel', 'good\t1', 'bad\tneg'], 'sst.tsv'), isData(/^sst\.tsv:3: label 'neg'/));
  assert.throws(() => parseMnli(['sentence1\tsentence2\tgold_label', 'a\tb\tentailment', 'a\tb\t-'], 'm.tsv'), isData(/^m\.tsv:3: label '-' is not one of entailment, neutral, contradiction/));
  assert.throws(() => parseMnli(['sentence1\tsentence2\tgold_label', 'a\tb'], 'm.tsv'), isData(/^m\.tsv:2: expected 3 tab-separated columns, got 2/));
});

test('generic tsv: text and label columns by header name or index; labels numeric-sorted; files stay inside the folder', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-tsv-'));
  try {
    writeFileSync(path.join(dir, 'pairs.tsv'), 'id\tq1\tq2\tdup\n1\thow old\twhat age\t1\n2\tred car\tblue sky\t0\n3\ta\tb\t10\n');
    const d = loadTsv(dir, 'pairs.tsv', { textColumns: ['q1', 'q2'], labelColumn: 'dup' });
    assert.deepEqual(d.labels, ['0', '1', '10']);
    assert.deepEqual(d.examples[0], { a: 'how old', b: 'what age', label: 1 });
    writeFileSync(path.join(dir, 'plain.tsv'), 'great film\tpos\ndull\tneg\n');
    const p = loadTsv(dir, 'plain.tsv', { textColumns: ['0'], labelColumn: '1', header: false, labels: ['neg', 'pos'] });
    assert.deepEqual(p.examples.map((e) => e.label), [1, 0]);
    assert.throws(() => loadTsv(dir, 'plain.tsv', { textColumns: ['0'], labelColumn: '1', header: false, labels: ['neg'] }), /plain\.tsv:1: label 'pos'/);
    assert.throws(() => loadTsv(dir, '../outside.tsv', { textColumns: ['a'], labelColumn: 'b' }), /must be inside the data folder/);
    assert.throws(() => resolveInside(dir, '/etc/passwd'), /must be inside the data folder/);
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'x.tsv'), 'a\tb\n');
    assert.equal(resolveInside(dir, 'sub/x.tsv'), path.join(realpathSync(dir), 'sub', 'x.tsv'));
    // A link inside the folder that points out of it is refused like '..'.
    writeFileSync(path.join(path.dirname(dir), `${path.basename(dir)}-outside.tsv`), 'a\tb\nsecret\t1\n');
    symlinkSync(path.join(path.dirname(dir), `${path.basename(dir)}-outside.tsv`), path.join(dir, 'link.tsv'));
    assert.throws(() => loadTsv(dir, 'link.tsv', { textColumns: ['a'], labelColumn: 'b' }), /link\.tsv' is a link to a file outside its folder/);
    assert.throws(() => loadTsv(dir, 'missing.tsv', { textColumns: ['a'], labelColumn: 'b' }), /missing\.tsv: no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-outside.tsv`, { force: true });
  }
});

test('metrics: accuracy, MCC and F1 against hand-computed values', () => {
  // TP 3, FP 2, TN 2, FN 1
  const pred = [1, 1, 0, 0, 1, 0, 1, 1], gold = [1, 0, 0, 1, 1, 0, 1, 0];
  assert.equal(accuracy(pred, gold), 5 / 8);
  assert.ok(Math.abs(matthewsCorrelation(pred, gold) - (3 * 2 - 2 * 1) / Math.sqrt(5 * 4 * 4 * 3)) < 1e-15);
  assert.ok(Math.abs(f1(pred, gold) - 6 / 9) < 1e-15);
  assert.equal(matthewsCorrelation([1, 1, 1, 1], [1, 0, 1, 0]), 0, 'a constant predictor scores 0');
  assert.ok(Math.abs(matthewsCorrelation([0, 1, 0, 1], [0, 1, 0, 1]) - 1) < 1e-15);
  assert.ok(Math.abs(matthewsCorrelation([1, 0, 1, 0], [0, 1, 0, 1]) + 1) < 1e-15);
  // three classes: correct 3 of 6, every class twice in gold and pred → (3·6 − 12)/(36 − 12) = 0.25
  assert.ok(Math.abs(matthewsCorrelation([0, 1, 2, 0, 1, 2], [0, 1, 2, 1, 2, 0], 3) - 0.25) < 1e-15);
  assert.ok(Math.abs(macroF1([0, 1, 2, 0, 1, 2], [0, 1, 2, 1, 2, 0], 3) - 0.5) < 1e-15);
  assert.throws(() => accuracy([1], [1, 0]), /1 predictions for 2 labels/);
});
