// RateTarget on a real Cat (a small conv net built here): the sampled code histogram of a forward
// against counts taken in JS from the same forward's codes, the λ-weighted penalty against the
// sites' terms combined by hand, measuring on every n-th step, the epoch-end fallback to the last
// epoch within the tolerance, and the state a checkpoint carries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, randn, tidy, type Tensor } from '../../src/tensor/index.js';
import { Conv2d, Linear, Module, ReLU } from '../../src/nn/index.js';
import { attachCat, toCodeArray, Rate, type Cat } from '../../src/method/index.js';
import { RateTarget } from '../../src/train/rate-target.js';
import type { SiteRates } from '../../src/train/rate-measure.js';

class Net extends Module {
  readonly conv1: Conv2d; readonly relu1: ReLU; readonly conv2: Conv2d; readonly relu2: ReLU; readonly fc: Linear;
  constructor() {
    super();
    this.conv1 = this.add('conv1', new Conv2d(1, 4, 3, { padding: 1 }));
    this.relu1 = this.add('relu1', new ReLU());
    this.conv2 = this.add('conv2', new Conv2d(4, 2, 3, { padding: 1 }));
    this.relu2 = this.add('relu2', new ReLU());
    this.fc = this.add('fc', new Linear(2 * 5 * 5, 3));
  }
  forward(x: Tensor): Tensor {
    const h = this.relu2.forward(this.conv2.forward(this.relu1.forward(this.conv1.forward(x))));
    return this.fc.forward(h.reshape([h.shape[0]!, -1]));
  }
}

function setup(range: 'tensor' | 'clip' = 'tensor'): { cat: Cat<Tensor, Tensor>; x: Tensor } {
  manualSeed(3);
  const cat = attachCat<Tensor, Tensor>(new Net(), { defaults: { bits: 3, range } });
  const x = randn([6, 1, 5, 5]);
  cat.calibrateSync([x]);
  cat.model.train();
  return { cat, x };
}

/** Shannon entropy (bits) of integer codes counted in JS. */
function entropyOf(codes: ArrayLike<number>, alphabet: number): number {
  const counts = new Array<number>(alphabet).fill(0);
  for (let i = 0; i < codes.length; i++) counts[codes[i]!]!++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / codes.length) * Math.log2(c / codes.length);
  return h;
}

for (const range of ['tensor', 'clip'] as const) test(`histogramImages counts the codes of the first images only; numel stays the whole output (range ${range})`, () => {
  const { cat, x } = setup(range);
  try {
    tidy(() => {
      const { rate } = cat.forward(x, { codes: true, histogram: true, histogramImages: 2 });
      // Without codes the site copies only the sampled images' codes: the same counts.
      const alone = cat.forward(x, { histogram: true, histogramImages: 2 }).rate;
      assert.deepEqual(alone.sites.map((s) => s.histogram!.toArray()), rate.sites.map((s) => s.histogram!.toArray()));
      assert.ok(alone.sites.every((s) => s.codes === null));
      assert.equal(rate.sites.length, 2);
      const hard = rate.hardEntropies();
      for (const s of rate.sites) {
        const all = toCodeArray(s.codes!, s.bits);
        const perImage = all.length / 6;
        const first = all.subarray(0, 2 * perImage);
        const counts = (s.histogram!.toArray() as number[]);
        const want = new Array<number>(8).fill(0);
        for (const c of first) want[c]!++;
        assert.deepEqual(counts, want, s.site);
        assert.equal(s.numel, all.length);
        const h = hard.find((e) => e.site === s.site)!;
        assert.ok(Math.abs(h.bits - entropyOf(first, 8)) < 1e-12, `${s.site}: ${h.bits}`);
        assert.equal(h.numel, all.length);
      }
    });
    assert.throws(() => new Rate(cat, { histogramImages: -1 }), /non-negative integer/);
  } finally { cat.model.dispose(); x.dispose(); }
});

test('penalty: each site\'s λ (per-site target and fallback) times its term, numel-weighted', () => {
  const { cat, x } = setup();
  try {
    tidy(() => {
      const uniform = new RateTarget(cat, { bits: 1, totalSteps: 10, controller: { lambdaInit: 0.5 } });
      const perSite = new RateTarget(cat, { at: [{ pattern: 'relu2', bits: 1 }], lambda: 0.2, totalSteps: 10, controller: { lambdaInit: 0.7 } });
      const zero = new RateTarget(cat, { bits: 1, totalSteps: 10 });
      const { rate } = cat.forward(x, uniform.request());
      const v = rate.values();
      const n = v.reduce((a, s) => a + s.numel, 0);
      const mean = v.reduce((a, s) => a + s.numel * s.value, 0) / n;
      assert.ok(Math.abs(uniform.penalty(rate)!.item() - 0.5 * mean) < 1e-6 * mean);
      const byHand = (0.2 * v[0]!.numel * v[0]!.value + 0.7 * v[1]!.numel * v[1]!.value) / n;
      assert.deepEqual(v.map((s) => s.site), ['relu1', 'relu2']);
      assert.ok(Math.abs(perSite.penalty(rate)!.item() - byHand) < 1e-6 * byHand);
      assert.equal(zero.penalty(rate), null, 'λ = 0 everywhere adds nothing');
      // One λ for every site: the caller's weighted mean is reused (a stand-in value shows it is);
      // with per-site λ it is ignored.
      const given = rate.weightedMean()!.mul(0).add(3);
      assert.ok(Math.abs(uniform.penalty(rate, given)!.item() - 1.5) < 1e-6);
      assert.ok(Math.abs(perSite.penalty(rate, given)!.item() - byHand) < 1e-6 * byHand);
      assert.deepEqual([...perSite.lambdas], [0.2, 0.7]);
    });
    assert.throws(() => new RateTarget(cat, { at: [{ pattern: 'layer9.*', bits: 1 }], totalSteps: 10 }), /matches no quantized site/);
  } finally { cat.model.dispose(); x.dispose(); }
});

