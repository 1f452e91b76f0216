// BERT parity: catkit's BertModel / BertForSequenceClassification / BertForMaskedLM against an
// independent torch.nn BERT (test/models/torch_bert.py, Debian's torch 1.13) with the weights
// mapped by Hugging Face name; every hidden state within 1e-5 relative (float32) and 1e-10 (float64).
// Also: Hugging Face key names and the tied MLM decoder, CAT site modules, dropout, config.json
// parsing errors, and Hub folders (`catkit import --from hf`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, dispose, manualSeed, memory, noGrad, randint, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { GELU, Identity, LayerNorm, saveSafetensors } from '../../src/nn/index.js';
import {
  BertForMaskedLM, BertForSequenceClassification, BertModel, bertConfigFromJson, bertConfigToJson, compactBertConfig,
  loadBertFromHub, type BertConfig, type BertInputs,
} from '../../src/models/bert/index.js';
import { CatkitError } from '../../src/errors.js';
import { loadCheckpoint, readCheckpointMeta } from '../../src/train/checkpoint.js';

const REF = fileURLToPath(new URL('../../../test/models/torch_bert.py', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

let dir = '';
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-bert-')); });
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const CONFIG: BertConfig = compactBertConfig(2, 32, {
  vocabSize: 61, numAttentionHeads: 4, intermediateSize: 48, maxPositionEmbeddings: 24, typeVocabSize: 2, labels: ['neg', 'pos', 'mid'],
});

/** Two sequences of 7 tokens; the second is padded after 4 tokens; segment B starts at 3 / 2. */
function inputs(): BertInputs {
  return {
    inputIds: tensor([[2, 15, 9, 3, 40, 33, 3], [2, 7, 3, 11, 0, 0, 0]], [2, 7], { dtype: 'int64' }),
    tokenTypeIds: tensor([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]], [2, 7], { dtype: 'int64' }),
    attentionMask: tensor([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]], [2, 7], { dtype: 'int64' }),
  };
}

type RefOut = Record<string, { shape: number[]; data: number[] }>;

function reference(model: BertModel | BertForSequenceClassification | BertForMaskedLM, head: string, dtype: string, x: BertInputs, name: string): RefOut {
  const cfg = path.join(dir, `${name}.config.json`), w = path.join(dir, `${name}.safetensors`), inp = path.join(dir, `${name}.inputs.safetensors`);
  writeFileSync(cfg, JSON.stringify(bertConfigToJson(model.config, head)));
  tidy(() => saveSafetensors(w, model.stateDict()));
  saveSafetensors(inp, new Map([['input_ids', x.inputIds], ['token_type_ids', x.tokenTypeIds!], ['attention_mask', x.attentionMask!]]));
  const out = execFileSync('/usr/bin/python3', [REF, cfg, w, inp, head, dtype], { env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 1 << 26 });
  return JSON.parse(out.toString()) as RefOut;
}

/** max |a − b| / max |b|. */
function relError(actual: Tensor, expected: { shape: number[]; data: number[] }, what: string): number {
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  const a = actual.toArray();
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) { diff = Math.max(diff, Math.abs(a[i]! - expected.data[i]!)); scale = Math.max(scale, Math.abs(expected.data[i]!)); }
  assert.ok(scale > 1e-3, `${what}: reference is not degenerate`);
  return diff / scale;
}

for (const dtype of ['float32', 'float64'] as const) {
  const tol = dtype === 'float32' ? 1e-5 : 1e-10;
  test(`BertModel (${dtype}): every hidden state and the pooled output match the torch.nn reference within ${tol}`, () => {
    manualSeed(1);
    const model = new BertModel(CONFIG);
    try {
      if (dtype === 'float64') model.to('float64');
      model.eval();
      model.outputHiddenStates = true;
      const x = inputs();
      const ref = reference(model, 'base', dtype, x, `base-${dtype}`);
      noGrad(() => tidy(() => {
        const out = model.forward(x);
        assert.equal(out.hiddenStates!.length, CONFIG.numHiddenLayers + 1);
        out.hiddenStates!.forEach((h, i) => assert.ok(relError(h, ref[`hidden_${i}`]!, `hidden ${i}`) < tol, `hidden state ${i}: ${relError(h, ref[`hidden_${i}`]!, '')}`));
        assert.ok(relError(out.pooledOutput!, ref.pooled!, 'pooled') < tol);
        assert.equal(out.lastHiddenState, out.hiddenStates!.at(-1));
      }));
      dispose(x);
    } finally { model.dispose(); }
  });
}

