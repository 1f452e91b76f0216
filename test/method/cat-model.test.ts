// CAT on the model zoo: site placement, checkpoint names, numel-weighted loss, calibration, gradual stages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, memory, noGrad, randint, randn, tensor, tidy } from '../../src/tensor/index.js';
import { Conv2d, GELU, LayerNorm, ReLU, Sequential } from '../../src/nn/index.js';
import { BertForSequenceClassification, compactBertConfig } from '../../src/models/bert/index.js';
import { ACIQ_LAPLACE, Rate, attachCat, clipFromStats, correctStats, QuantConv2d } from '../../src/method/index.js';
import { CatkitError } from '../../src/errors.js';
import { CifarResNet } from '../../src/models/resnet-cifar.js';
import { KerasStride2Conv2d } from '../../src/models/mobilenetv2.js';
import { torchOracle, maxRelError } from '../helpers/torch-oracle.js';

test('attachCat puts one site at every ReLU of a CIFAR ResNet-20, in order, and renames nothing', () => {
  const model = new CifarResNet({ depth: 20, inChannels: 1, numClasses: 10 });
  const before = tidy(() => [...model.stateDict().keys()]);
  const cat = attachCat(model, { defaults: { bits: 4 }, noQuantEdges: true, weights: { bits: 8 } });
  const q = cat.sites;
  assert.equal(q.length, 19, 'stem + 2 per block × 9 blocks');
  assert.equal(q[0]!.name, 'relu');
  assert.equal(q[1]!.name, 'layer1.0.relu1');
  assert.equal(q[18]!.name, 'layer3.2.relu2');
  assert.ok(!q[18]!.settings.enabled && q[17]!.settings.enabled, 'only the last site is left at 32 bits');
  assert.equal(cat.weightLayers.length, 21, 'every conv: stem, 18 in blocks, 2 downsample');
  assert.ok(model.getSubmodule('layer2.0.downsample.0') instanceof QuantConv2d);
  // The block's field follows the swap, so its forward runs the site.
  assert.equal((model.getSubmodule('layer1.0') as unknown as { relu1: unknown }).relu1, q[1]);
  // The float keys are unchanged, in order; the only additions are the clips, named <site>.clip as before.
  const after = tidy(() => [...model.stateDict().keys()]);
  assert.deepEqual(after.filter((k) => !k.endsWith('.clip')), before);
  assert.deepEqual(after.filter((k) => k.endsWith('.clip')), q.map((s) => `${s.name}.clip`));
  assert.throws(() => attachCat(model), (e: unknown) => e instanceof CatkitError && e.code === 'cat_already_attached');
  model.dispose();
});

test('per-site settings by glob: later patterns win, unmatched patterns are refused', () => {
  const model = new CifarResNet({ depth: 8, inChannels: 1, numClasses: 10 });
  try {
    assert.throws(() => attachCat(model, { at: [{ pattern: 'layer9.*', bits: 6 }] }), /'layer9\.\*' matches no site/);
    assert.ok(model.getSubmodule('relu') instanceof ReLU, 'a refused attach leaves the model as it was');
    const cat = attachCat(model, { defaults: { bits: 4 }, at: [{ pattern: 'layer1.*', bits: 6 }, { pattern: '*.relu2', bits: 8 }] });
    assert.deepEqual(cat.rows().map((r) => [r.site, r.bits]), [
      ['relu', 4], ['layer1.0.relu1', 6], ['layer1.0.relu2', 8], ['layer2.0.relu1', 4], ['layer2.0.relu2', 8], ['layer3.0.relu1', 4], ['layer3.0.relu2', 8],
    ]);
  } finally { model.dispose(); }
});

test('the activation term is the element-count-weighted mean of the site entropies; sum() is the plain sum', () => {
  tidy(() => {
    const owner = {};
    const rate = new Rate(owner);
    rate.record({ site: 'a', bits: 4, signed: false, numel: 3000, term: tensor([2.0], []), codes: null, histogram: null });
    rate.record({ site: 'b', bits: 4, signed: false, numel: 1000, term: tensor([0.5], []), codes: null, histogram: null });
    rate.record({ site: 'off', bits: 4, signed: false, numel: 99999, term: null, codes: null, histogram: null }); // no term: not counted
    assert.ok(Math.abs(rate.weightedMean()!.item() - (3000 * 2 + 1000 * 0.5) / 4000) < 1e-7); // 1.625
    assert.ok(Math.abs(rate.sum()!.item() - 2.5) < 1e-7);
    assert.equal(rate.values().length, 2);
    assert.equal(new Rate(owner).weightedMean(), null);
  });
});

