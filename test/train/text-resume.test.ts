// Text runs (pretrain, finetune, cat) checkpoint as they go: a run stopped after its first
// checkpoint and continued with --resume ends with the same bytes in model.safetensors as an
// uninterrupted run (dropout on, AdamW state, schedule, CAT clips and rate term included). Run
// folders follow the image runs' rules: the lock, no silent reuse, --force, --resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { finetuneRun, pretrainRun, type FinetuneRunOptions, type PretrainRunOptions } from '../../src/app/text-runs.js';
import { catRun, type CatRunOptions } from '../../src/app/text-cat-run.js';
import { CatkitError } from '../../src/errors.js';
import { LOCK_FILE } from '../../src/io/run-lock.js';
import { loadBertFromHub } from '../../src/models/bert/index.js';

const COLA = fileURLToPath(new URL('../../../test/fixtures/glue/CoLA', import.meta.url));
const modelBytes = (dir: string): Buffer => readFileSync(path.join(dir, 'model.safetensors'));
const code = (f: () => unknown): string => { try { f(); } catch (e) { assert.ok(e instanceof CatkitError, String(e)); return `${e.code}: ${e.message}`; } return 'no error'; };

test('text runs resume bit-identically: pretrain (every 25 steps), finetune and cat (every epoch)', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'catkit-text-resume-'));
  try {
    // pre-training on a small text file
    const textFile = path.join(root, 'texts.txt');
    writeFileSync(textFile, Array.from({ length: 60 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} number ${i} sat on the ${['mat', 'rug'][i % 2]} today .`).join('\n'));
    const pre = (out: string, extra: Partial<PretrainRunOptions> = {}): PretrainRunOptions => ({
      out, layers: 1, hidden: 32, heads: 2, steps: 50, batchSize: 8, maxLength: 16, lr: 3e-3, warmupSteps: 5, weightDecay: 0.01, seed: 3,
      checkpointEvery: 25, textFile, ...extra,
    });
    const p1 = path.join(root, 'pre-straight'), p2 = path.join(root, 'pre-resumed');
    assert.ok(pretrainRun(pre(p1)));
    assert.equal(pretrainRun(pre(p2, { stopAfter: 25 })), null);
    assert.ok(existsSync(path.join(p2, 'text-checkpoint.json')) && !existsSync(path.join(p2, 'report.json')));
    const r = pretrainRun(pre(p2, { resume: true }))!;
    assert.ok(modelBytes(p1).equals(modelBytes(p2)), 'pretrain: resumed weights differ');
    const straight = JSON.parse(readFileSync(path.join(p1, 'report.json'), 'utf8'));
    assert.deepEqual(r.lossEvery25Steps, straight.lossEvery25Steps);
    assert.deepEqual(readdirSync(p2).sort(), ['config.json', 'model.safetensors', 'report.json'], 'checkpoint files are gone, so is the lock');
    const base = loadBertFromHub(p1, { head: 'base' }); // an MLM folder has no pooler: BertModel initialises one
    assert.deepEqual(base.report.initialized.sort(), ['pooler.dense.bias', 'pooler.dense.weight']);
    base.model.dispose();

    // fine-tuning (dropout 0.1 on) and CAT (4-bit, λ > 0, learned clips) on the CoLA fixture
    const ft = (out: string, extra: Partial<FinetuneRunOptions> = {}): FinetuneRunOptions => ({
      out, task: 'cola', taskOptions: { data: COLA }, init: p1, pooling: 'mean', epochs: 3, batchSize: 2, lr: 1e-3, warmupRatio: 0.1, weightDecay: 0.01,
      maxLength: 16, seed: 1, ...extra,
    });
    const f1 = path.join(root, 'ft-straight'), f2 = path.join(root, 'ft-resumed');
    finetuneRun(ft(f1));
    assert.equal(finetuneRun(ft(f2, { stopAfter: 1 })), null);
    const rf = finetuneRun(ft(f2, { resume: true }))!;
    assert.ok(modelBytes(f1).equals(modelBytes(f2)), 'finetune: resumed weights differ');
    assert.deepEqual((rf.epochs as { epoch: number }[]).map((e) => e.epoch), [1, 2, 3]);

    const ct = (out: string, extra: Partial<CatRunOptions> = {}): CatRunOptions => ({
      init: f1, out, task: 'cola', taskOptions: { data: COLA }, bits: 4, weightBits: 8, lambda: 0.5, probs: false, epochs: 2, batchSize: 2, lr: 1e-3,
      warmupRatio: 0.1, weightDecay: 0.01, maxLength: 16, seed: 2, calibrationBatches: 2, ...extra,
    });
    const c1 = path.join(root, 'cat-straight'), c2 = path.join(root, 'cat-resumed');
    const rc1 = catRun(ct(c1))!;
    assert.equal(catRun(ct(c2, { stopAfter: 1 })), null);
    const rc2 = catRun(ct(c2, { resume: true }))!;
    assert.ok(modelBytes(c1).equals(modelBytes(c2)), 'cat: resumed weights and clips differ');
    assert.deepEqual(rc2.final && (rc2.final as { bitsPerValue: number }).bitsPerValue, (rc1.final as { bitsPerValue: number }).bitsPerValue);
    assert.deepEqual(rc2.float, rc1.float);
    // with a rate target the controller's state is in the checkpoint too
    const t1 = path.join(root, 'target-straight'), t2 = path.join(root, 'target-resumed');
    const rt1 = catRun(ct(t1, { lambda: 0, targetBits: 3 }))! as { rate: { trajectory: unknown[]; lambda: number } };
    assert.equal(catRun(ct(t2, { lambda: 0, targetBits: 3, stopAfter: 1 })), null);
    const rt2 = catRun(ct(t2, { lambda: 0, targetBits: 3, resume: true }))! as typeof rt1;
    assert.ok(modelBytes(t1).equals(modelBytes(t2)), 'cat --target-bits: resumed weights differ');
    assert.deepEqual(rt2.rate, rt1.rate);
    assert.ok(rt1.rate.trajectory.length > 2);

    // run-folder rules
    assert.match(code(() => finetuneRun(ft(f1))), /^run_exists: .*already holds a run$/);
    assert.match(code(() => finetuneRun(ft(f1, { resume: true }))), /^run_complete: /);
    const f3 = path.join(root, 'ft-interrupted');
    finetuneRun(ft(f3, { stopAfter: 1 }));
    assert.match(code(() => finetuneRun(ft(f3))), /^run_exists: .*interrupted after 1 epochs/);
    assert.match(code(() => finetuneRun(ft(f3, { resume: true, lr: 2e-3 }))), /^bad_option: --resume: .*other settings \(lr: 0\.001 there, 0\.002 now\)/);
    assert.match(code(() => catRun(ct(f3, { resume: true }))), /^bad_option: --resume: .* holds an interrupted bert-finetune run, not a bert-cat run/);
    assert.match(code(() => finetuneRun(ft(path.join(root, 'none'), { resume: true }))), /^no_checkpoint: /);
    assert.match(code(() => finetuneRun(ft(p1))), /^output_is_input: --out .* is the same file as --init/);
    writeFileSync(path.join(f3, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: os.hostname(), started: 'now', command: 'text finetune' }));
    assert.match(code(() => finetuneRun(ft(f3, { resume: true }))), /^run_locked: .* is in use by another catkit run/);
    rmSync(path.join(f3, LOCK_FILE));
    const forced = finetuneRun(ft(f3, { force: true, epochs: 1 }))!;
    assert.equal((forced.epochs as unknown[]).length, 1);
    assert.ok(!existsSync(path.join(f3, 'text-checkpoint.json')));
  } finally { rmSync(root, { recursive: true, force: true }); }
});