test('BertForSequenceClassification and BertForMaskedLM (float32): logits match the reference; the MLM decoder is tied to the word embeddings', () => {
  manualSeed(2);
  const cls = new BertForSequenceClassification(CONFIG);
  const mlm = new BertForMaskedLM(CONFIG);
  try {
    // a non-zero MLM bias, so the tie of cls.predictions.bias and decoder.bias is exercised
    noGrad(() => mlm.cls.predictions.param('bias').uniform_(-0.5, 0.5));
    const x = inputs();
    for (const [m, head] of [[cls, 'classification'], [mlm, 'mlm']] as const) {
      m.eval();
      const ref = reference(m, head, 'float32', x, head);
      noGrad(() => tidy(() => {
        const logits = m.forward(x);
        assert.ok(relError(logits, ref.logits!, `${head} logits`) < 1e-5, `${head}: ${relError(logits, ref.logits!, '')}`);
      }));
    }
    assert.deepEqual(cls.forward.length, 1);
    // Hugging Face names
    const keys = tidy(() => { const sd = mlm.stateDict(); const k = [...sd.keys()]; dispose([...sd.values()]); return k; });
    for (const k of ['bert.embeddings.word_embeddings.weight', 'bert.embeddings.position_embeddings.weight', 'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight', 'bert.encoder.layer.0.attention.self.query.weight', 'bert.encoder.layer.1.attention.output.LayerNorm.bias',
      'bert.encoder.layer.1.intermediate.dense.weight', 'bert.encoder.layer.1.output.dense.bias', 'cls.predictions.bias',
      'cls.predictions.transform.dense.weight', 'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias']) {
      assert.ok(keys.includes(k), `MLM state dict has ${k}`);
    }
    assert.ok(!keys.some((k) => k.includes('pooler')), 'no pooler under the MLM head (as transformers)');
    assert.equal(mlm.cls.predictions.decoder.weight, mlm.bert.embeddings.word_embeddings.weight, 'decoder weight is the embedding tensor');
    assert.equal(mlm.cls.predictions.decoder.bias, mlm.cls.predictions.param('bias'));
    const names = mlm.namedParameters().map(([k]) => k);
    assert.ok(!names.includes('cls.predictions.decoder.weight'), 'a tied tensor is one parameter (the optimizer sees it once)');
    const clsKeys = cls.namedParameters().map(([k]) => k);
    for (const k of ['bert.pooler.dense.weight', 'classifier.weight', 'classifier.bias']) assert.ok(clsKeys.includes(k));
    assert.deepEqual(cls.classifier.weight.shape, [3, 32]);
    dispose(x);
  } finally { cls.dispose(); mlm.dispose(); }
});

test('training gradients (float64, dropout 0): every parameter\'s gradient of the cross-entropy matches the torch.nn reference within 1e-9', () => {
  // Parity of the forward does not cover the backward (a detached softmax or a position embedding
  // without gradient would pass it); this does, with the padded second sequence and two segments.
  manualSeed(4);
  const model = new BertForSequenceClassification({ ...CONFIG, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 });
  try {
    model.to('float64');
    const x = inputs();
    const labels = tensor([2, 0], [2], { dtype: 'int64' });
    const cfg = path.join(dir, 'grad.config.json'), w = path.join(dir, 'grad.safetensors'), inp = path.join(dir, 'grad.inputs.safetensors');
    writeFileSync(cfg, JSON.stringify(bertConfigToJson(model.config, 'classification')));
    tidy(() => saveSafetensors(w, model.stateDict()));
    saveSafetensors(inp, new Map([['input_ids', x.inputIds], ['token_type_ids', x.tokenTypeIds!], ['attention_mask', x.attentionMask!], ['labels', labels]]));
    const ref = JSON.parse(execFileSync('/usr/bin/python3', [REF, cfg, w, inp, 'classification', 'float64', 'grad'], { env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 1 << 26 }).toString()) as RefOut;
    model.train();
    tidy(() => F.crossEntropy(model.forward(x), labels).backward());
    const params = model.namedParameters();
    assert.equal(params.length, Object.keys(ref).length, 'same parameters');
    for (const [name, p] of params) {
      const g = ref[name];
      assert.ok(g, `reference has ${name}`);
      // relative to the tensor's largest gradient (Q/K gradients are ~1e-5 at BERT's 0.02 init)
      const a = p.grad!.toArray();
      assert.deepEqual([...p.grad!.shape], g.shape, `grad ${name}: shape`);
      let diff = 0, scale = 0;
      a.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - g.data[i]!)); scale = Math.max(scale, Math.abs(g.data[i]!)); });
      // key.bias shifts every score of a query equally, so softmax removes it: its gradient is 0 up to rounding
      if (name.endsWith('.key.bias')) assert.ok(scale < 1e-15 && diff < 1e-15, `${name}: gradient ${scale} should be 0`);
      else assert.ok(diff / scale < 1e-9, `gradient of ${name}: relative error ${diff / scale}`);
    }
    model.zeroGrad();
    dispose([x.inputIds, x.tokenTypeIds!, x.attentionMask!, labels]);
  } finally { model.dispose(); }
});