test('calibration: running stats with momentum 0.9 from zero, bias-corrected, then clip = mean + 3·std', () => {
  manualSeed(0);
  tidy(() => {
    const model = new Sequential(new ReLU());
    const cat = attachCat(model);
    // Non-negative input: ReLU is the identity, so batch stats are those of x itself.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2]);
    const mean = 4.5, std = Math.sqrt(42 / 7), mad = 2; // unbiased std as torch.std; |x-4.5| mean = 2
    const n = 5;
    const { stats } = cat.calibrateSync(Array.from({ length: n }, () => x), 'mean+3std');
    const s = stats.get('0')!;
    const bias = 1 - 0.9 ** n;
    assert.ok(Math.abs(s.mean - bias * mean) < 1e-5);
    assert.ok(Math.abs(s.std - bias * std) < 1e-5);
    assert.ok(Math.abs(s.meanAbsDev - bias * mad) < 1e-5);
    // The zero-start bias (1 − 0.9^n) is removed before the rule applies: exactly mean + 3·std.
    assert.ok(Math.abs(cat.sites[0]!.clip!.item() - (mean + 3 * std)) < 1e-5);
    assert.ok(Math.abs(clipFromStats(correctStats(s), 'aciq-laplace', 4) - (mean + ACIQ_LAPLACE[4]! * mad)) < 1e-5);
    assert.equal(clipFromStats(correctStats(s), 'max', 4), 8, "'max' is the largest value seen, not averaged");
    assert.equal(model.training, true, 'the mode is restored');
    model.dispose();
  });
});

test('calibrate over an async stream of inputs sets the clips calibrateSync sets', async () => {
  const model = new Sequential(new ReLU());
  const cat = attachCat(model);
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2]);
  try {
    const syncClips = cat.calibrateSync([x, x, x]).clips;
    async function* stream() { for (let i = 0; i < 3; i++) { await Promise.resolve(); yield x; } }
    model.train();
    const asyncClips = await cat.calibrate(stream());
    assert.deepEqual(asyncClips, syncClips);
    assert.equal(model.training, true, 'the mode is restored');
  } finally { x.dispose(); model.dispose(); }
});

test('in training every quantizing site yields a term in the rate; gradual mode enables sites in order; nothing stays on modules', () => {
  manualSeed(1);
  tidy(() => {
    const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new Conv2d(4, 4, 3, { padding: 1 }), new ReLU());
    const cat = attachCat(model);
    for (const q of cat.sites) q.setClip(10);
    const x = randn([2, 1, 8, 8]);
    cat.setGradualStage(0);
    model.train();
    let { rate } = cat.forward(x);
    assert.deepEqual(rate.terms.map((t) => t.site), ['1']);
    assert.equal(rate.get('1')!.numel, 2 * 4 * 8 * 8);
    cat.setGradualStage(1);
    const second = cat.forward(x);
    assert.deepEqual(second.rate.terms.map((t) => t.site), ['1', '3']);
    assert.equal(rate.terms.length, 1, 'an earlier forward\'s rate is not touched by a later one');
    // Output of a quantizing site has at most 2^b distinct values.
    assert.ok(new Set(second.output.toArray().map((v) => v.toFixed(5))).size <= 16);
    // Eval always quantizes all sites and never computes the training term; codes when asked.
    cat.setGradualStage(-1);
    model.eval();
    ({ rate } = cat.forward(x, { codes: true, histogram: true }));
    assert.equal(rate.terms.length, 0);
    assert.deepEqual(rate.sites.map((s) => s.codes!.shape), [[2, 4, 8, 8], [2, 4, 8, 8]]);
    assert.deepEqual(rate.sites.map((s) => s.histogram!.toArray().reduce((a, b) => a + b, 0)), [512, 512]);
    // A plain forward still quantizes and collects nothing.
    assert.deepEqual(model.forward(x).toArray(), cat.forward(x).output.toArray());
    model.dispose();
  });
});

test('a CAT forward leaves no tensors behind once its scope ends', () => {
  const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU());
  const cat = attachCat(model, { weights: { bits: 8 } });
  const x = randn([2, 1, 8, 8]);
  try {
    const live = memory().numTensors;
    tidy(() => { const { output, rate } = cat.forward(x, { codes: true, histogram: true }); output.sum().add(rate.weightedMean()!).backward(); });
    model.zeroGrad();
    assert.equal(memory().numTensors, live);
  } finally { x.dispose(); model.dispose(); }
});