test('observe: the sampled hard entropy of every n-th step drives the controller', () => {
  const { cat, x } = setup();
  try {
    const target = new RateTarget(cat, { bits: 1, totalSteps: 100, measureEvery: 2, sampleImages: 2 });
    const requests: boolean[] = [];
    let expected = NaN;
    for (let step = 0; step < 4; step++) {
      tidy(() => {
        const req = target.request();
        requests.push(req.histogram === true);
        const { rate } = cat.forward(x, { ...req, codes: true });
        if (step === 0) {
          // Numel-weighted over the sites, each site's entropy from its first 2 images' codes.
          let bits = 0, n = 0;
          for (const s of rate.sites) {
            const all = toCodeArray(s.codes!, s.bits);
            bits += s.numel * entropyOf(all.subarray(0, (2 * all.length) / 6), 8);
            n += s.numel;
          }
          expected = bits / n;
        }
        target.observe(rate);
      });
      if (step === 0) assert.ok(Math.abs(target.controller.estimates[0]! - expected) < 1e-12, `${target.controller.estimates[0]} vs ${expected}`);
    }
    assert.deepEqual(requests, [true, false, true, false]);
    assert.equal(target.controller.step, 2, 'one controller update per measuring step');
    assert.ok(target.controller.lambdas[0]! > 0, 'a rate above the target raises λ');
  } finally { cat.model.dispose(); x.dispose(); }
});

test('epoch ends: the most accurate epoch within the tolerance is restored (the last one outside it, or less accurate); state round-trips', () => {
  const { cat, x } = setup();
  try {
    const target = new RateTarget(cat, { bits: 1.5, totalSteps: 20, tolerance: 0.1 });
    const rates = (bits: number): SiteRates => ({ sites: ['relu1', 'relu2'], numel: [100, 50], entropy: [bits, bits], metric: [bits, bits], accuracy: { top1: 0.5, top5: null, n: 10 } });
    tidy(() => { const { rate } = cat.forward(x, target.request()); target.observe(rate); });
    const fc = (cat.model as Net).fc;
    const before = fc.weight.toArray();
    const e1 = target.endEpoch(1, rates(1.55));
    assert.equal(e1.bits, 1.55);
    noGrad(() => fc.weight.fill_(0));
    target.endEpoch(2, rates(1.9));
    assert.equal(target.restoreBest(2), 1);
    assert.deepEqual(fc.weight.toArray(), before);
    const outcome = target.outcome([1.9, 1.9], [100, 50], 1);
    assert.equal(outcome.reached, false);
    assert.match(outcome.message, /NOT reached .*epoch 1's weights/);

    // Within the tolerance at every epoch: the most accurate on validation data is kept (the last on a tie).
    const pick = new RateTarget(cat, { bits: 1.5, totalSteps: 20, tolerance: 0.1 });
    const weightsAt = new Map<number, number[]>();
    const epochAt = (epoch: number, accuracy: number) => {
      noGrad(() => fc.weight.fill_(epoch));
      weightsAt.set(epoch, fc.weight.toArray() as number[]);
      pick.endEpoch(epoch, rates(1.45), accuracy);
    };
    epochAt(1, 0.80); epochAt(2, 0.83); epochAt(3, 0.70);
    assert.equal(pick.restoreBest(3), 2);
    assert.deepEqual(fc.weight.toArray(), weightsAt.get(2));
    assert.match(pick.outcome([1.45, 1.45], [100, 50], 2).message, /^target reached .*epoch 2's weights, the most accurate on validation data/);
    epochAt(4, 0.83); epochAt(5, 0.83);
    assert.equal(pick.restoreBest(5), null, 'a tie goes to the later epoch: nothing to restore');
    assert.deepEqual(fc.weight.toArray(), weightsAt.get(5));
    pick.dispose();

    const again = new RateTarget(cat, { bits: 1.5, totalSteps: 20, tolerance: 0.1 });
    again.load(JSON.parse(JSON.stringify(target.state())));
    assert.deepEqual(again.controller.state(), target.controller.state());
    assert.deepEqual(again.request(), target.request());
    target.dispose();
    again.dispose();
  } finally { cat.model.dispose(); x.dispose(); }
});

test('hardEntropies reads sites of different bit widths back in one piece: each site\'s entropy from its own counts', () => {
  manualSeed(5);
  const cat = attachCat<Tensor, Tensor>(new Net(), { defaults: { bits: 3 }, at: [{ pattern: 'relu2', bits: 5 }] });
  const x = randn([6, 1, 5, 5]);
  try {
    cat.calibrateSync([x]);
    cat.model.train();
    tidy(() => {
      const { rate } = cat.forward(x, { codes: true, histogram: true });
      const hard = rate.hardEntropies();
      assert.deepEqual(hard.map((h) => h.site), ['relu1', 'relu2']);
      assert.deepEqual(rate.sites.map((s) => s.histogram!.size), [8, 32]);
      for (const s of rate.sites) {
        const want = entropyOf(toCodeArray(s.codes!, s.bits), 1 << s.bits);
        const h = hard.find((e) => e.site === s.site)!;
        assert.ok(Math.abs(h.bits - want) < 1e-12, `${s.site}: ${h.bits} vs ${want}`);
      }
    });
  } finally { cat.model.dispose(); x.dispose(); }
});