test('CAT sites are modules: per layer 2 LayerNorms, 1 GELU, the context and the probabilities as Identity; no extra state-dict keys', () => {
  const model = new BertForSequenceClassification(CONFIG);
  try {
    const mods = model.namedModules();
    const ln = mods.filter(([, m]) => m instanceof LayerNorm).map(([n]) => n);
    assert.deepEqual(ln, ['bert.embeddings.LayerNorm', 'bert.encoder.layer.0.attention.output.LayerNorm', 'bert.encoder.layer.0.output.LayerNorm',
      'bert.encoder.layer.1.attention.output.LayerNorm', 'bert.encoder.layer.1.output.LayerNorm']);
    assert.deepEqual(mods.filter(([, m]) => m instanceof GELU).map(([n]) => n), ['bert.encoder.layer.0.intermediate.intermediate_act_fn', 'bert.encoder.layer.1.intermediate.intermediate_act_fn']);
    assert.deepEqual(mods.filter(([, m]) => m instanceof Identity).map(([n]) => n), [
      'bert.encoder.layer.0.attention.self.probs', 'bert.encoder.layer.0.attention.self.context',
      'bert.encoder.layer.1.attention.self.probs', 'bert.encoder.layer.1.attention.self.context']);
    // A module swapped in at a site is what the forward uses (sites are read through the tree).
    model.eval();
    const x = inputs();
    const seen: number[][] = [];
    class Tap extends Identity { override forward(t: Tensor): Tensor { seen.push([...t.shape]); return t; } }
    model.setSubmodule('bert.encoder.layer.1.attention.self.context', new Tap());
    model.setSubmodule('bert.encoder.layer.0.attention.self.probs', new Tap());
    noGrad(() => tidy(() => model.forward(x)));
    assert.deepEqual(seen, [[2, 4, 7, 7], [2, 7, 32]]);
    dispose(x);
  } finally { model.dispose(); }
});

test('dropout is active in training mode only; no tensors leak from a training step', () => {
  manualSeed(3);
  const model = new BertForSequenceClassification({ ...CONFIG, hiddenDropoutProb: 0.3, attentionProbsDropoutProb: 0.3 });
  try {
    const x = inputs();
    const before = memory().numTensors;
    const [a, b, c] = tidy(() => {
      model.train();
      const l1 = model.forward(x), l2 = model.forward(x);
      const loss = l1.sum();
      loss.backward();
      model.eval();
      const e1 = noGrad(() => model.forward(x)), e2 = noGrad(() => model.forward(x));
      return [l1.sub(l2).abs().max().item(), e1.sub(e2).abs().max().item(), model.bert.embeddings.word_embeddings.weight.grad!.abs().sum().item()];
    });
    assert.ok(a > 1e-4, 'two training forwards differ (dropout)');
    assert.equal(b, 0, 'eval forwards are identical');
    assert.ok(c > 0, 'gradients reach the embeddings');
    model.zeroGrad();
    assert.equal(memory().numTensors, before);
    dispose(x);
  } finally { model.dispose(); }
});

test('config.json: bert-base-uncased layout parses; bad values fail with the file and the field', () => {
  const base = {
    architectures: ['BertForMaskedLM'], attention_probs_dropout_prob: 0.1, gradient_checkpointing: false, hidden_act: 'gelu', hidden_dropout_prob: 0.1,
    hidden_size: 768, initializer_range: 0.02, intermediate_size: 3072, layer_norm_eps: 1e-12, max_position_embeddings: 512, model_type: 'bert',
    num_attention_heads: 12, num_hidden_layers: 12, pad_token_id: 0, position_embedding_type: 'absolute', transformers_version: '4.6.0.dev0',
    type_vocab_size: 2, use_cache: true, vocab_size: 30522,
  };
  const c = bertConfigFromJson(base, 'x/config.json');
  assert.equal(c.hiddenSize, 768); assert.equal(c.layerNormEps, 1e-12); assert.equal(c.hiddenAct, 'gelu'); assert.deepEqual(c.labels, ['LABEL_0', 'LABEL_1']);
  const bad = (patch: Record<string, unknown>, re: RegExp) => assert.throws(() => bertConfigFromJson({ ...base, ...patch }, 'x/config.json'),
    (e: unknown) => e instanceof CatkitError && e.userFacing && /^x\/config\.json: /.test(e.message) && re.test(e.message));
  bad({ num_attention_heads: 5 }, /not a multiple of the number of attention heads 5/);
  bad({ hidden_act: 'swish' }, /hidden_act "swish" is not supported/);
  bad({ position_embedding_type: 'relative_key' }, /relative_key/);
  bad({ model_type: 'roberta' }, /model_type is 'roberta'/);
  bad({ hidden_size: '768' }, /'hidden_size' must be a number/);
  bad({ id2label: { 0: 'a', 2: 'b' } }, /id2label keys must be 0…1/);
  assert.deepEqual(bertConfigFromJson({ ...base, id2label: { 1: 'pos', 0: 'neg' } }).labels, ['neg', 'pos']);
});

