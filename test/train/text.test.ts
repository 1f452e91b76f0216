// BERT training on text: MLM masking rules, the warm-up/decay schedule, fine-tuning that learns a
// separable toy task, and the `catkit text` commands on the GLUE fixtures (run folders in Hugging
// Face format, never overwritten).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispose, manualSeed } from '../../src/tensor/index.js';
import { bertBaseUncasedVocab } from '../../src/data/text/vocab.js';
import { WordPieceTokenizer } from '../../src/data/text/wordpiece.js';
import { encodePair } from '../../src/data/text/encode.js';
import { mulberry32 } from '../../src/data/random.js';
import { BertForMaskedLM, BertForSequenceClassification, compactBertConfig } from '../../src/models/bert/index.js';
import { linearWarmupDecay, maskBatch, pretrainMlm } from '../../src/train/text/mlm.js';
import { evaluateClassifier, finetune, prepareTask, type TextTask } from '../../src/train/text/finetune.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/glue/', import.meta.url));
const tok = new WordPieceTokenizer(bertBaseUncasedVocab());

test('MLM masking: 15 % of real tokens (at least one), never [CLS]/[SEP]/[PAD]; 80/10/10 replacement; targets are the originals', () => {
  const sents = Array.from({ length: 200 }, (_, i) => encodePair(tok, `the quick brown fox number ${i} jumps over the lazy dog near the river bank today`, null, 64));
  const b = maskBatch(sents, tok.vocab, mulberry32(3));
  try {
    const ids = b.inputIds.toArray(), pos = b.positions.toArray(), tgt = b.targets.toArray();
    const len = b.inputIds.shape[1]!;
    const real = sents.reduce((n, e) => n + e.inputIds.length - 2, 0);
    assert.ok(Math.abs(pos.length / real - 0.15) < 0.03, `masked share ${pos.length / real}`);
    let masked = 0, kept = 0;
    pos.forEach((p, k) => {
      const [row, col] = [Math.floor(p / len), p % len];
      const orig = sents[row]!.inputIds[col]!;
      assert.equal(tgt[k], orig);
      assert.ok(!tok.vocab.isSpecial(orig), 'specials are never chosen');
      if (ids[p] === tok.vocab.mask) masked++; else if (ids[p] === orig) kept++;
    });
    assert.ok(Math.abs(masked / pos.length - 0.8) < 0.06, `[MASK] share ${masked / pos.length}`);
    assert.ok(kept / pos.length > 0.05 && kept / pos.length < 0.16, `kept share ${kept / pos.length}`);
    const one = maskBatch([encodePair(tok, 'hi', null, 8)], tok.vocab, () => 0.99);
    assert.equal(one.positions.shape[0], 1, 'a sequence always gets one masked token');
    dispose(one);
  } finally { dispose(b); }
  // transformers' linear schedule: 0 → 1 over the warm-up, then down to 0 at the last step
  const f = linearWarmupDecay(10, 110);
  assert.deepEqual([f(0), f(5), f(10), f(60), f(110)], [0, 0.5, 1, 0.5, 0]);
});

test('MLM pre-training lowers the loss; fine-tuning learns a separable task (accuracy → 1)', () => {
  manualSeed(0);
  const cfg = compactBertConfig(1, 32, { numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 32, labels: ['neg', 'pos'] });
  const mlm = new BertForMaskedLM(cfg);
  try {
    const { losses } = pretrainMlm(mlm, tok, Array.from({ length: 64 }, () => 'the cat sat on the mat'), { steps: 30, batchSize: 16, maxLength: 16, lr: 3e-3, warmupSteps: 3, weightDecay: 0.01, seed: 0, logEvery: 10 });
    assert.ok(losses.at(-1)! < losses[0]! - 1, `MLM loss ${losses.join(' → ')}`);
  } finally { mlm.dispose(); }
  const words = ['good', 'great', 'fine', 'bad', 'awful', 'poor'];
  const mk = (n: number, seed: number) => {
    const r = mulberry32(seed);
    return Array.from({ length: n }, () => { const w = Math.floor(r() * 6); return { a: `this film was ${words[w]} overall`, b: null, label: w < 3 ? 1 : 0 }; });
  };
  const task: TextTask = { name: 'toy', labels: ['neg', 'pos'], metric: 'accuracy', train: { name: 't', labels: ['neg', 'pos'], examples: mk(96, 1), file: '-' }, dev: { name: 'd', labels: ['neg', 'pos'], examples: mk(48, 2), file: '-' } };
  manualSeed(0); // the classifier's own init, independent of how much RNG the MLM part drew (seeds 0–3 all reach 1.0)
  const clf = new BertForSequenceClassification({ ...cfg, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 });
  try {
    const p = prepareTask(task, tok, 16);
    const before = evaluateClassifier(clf, p, { batchSize: 16 }).accuracy;
    finetune(clf, p, { epochs: 8, batchSize: 16, lr: 1e-2, warmupRatio: 0.1, weightDecay: 0.01, maxLength: 16, seed: 0 });
    const after = evaluateClassifier(clf, p, { batchSize: 16 });
    assert.ok(after.accuracy === 1, `dev accuracy ${before} → ${after.accuracy}`);
    assert.ok(after.mcc > 0.99);
  } finally { clf.dispose(); }
});