test('entropy loss gradient lowers the entropy of a site', () => {
  manualSeed(2);
  tidy(() => {
    const model = new Sequential(new Conv2d(1, 8, 3, { padding: 1 }), new ReLU());
    const cat = attachCat(model, { defaults: { sampling: { stride: 1 } } });
    cat.sites[0]!.setClip(3);
    const x = randn([4, 1, 8, 8]);
    model.train();
    const entropyOnce = () => tidy(() => cat.forward(x).rate.weightedMean()!.item());
    const before = entropyOnce();
    for (let i = 0; i < 30; i++) {
      tidy(() => {
        cat.forward(x).rate.weightedMean()!.backward();
        noGrad(() => { for (const p of model.parameters()) { const g = p.grad; if (g) p.sub_(g, 0.05); p.grad = null; } });
      });
    }
    const after = entropyOnce();
    assert.ok(after < before - 0.3, `entropy ${before.toFixed(3)} → ${after.toFixed(3)}`);
    model.dispose();
  });
});

test('BERT: LayerNorm, GELU and attention-context taps as signed sites, Linear weights quantized, names kept, terms per forward', () => {
  manualSeed(4);
  const config = compactBertConfig(2, 32, { vocabSize: 50, numAttentionHeads: 4, intermediateSize: 48, maxPositionEmbeddings: 16, typeVocabSize: 2, labels: ['a', 'b'] });
  const model = new BertForSequenceClassification(config);
  const before = tidy(() => [...model.stateDict().keys()]);
  const cat = attachCat(model, { sites: [LayerNorm, GELU, '*.attention.self.context'], weights: { bits: 8, linear: true }, defaults: { bits: 6 } });
  try {
    assert.equal(cat.sites.length, 5 + 2 + 2);
    assert.ok(cat.sites.every((s) => s.settings.signed));
    assert.equal(cat.weightLayers.length, 2 * 6 + 2, 'six Linear layers per block, the pooler and the classifier');
    const after = tidy(() => [...model.stateDict().keys()]);
    assert.deepEqual(after.filter((k) => !k.endsWith('.clip')), before, 'LayerNorm weights keep their Hugging Face names');
    const inputIds = randint(1, 50, [2, 6]);
    model.train();
    tidy(() => {
      const { output, rate } = cat.forward({ inputIds });
      assert.deepEqual(output.shape, [2, 2]);
      assert.equal(rate.terms.length, 9);
      assert.equal(rate.get('bert.encoder.layer.0.intermediate.intermediate_act_fn')!.numel, 2 * 6 * 48);
      output.sum().add(rate.weightedMean()!).backward();
      assert.ok(cat.site('bert.embeddings.LayerNorm').clip!.grad !== null);
    });
    inputIds.dispose();
  } finally { model.dispose(); }
});

test('a weight-quantized convolution keeps its layer\'s own padding (Keras stride-2: bottom/right only) and detach puts that layer back', () => {
  manualSeed(5);
  const conv = new KerasStride2Conv2d(2, 3, 3, { stride: 2, padding: 0, bias: false });
  const model = new Sequential(conv, new ReLU());
  const x = randn([1, 2, 6, 6], { dtype: 'float64' });
  model.to('float64');
  const cat = attachCat(model, { defaults: { enabled: false }, weights: { bits: 8 } }); // the site passes its input through
  try {
    const got = tidy(() => model.forward(x).toArray());
    // PyTorch: pad right and bottom by one, stride-2 3×3 conv with the min/max 8-bit weight.
    const ref = torchOracle(`
import torch.nn.functional as F
w = inp['w']; lo, hi = w.min(), w.max(); s = 255 / (hi - lo)
wq = torch.round((w - lo) * s) / s + lo
out['y'] = F.conv2d(F.pad(inp['x'], (0, 1, 0, 1)), wq, stride=2).relu()`, { x, w: conv.weight.detach() });
    assert.deepEqual(ref.y.shape, [1, 3, 3, 3]);
    assert.ok(maxRelError(got, ref.y.data) < 1e-12, `max rel error ${maxRelError(got, ref.y.data)}`);
    assert.equal(cat.detach().getSubmodule('0'), conv, 'detach restores the original layer');
  } finally { x.dispose(); model.dispose(); }
});