/** A Hub-format folder as transformers writes BertForPreTraining: gamma/beta-free names, no tied copies, extra NSP head, position_ids. */
function writeHubFolder(folder: string, hubConfig: Record<string, unknown>, o: { oldNames?: boolean; pickleOnly?: boolean } = {}): BertForMaskedLM {
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'config.json'), JSON.stringify(hubConfig, null, 2));
  if (o.pickleOnly) { writeFileSync(path.join(folder, 'pytorch_model.bin'), 'PK\x03\x04 not really'); return null as unknown as BertForMaskedLM; }
  const c = bertConfigFromJson(hubConfig);
  manualSeed(7);
  const src = new BertForMaskedLM(c);
  noGrad(() => src.cls.predictions.param('bias').uniform_(-1, 1));
  tidy(() => {
    const sd = src.stateDict();
    const out = new Map<string, Tensor>();
    for (const [k, v] of sd) {
      if (k.startsWith('cls.predictions.decoder.')) continue;
      out.set(o.oldNames ? k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta') : k, v);
    }
    out.set('bert.embeddings.position_ids', tensor([Array.from({ length: c.maxPositionEmbeddings }, (_, i) => i)], [1, c.maxPositionEmbeddings], { dtype: 'int64' }));
    out.set('bert.pooler.dense.weight', tensor(new Float32Array(c.hiddenSize * c.hiddenSize).fill(0.01), [c.hiddenSize, c.hiddenSize]));
    out.set('bert.pooler.dense.bias', tensor(new Float32Array(c.hiddenSize), [c.hiddenSize]));
    out.set('cls.seq_relationship.weight', tensor(new Float32Array(2 * c.hiddenSize), [2, c.hiddenSize]));
    out.set('cls.seq_relationship.bias', tensor([0, 0], [2]));
    saveSafetensors(path.join(folder, 'model.safetensors'), out);
  });
  return src;
}

const HUB_CONFIG = {
  architectures: ['BertForPreTraining'], attention_probs_dropout_prob: 0.1, hidden_act: 'gelu', hidden_dropout_prob: 0.1, hidden_size: 32,
  initializer_range: 0.02, intermediate_size: 64, layer_norm_eps: 1e-12, max_position_embeddings: 16, model_type: 'bert', num_attention_heads: 2,
  num_hidden_layers: 2, pad_token_id: 0, position_embedding_type: 'absolute', transformers_version: '4.35.2', type_vocab_size: 2, use_cache: true, vocab_size: 40,
};