test('catkit text finetune / eval on the CoLA fixture: a Hugging Face run folder with a report; an existing run is refused', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-text-cli-'));
  try {
    const out = path.join(dir, 'cola');
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'text', ...args], { encoding: 'utf8', env: { ...process.env, CATKIT_THREADS: '1' } });
    const common = ['--task', 'cola', '--data', path.join(FIXTURES, 'CoLA'), '--max-length', '16'];
    const r = run('finetune', ...common, '--out', out, '--layers', '1', '--hidden', '32', '--epochs', '1', '--batch-size', '4');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /finetune cola: mcc -?\d\.\d{4}/);
    for (const f of ['config.json', 'model.safetensors', 'report.json']) assert.ok(existsSync(path.join(out, f)), f);
    const rep = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.equal(rep.metric, 'mcc');
    assert.equal(rep.train, 6);
    assert.equal(rep.dev, 5);
    const e = run('eval', ...common, '--run', out);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /eval cola: mcc .* on 5 examples/);
    const again = run('finetune', ...common, '--out', out, '--layers', '1', '--hidden', '32', '--epochs', '1');
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already holds a run/);
    const noData = run('finetune', '--task', 'cola', '--out', path.join(dir, 'x'));
    assert.equal(noData.status, 2);
    assert.match(noData.stderr, /--task cola reads a GLUE-format folder: give --data DIR/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('catkit text cat on the CoLA fixture: six Linear-input site kinds per layer, 8-bit Linear weights, bits/value per site type in the report', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-text-cat-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'text', ...args], { encoding: 'utf8', env: { ...process.env, CATKIT_THREADS: '1' } });
    const common = ['--task', 'cola', '--data', path.join(FIXTURES, 'CoLA'), '--max-length', '16'];
    const float = path.join(dir, 'float');
    assert.equal(run('finetune', ...common, '--batch-size', '3', '--out', float, '--layers', '2', '--hidden', '32', '--epochs', '1').status, 0);
    const out = path.join(dir, 'cat4');
    const r = run('cat', ...common, '--batch-size', '3', '--init', float, '--out', out, '--bits', '4', '--lambda', '0.5', '--probs', '--calibration-batches', '2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /cat cola: mcc -?\d\.\d{4} at \d\.\d{3} bits\/value/);
    const rep = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const types = rep.sites.map((s: { type: string }) => s.type);
    // embeddings.LayerNorm + per layer: probs, context, attention LayerNorm, GELU, output LayerNorm
    assert.equal(rep.sites.length, 1 + 2 * 5);
    assert.deepEqual([...new Set(types)].sort(), ['GELU → FFN out', 'LayerNorm → FFN', 'LayerNorm → Q/K/V', 'attention probs', 'context → attn out']);
    assert.ok(rep.sites.every((s: { bits: number }) => s.bits === 4));
    const per = rep.final.perType as { type: string; bitsPerValue: number }[];
    assert.equal(per.length, 5);
    assert.ok(per.every((t) => t.bitsPerValue > 0 && t.bitsPerValue <= 4), JSON.stringify(per));
    const ev = run('eval', ...common, '--run', out);
    assert.equal(ev.status, 0, ev.stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('catkit text cat --target-bits: the RateTarget sets λ and a short run ends within the tolerance of the target, below the λ = 0 run', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-text-target-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'text', ...args], { encoding: 'utf8', env: { ...process.env, CATKIT_THREADS: '1' } });
    const common = ['--task', 'brown_cola_fw_pairs', '--train-limit', '160', '--dev-limit', '40', '--max-length', '32', '--batch-size', '8'];
    const float = path.join(dir, 'float');
    assert.equal(run('finetune', ...common, '--out', float, '--layers', '1', '--hidden', '32', '--epochs', '1', '--lr', '1e-3').status, 0);
    const cat = (out: string, ...extra: string[]) => {
      const r = run('cat', ...common, '--init', float, '--out', path.join(dir, out), '--bits', '4', '--epochs', '3', '--lr', '1e-3', ...extra);
      assert.equal(r.status, 0, r.stderr);
      return { stdout: r.stdout, report: JSON.parse(readFileSync(path.join(dir, out, 'report.json'), 'utf8')) };
    };
    const free = cat('l0').report;
    const target = 3.3;
    const t = cat('target', '--target-bits', String(target));
    const achieved = t.report.final.bitsPerValue as number;
    assert.ok(free.final.bitsPerValue > target + 0.1, `λ = 0 stays above the target's tolerance (${free.final.bitsPerValue})`);
    assert.ok(Math.abs(achieved - target) <= 0.1, `achieved ${achieved} within ±0.1 of ${target}`);
    assert.equal(t.report.rate.reached, true);
    assert.match(t.stdout, /target reached \(entropy, ±0\.1\): \d\.\d{3} bits for a target of 3\.3/);
    assert.ok(t.report.epochs.some((e: { lambda: number }) => e.lambda > 0), 'the controller raised λ');
    assert.equal(t.report.rate.achievedBits, achieved);
    const both = run('cat', ...common, '--init', float, '--out', path.join(dir, 'both'), '--target-bits', '3', '--lambda', '1');
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--target-bits sets λ itself/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
