// The offline text tasks: small_fine_foods (committed extraction, re-extracted from Debian's
// r-cran-modeldata when installed and compared byte for byte) and the Brown acceptability task
// (deterministic, balanced, document-disjoint splits, CoLA layout round trip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fineFoodsDir, loadFineFoods, parseFineFoods } from '../../src/data/text/fine-foods.js';
import { brownAcceptability, brownPretrainingText, corrupt, writeColaTsv } from '../../src/data/text/acceptability.js';
import { loadBrown } from '../../src/data/text/brown.js';
import { loadGlue } from '../../src/data/text/glue.js';
import { mulberry32 } from '../../src/data/random.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/extract_small_fine_foods.py', import.meta.url));
const MODELDATA = '/usr/lib/R/site-library/modeldata/data';

test('small_fine_foods: 4,000 train (2,600 great) and 1,000 test (658 great) reviews', () => {
  const tr = loadFineFoods('train'), te = loadFineFoods('test');
  assert.equal(tr.examples.length, 4000);
  assert.equal(tr.examples.filter((e) => e.label === 1).length, 2600);
  assert.equal(te.examples.length, 1000);
  assert.equal(te.examples.filter((e) => e.label === 1).length, 658);
  assert.deepEqual(tr.labels, ['other', 'great']);
  assert.equal(tr.examples[0]!.a, 'this stuff is  not stuffing  its  not good at all  save your money');
  assert.equal(tr.examples[0]!.label, 0);
  assert.throws(() => parseFineFoods('{"review": "ok", "label": "great"}\n{"review": "x", "label": "meh"}\n', 'f.jsonl'), /^Error: f\.jsonl:2: label 'meh'|f\.jsonl:2: label 'meh' is not one of other, great/);
  assert.throws(() => parseFineFoods('{"review": 3}\n', 'f.jsonl'), /f\.jsonl:1: review must be a non-empty string/);
});

test('small_fine_foods: the committed files are what the extractor makes from r-cran-modeldata', { skip: existsSync(path.join(MODELDATA, 'Rdata.rdb')) ? false : 'r-cran-modeldata not installed' }, () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'catkit-fine-foods-'));
  try {
    execFileSync('/usr/bin/python3', [SCRIPT, MODELDATA, out], { stdio: 'pipe' });
    for (const f of ['train.jsonl.gz', 'test.jsonl.gz']) {
      assert.ok(readFileSync(path.join(out, f)).equals(readFileSync(path.join(fineFoodsDir(), f))), `${f} is byte-identical`);
    }
  } finally { rmSync(out, { recursive: true, force: true }); }
});

test('corruptions: agreement swaps and adjacent-word swaps, by hand', () => {
  const s = { words: ['The', 'dogs', 'are', 'barking', 'loudly', '.'], tags: ['at', 'nns', 'ber', 'vbg', 'rb', '.'] };
  const seen = new Set<string>();
  for (let seed = 0; seed < 40; seed++) seen.add(corrupt(s, mulberry32(seed))!.words.join(' '));
  assert.deepEqual([...seen].sort(), ['The are dogs barking loudly .', 'The dogs is barking loudly .', 'The dogs are loudly barking .', 'The dogs barking are loudly .'].sort());
  const v = corrupt({ words: ['He', 'runs', '.'], tags: ['pps', 'vbz', '.'] }, () => 0)!;
  assert.deepEqual(v, { words: ['He', 'run', '.'], kind: 'agreement' });
  assert.equal(corrupt({ words: ['Go', '!'], tags: ['vb', '.'] }, () => 0), null);
  // function-word set: a swap needs a closed-class word; agreement only right after a subject pronoun
  const fw = new Set<string>();
  for (let seed = 0; seed < 40; seed++) fw.add(corrupt(s, mulberry32(seed), 'function-word')!.words.join(' '));
  assert.deepEqual([...fw].sort(), ['The are dogs barking loudly .', 'The dogs barking are loudly .'].sort());
  assert.equal(corrupt({ words: ['He', 'runs', '.'], tags: ['pps', 'vbz', '.'] }, () => 0, 'function-word'), null);
  const they = new Set<string>();
  for (let seed = 0; seed < 40; seed++) they.add(corrupt({ words: ['They', 'were', 'here', '.'], tags: ['ppss', 'bed', 'rb', '.'] }, mulberry32(seed), 'function-word')!.words.join(' '));
  assert.deepEqual([...they].sort(), ['They here were .', 'They was here .']);
  assert.equal(corrupt({ words: ['Big', 'red', 'barns', '.'], tags: ['jj-tl', 'jj', 'nns', '.'] }, () => 0, 'function-word'), null);
  // scramble: a window of half the sentence (at least 4 words, never the final mark) reordered
  const long = { words: ['The', 'old', 'man', 'walked', 'slowly', 'to', 'the', 'village', 'church', '.'], tags: [] as string[] };
  for (let seed = 0; seed < 20; seed++) {
    const c = corrupt(long, mulberry32(seed), 'scramble')!;
    assert.equal(c.kind, 'order');
    assert.deepEqual([...c.words].sort(), [...long.words].sort(), 'the same words');
    assert.equal(c.words.at(-1), '.');
    const moved = c.words.map((w, i) => (w !== long.words[i] ? i : -1)).filter((i) => i >= 0);
    assert.ok(moved.length >= 2 && moved.at(-1)! - moved[0]! < 5, `window of 5: moved ${moved.join(',')}`);
  }
  assert.equal(corrupt({ words: ['Go', 'home', 'now', '.'], tags: [] }, mulberry32(1), 'scramble'), null);
});