test('Hub folder: a BertForPreTraining model.safetensors loads into BertForMaskedLM (tied decoder, old gamma/beta names, unused NSP head) and into a new classifier', () => {
  const folder = path.join(dir, 'hub-pretraining');
  const src = writeHubFolder(folder, HUB_CONFIG, { oldNames: true });
  const x: BertInputs = { inputIds: tensor([[2, 5, 9, 3]], [1, 4], { dtype: 'int64' }) };
  try {
    const { model, head, report } = loadBertFromHub(folder);
    try {
      assert.equal(head, 'mlm');
      assert.ok(report.renamed.some((r) => /gamma/.test(r)));
      assert.deepEqual(report.unused.sort(), ['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'cls.seq_relationship.bias', 'cls.seq_relationship.weight']);
      assert.deepEqual(report.initialized.sort(), ['cls.predictions.decoder.bias', 'cls.predictions.decoder.weight']);
      src.eval(); model.eval();
      const d = noGrad(() => tidy(() => src.forward(x).sub((model as BertForMaskedLM).forward(x)).abs().max().item()));
      assert.equal(d, 0, 'loaded MLM reproduces the source logits exactly');
    } finally { model.dispose(); }
    const { model: clf, report: r2 } = loadBertFromHub(folder, { head: 'classification', labels: ['no', 'yes'] });
    try {
      assert.deepEqual(r2.initialized.sort(), ['classifier.bias', 'classifier.weight']);
      assert.ok(r2.unused.includes('cls.predictions.bias'));
    } finally { clf.dispose(); }
  } finally { src.dispose(); dispose(x); }
});

test('Hub folder errors: pickles refused (never unpickled), missing weights, shape mismatch named', () => {
  const pick = path.join(dir, 'hub-pickle');
  writeHubFolder(pick, HUB_CONFIG, { pickleOnly: true });
  assert.throws(() => loadBertFromHub(pick), (e: unknown) => e instanceof CatkitError && /pytorch_model\.bin but no model\.safetensors; catkit never unpickles/.test(e.message) && /save_file/.test(e.hint ?? ''));
  const empty = path.join(dir, 'hub-empty');
  mkdirSync(empty);
  assert.throws(() => loadBertFromHub(empty), /no config\.json/);
  const wrong = path.join(dir, 'hub-wrong');
  writeHubFolder(wrong, HUB_CONFIG).dispose();
  writeFileSync(path.join(wrong, 'config.json'), JSON.stringify({ ...HUB_CONFIG, intermediate_size: 48 }));
  assert.throws(() => loadBertFromHub(wrong), /intermediate\.dense\.weight/);
});

test('catkit import --from hf --model bert --weights DIR writes a run folder; a pickle-only folder exits 2 with one line', () => {
  const folder = path.join(dir, 'hub-cli');
  const src = writeHubFolder(folder, { ...HUB_CONFIG, architectures: ['BertForSequenceClassification'], id2label: { 0: 'unacceptable', 1: 'acceptable' } });
  src.dispose();
  const out = path.join(dir, 'run-import');
  const r = spawnSync(process.execPath, [BIN, 'import', '--from', 'hf', '--model', 'bert', '--weights', folder, '--out', out], { encoding: 'utf8', env: { ...process.env, CATKIT_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /loaded \d+ tensors/);
  assert.match(r.stdout, /newly initialised \(not in the file\): classifier\.weight, classifier\.bias/);
  const meta = readCheckpointMeta(out).meta;
  assert.equal(meta.config.model, 'bert');
  const ck = loadCheckpoint(out);
  try {
    assert.deepEqual(ck.model.get('classifier.weight')!.shape, [2, 32]);
    assert.deepEqual(ck.model.get('bert.encoder.layer.1.attention.self.key.weight')!.shape, [32, 32]);
  } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }
  assert.equal(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')).id2label['1'], 'acceptable');
  const pick = path.join(dir, 'hub-cli-pickle');
  writeHubFolder(pick, HUB_CONFIG, { pickleOnly: true });
  const r2 = spawnSync(process.execPath, [BIN, 'import', '--from', 'hf', '--model', 'bert', '--weights', pick, '--out', path.join(dir, 'run2')], { encoding: 'utf8' });
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /never unpickles/);
  assert.equal(r2.stderr.trim().split('\n').length <= 2, true, r2.stderr);
});

test('random ids through a bert-base-sized config build (12 layers, 768 hidden) have HF parameter count 109,482,240', () => {
  const m = new BertModel(bertConfigFromJson({ vocab_size: 30522 }));
  try { assert.equal(m.numParameters(), 109482240); } finally { m.dispose(); }
  void randint;
});

test("pooling 'mean' (catkit_pooling): tanh(dense(mean of the real tokens)), kept through config.json", () => {
  manualSeed(4);
  const model = new BertModel({ ...CONFIG, pooling: 'mean' });
  try {
    model.eval();
    const x = inputs();
    noGrad(() => tidy(() => {
      const out = model.forward(x);
      const h = out.lastHiddenState;
      // second sequence: 4 real tokens of 7
      const mean = h.select(0, 1).narrow(0, 0, 4).mean(0);
      const expected = model.pooler!.dense.forward(mean.unsqueeze(0)).tanh();
      assert.ok(out.pooledOutput!.select(0, 1).sub(expected.squeeze(0)).abs().max().item() < 1e-6);
    }));
    dispose(x);
    const json = bertConfigToJson(model.config, 'BertModel');
    assert.equal(json.catkit_pooling, 'mean');
    assert.equal(bertConfigFromJson(json).pooling, 'mean');
    assert.equal(bertConfigFromJson({ ...json, catkit_pooling: undefined }).pooling, 'cls');
  } finally { model.dispose(); }
});
