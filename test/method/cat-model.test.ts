// CAT model plumbing: quantizer placement, numel-weighted loss, calibration, gradual stages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, randn, tensor, tidy } from '../../src/tensor/index.js';
import { Conv2d, ReLU, Sequential } from '../../src/nn/index.js';
import { ActQuant, activationRegularizer, attachActQuant, calibrateClips, calibrateClipsAsync, clipFromStats, setGradualStage, ACIQ_LAPLACE } from '../../src/method/index.js';
import { CifarResNet } from '../../src/models/resnet-cifar.js';

test('attachActQuant puts one quantizer at every ReLU site of a CIFAR ResNet-20, in order', () => {
  const model = new CifarResNet({ depth: 20, inChannels: 1, numClasses: 10 });
  const q = attachActQuant(model, { bits: 4, noQuantEdges: true });
  assert.equal(q.length, 19, 'stem + 2 per block × 9 blocks');
  assert.equal(q[0]!.site, 'relu');
  assert.equal(q[1]!.site, 'layer1.0.relu1');
  assert.equal(q[18]!.site, 'layer3.2.relu2');
  assert.ok(q[18]!.passThrough && !q[17]!.passThrough, 'only the last site is left at 32 bits');
  // The float checkpoint keys are unchanged except the added clips.
  const keys = [...model.stateDict().keys()];
  assert.equal(keys.filter((k) => k.endsWith('.clip')).length, 19);
  assert.ok(keys.includes('layer2.0.downsample.0.weight'));
  model.dispose();
});

test('the activation term is the element-count-weighted mean of the layer entropies', () => {
  tidy(() => {
    const a = new ActQuant({ bits: 4 }), b = new ActQuant({ bits: 4 }), off = new ActQuant({ bits: 4 });
    a.lastRegularizer = tensor([2.0], []); a.lastNumel = 3000;
    b.lastRegularizer = tensor([0.5], []); b.lastNumel = 1000;
    off.lastRegularizer = null; off.lastNumel = 99999; // a site that is not quantizing does not count
    const { term, perSite } = activationRegularizer([a, b, off]);
    assert.ok(Math.abs(term!.item() - (3000 * 2 + 1000 * 0.5) / 4000) < 1e-7); // 1.625
    assert.equal(perSite.length, 2);
  });
});

test('calibration: running stats with momentum 0.9 from zero, bias-corrected, then clip = mean + 3·std', () => {
  manualSeed(0);
  tidy(() => {
    const model = new Sequential(new ReLU());
    const [q] = attachActQuant(model, { bits: 4 });
    // Non-negative input: ReLU is the identity, so batch stats are those of x itself.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2]);
    const mean = 4.5, std = Math.sqrt(42 / 7), mad = 2; // unbiased std as torch.std; |x-4.5| mean = 2
    const n = 5;
    calibrateClips(model, [q!], Array.from({ length: n }, () => x), 'mean+3std');
    const bias = 1 - 0.9 ** n;
    assert.ok(Math.abs(q!.stats.mean - bias * mean) < 1e-5);
    assert.ok(Math.abs(q!.stats.std - bias * std) < 1e-5);
    assert.ok(Math.abs(q!.stats.meanAbsDev - bias * mad) < 1e-5);
    // The zero-start bias (1 − 0.9^n) is removed before the rule applies: exactly mean + 3·std.
    assert.ok(Math.abs(q!.clip!.item() - (mean + 3 * std)) < 1e-5);
    assert.ok(Math.abs(clipFromStats(q!, 'aciq-laplace') - (mean + ACIQ_LAPLACE[4]! * mad)) < 1e-5);
    model.dispose();
  });
});

test('calibrateClipsAsync over a stream of inputs sets the clips calibrateClips sets', async () => {
  const model = new Sequential(new ReLU());
  const [q] = attachActQuant(model, { bits: 4 });
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2]);
  try {
    const syncClips = calibrateClips(model, [q!], [x, x, x]);
    async function* stream() { for (let i = 0; i < 3; i++) { await Promise.resolve(); yield x; } }
    model.train();
    const asyncClips = await calibrateClipsAsync(model, [q!], stream());
    assert.deepEqual(asyncClips, syncClips);
    assert.equal(model.training, true, 'the mode is restored');
    assert.equal(q!.calibrating, false);
  } finally { x.dispose(); model.dispose(); }
});

test('in training every quantizing site yields a soft entropy; gradual mode enables sites in order', () => {
  manualSeed(1);
  tidy(() => {
    const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new Conv2d(4, 4, 3, { padding: 1 }), new ReLU());
    const qs = attachActQuant(model, { bits: 4 });
    for (const q of qs) q.setClip(10);
    const x = randn([2, 1, 8, 8]);
    setGradualStage(qs, 0);
    model.train().forward(x);
    assert.ok(qs[0]!.lastRegularizer !== null && qs[1]!.lastRegularizer === null);
    assert.equal(qs[0]!.lastNumel, 2 * 4 * 8 * 8);
    setGradualStage(qs, 1);
    const y = model.forward(x);
    assert.ok(qs.every((q) => q.lastRegularizer !== null));
    // Output of a quantizing site has at most 2^b distinct values.
    assert.ok(new Set(y.toArray().map((v) => v.toFixed(5))).size <= 16);
    // Eval always quantizes all sites, never computes the training regularizer.
    setGradualStage(qs, -1);
    model.eval().forward(x);
    assert.ok(qs.every((q) => q.lastRegularizer === null));
    model.dispose();
  });
});

test('entropy loss gradient lowers the entropy of a site', () => {
  manualSeed(2);
  tidy(() => {
    const model = new Sequential(new Conv2d(1, 8, 3, { padding: 1 }), new ReLU());
    const [q] = attachActQuant(model, { bits: 4, sampling: { stride: 1 } });
    q!.setClip(3);
    const x = randn([4, 1, 8, 8]);
    const entropyOnce = () => tidy(() => { model.train().forward(x); return q!.lastRegularizer!.item(); });
    const before = entropyOnce();
    for (let i = 0; i < 30; i++) {
      tidy(() => {
        model.forward(x);
        q!.lastRegularizer!.backward();
        noGrad(() => { for (const p of model.parameters()) { const g = p.grad; if (g) p.sub_(g, 0.05); p.grad = null; } });
      });
    }
    const after = entropyOnce();
    assert.ok(after < before - 0.3, `entropy ${before.toFixed(3)} → ${after.toFixed(3)}`);
    model.dispose();
  });
});