test('Brown acceptability task: deterministic, balanced, document-disjoint, CoLA layout round trip', () => {
  const brown = loadBrown();
  const a = brownAcceptability(brown, { trainSize: 2000, devSize: 400 });
  const b = brownAcceptability(brown, { trainSize: 2000, devSize: 400 });
  assert.deepEqual(a.train.examples, b.train.examples);
  assert.equal(a.train.examples.length, 2000);
  assert.equal(a.dev.examples.length, 400);
  assert.equal(a.dev.examples.filter((e) => e.label === 0).length, 200);
  const trainFiles = new Set(a.sources.train), devFiles = new Set(a.sources.dev);
  assert.ok([...devFiles].every((f) => !trainFiles.has(f)), 'no Brown file in both splits');
  const pre = new Set(brownPretrainingText(brown));
  assert.ok(a.dev.examples.filter((e) => e.label === 1).every((e) => !pre.has(e.a)), 'dev originals are not pre-training text');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-brown-cola-'));
  try {
    writeColaTsv(dir, a);
    const back = loadGlue('cola', dir, 'dev');
    assert.deepEqual(back.examples, a.dev.examples);
    assert.match(readFileSync(path.join(dir, 'dev.tsv'), 'utf8').split('\n')[1]!, /^c[a-r]\d0\t0\t\*\t/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  const fw = brownAcceptability(brown, { trainSize: 2000, devSize: 400, corruptions: 'function-word' });
  assert.equal(fw.dev.examples.filter((e) => e.label === 0).length, 200);
  assert.equal(fw.dev.name, 'brown_cola_fw/dev');
  assert.notDeepEqual(fw.dev.examples, a.dev.examples);
  const sc = brownAcceptability(brown, { trainSize: 200, devSize: 100, corruptions: 'scramble' });
  assert.equal(sc.train.name, 'brown_cola_scramble/train');
  assert.equal(sc.dev.examples.filter((e) => e.label === 0).length, 50);
  // minimal pairs: each sentence as written, then its corruption (a swap keeps the words, an agreement change one word)
  const mp = brownAcceptability(brown, { trainSize: 400, devSize: 101, corruptions: 'function-word', pairs: true });
  assert.equal(mp.dev.name, 'brown_cola_fw_pairs/dev');
  assert.equal(mp.dev.examples.length, 101);
  assert.equal(mp.dev.examples.filter((e) => e.label === 1).length, 51);
  for (let i = 0; i + 1 < mp.train.examples.length; i += 2) {
    const [ok, bad] = [mp.train.examples[i]!, mp.train.examples[i + 1]!];
    assert.deepEqual([ok.label, bad.label], [1, 0]);
    assert.equal(mp.sources.train[i], mp.sources.train[i + 1]);
    const [x, y] = [ok.a.split(' '), bad.a.split(' ')];
    assert.equal(x.length, y.length);
    const changed = x.map((w, j) => (w !== y[j] ? j : -1)).filter((j) => j >= 0);
    const swap = changed.length === 2 && changed[1] === changed[0]! + 1 && x[changed[0]!] === y[changed[1]!] && x[changed[1]!] === y[changed[0]!];
    assert.ok(swap || changed.length === 1, `${ok.a} → ${bad.a}`);
  }
  const mpTrain = new Set(mp.sources.train);
  assert.ok(mp.sources.dev.every((f) => !mpTrain.has(f)), 'no Brown file in both splits');
});
