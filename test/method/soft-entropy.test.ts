// The soft entropy must be the reference formula exactly (value and gradient, against a float64
// re-implementation here) and must track the hard entropy of the rounded sample at T = 10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, manualSeed, randn, rand, tensor, tidy } from '../../src/tensor/index.js';
import { l1l2Ratio, sampleActivations, softEntropyOfSample, weightSoftEntropy } from '../../src/method/soft-entropy.js';

/** The reference formula in float64: softmax(-T (u-k)^2) over 2^b bins, mean, -Σ p log2 p. */
function referenceSoftEntropy(s: number[], bits: number, T: number): number {
  const lo = Math.min(...s), hi = Math.max(...s), levels = 2 ** bits - 1;
  const p = new Float64Array(levels + 1);
  for (const v of s) {
    const u = ((v - lo) / (hi - lo)) * levels;
    const logits = Array.from({ length: levels + 1 }, (_, k) => -T * (u - k) ** 2);
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const z = e.reduce((a, b) => a + b, 0);
    e.forEach((x, k) => { p[k] += x / z / s.length; });
  }
  let h = 0;
  for (const q of p) if (q > 0) h -= q * Math.log2(q);
  return h;
}

function hardEntropy(s: number[], bits: number): number {
  const lo = Math.min(...s), hi = Math.max(...s), levels = 2 ** bits - 1;
  const counts = new Map<number, number>();
  for (const v of s) { const k = Math.round(((v - lo) / (hi - lo)) * levels); counts.set(k, (counts.get(k) ?? 0) + 1); }
  let h = 0;
  for (const c of counts.values()) { const q = c / s.length; h -= q * Math.log2(q); }
  return h;
}

test('soft entropy value equals the float64 reference formula', () => {
  manualSeed(1);
  for (const bits of [2, 4, 5, 8]) {
    for (const T of [10, 3]) {
      tidy(() => {
        const s = randn([300], { dtype: 'float64' }).relu();
        const got = softEntropyOfSample(s, { bits, temperature: T }).item();
        const want = referenceSoftEntropy(s.toArray(), bits, T);
        assert.ok(Math.abs(got - want) < 1e-10, `bits ${bits} T ${T}: ${got} vs ${want}`);
      });
    }
  }
});

test('soft entropy gradient matches central finite differences of the reference', () => {
  manualSeed(2);
  tidy(() => {
    const s = rand([40], { dtype: 'float64' }).mul(3).requiresGrad_(true);
    softEntropyOfSample(s, { bits: 3, temperature: 10 }).backward();
    const grad = s.grad!.toArray();
    const values = s.detach().toArray();
    const eps = 1e-6;
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const up = values.slice(), dn = values.slice();
      up[i]! += eps; dn[i]! -= eps;
      const fd = (referenceSoftEntropy(up, 3, 10) - referenceSoftEntropy(dn, 3, 10)) / (2 * eps);
      worst = Math.max(worst, Math.abs(fd - grad[i]!));
    }
    assert.ok(worst < 1e-6, `worst gradient error ${worst}`);
    assert.ok(grad.some((g) => Math.abs(g) > 1e-3), 'gradient must not vanish');
  });
});

test('soft entropy tracks the hard entropy of the rounded sample within 0.01 bit at T = 10', () => {
  manualSeed(3);
  const sources: [string, (bits: number) => number[]][] = [
    // ReLU of a Gaussian clipped at 3σ: half the mass at exactly 0.
    ['relu-gauss', () => randn([20000], { dtype: 'float64' }).clamp(0, 3).toArray()],
    // A discrete source already on the grid (soft assignment should be almost exact).
    ['grid', (bits) => rand([20000], { dtype: 'float64' }).mul(2 ** bits - 1).round().toArray()],
    // Sparse heavy-tailed: most values zero, the rest exponential.
    ['sparse-exp', () => { const u = rand([20000], { dtype: 'float64' }).toArray(); return u.map((x) => (x < 0.8 ? 0 : -Math.log(1 - (x - 0.8) / 0.2 + 1e-12))); }],
  ];
  for (const [name, draw] of sources) {
    for (const bits of [4, 5]) {
      tidy(() => {
        const values = draw(bits);
        const soft = softEntropyOfSample(tensor(values, undefined, { dtype: 'float64' }), { bits, temperature: 10 }).item();
        const hard = hardEntropy(values, bits);
        assert.ok(Math.abs(soft - hard) < 0.01, `${name} at ${bits} bits: soft ${soft.toFixed(4)} vs hard ${hard.toFixed(4)}`);
      });
    }
  }
});

test('a constant sample has zero entropy and a zero gradient (no host read decides it)', () => {
  tidy(() => {
    const s = tensor([2, 2, 2, 2], undefined, { dtype: 'float64' }).requiresGrad_(true);
    const h = softEntropyOfSample(s, { bits: 4 });
    assert.equal(h.item(), 0);
    h.backward();
    assert.deepEqual(s.grad!.toArray(), [0, 0, 0, 0]);
  });
});

test('sampling takes every 16th spatial position of the first image, all channels', () => {
  tidy(() => {
    const y = arange(0, 2 * 3 * 8 * 8, 1, { dtype: 'float32' }).reshape([2, 3, 8, 8]);
    const s = sampleActivations(y).toArray();
    // channel c of image 0 starts at c·64; positions 0, 16, 32, 48.
    assert.deepEqual(s, [0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176]);
    assert.deepEqual(sampleActivations(y, { stride: 32, images: 2 }).toArray(), [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352]);
    assert.equal(sampleActivations(y, { randomValues: 10 }).size, 10);
  });
});

test('L1/L2 ratio is 1 for a one-hot tensor and sqrt(n) for a constant one', () => {
  tidy(() => {
    assert.ok(Math.abs(l1l2Ratio(tensor([0, 0, 5, 0])).item() - 1) < 1e-6);
    assert.ok(Math.abs(l1l2Ratio(tensor([3, 3, 3, 3])).item() - 2) < 1e-6);
    assert.equal(l1l2Ratio(tensor([0, 0])).item(), 0);
  });
});

test('weight soft entropy samples 5 % on the 8-bit grid', () => {
  manualSeed(4);
  tidy(() => {
    // Weights taking only 2 distinct values: entropy of the 8-bit grid sample is that of a Bernoulli.
    const w = rand([200, 100]).gt(0.25).to('float32').mul(0.2).sub(0.1).requiresGrad_(true);
    const h = weightSoftEntropy(w).item();
    const p = 0.75, bernoulli = -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    assert.ok(Math.abs(h - bernoulli) < 0.05, `weight entropy ${h} vs ${bernoulli}`);
  });
});
