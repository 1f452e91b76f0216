// The target-rate controller on a synthetic plant shaped like CAT fine-tuning: the rate falls at a
// speed proportional to λ and to the cosine-decaying lr (an integrator), gives little back when λ
// drops (weights keep a low-entropy arrangement), responds after a delay (SGD momentum) and is
// measured with noise. The plant's gain c spans 6× (models needing small or large λ).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateController, groupRates, parseSiteTarget, planRateGroups } from '../../src/train/rate-controller.js';
import { globToRegExp } from '../../src/method/plan.js';

const glob = (pattern: string, site: string): boolean => globToRegExp(pattern).test(site);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

interface Plant { gain: number; hMin?: number; noise?: number; bias?: number; delay?: number }

/** Runs the loop for `steps` (4 "epochs"); returns the final true rate, λ history and the controller. */
function simulate(p: Plant, target: number, steps = 224, seed = 1) {
  const c = new RateController({ groups: [{ name: 'all', target, sites: [0] }], totalSteps: steps });
  const r = rng(seed);
  const h0 = 2.6, hMin = p.hMin ?? 0.5, delay = p.delay ?? 6;
  let h = h0, v = 0;
  const lambdas: number[] = [];
  for (let t = 0; t < steps; t++) {
    lambdas.push(c.lambdas[0]!);
    const l = t >= delay ? lambdas[t - delay]! : 0;
    const lr = 0.5 * (1 + Math.cos((Math.PI * t) / steps));
    v = 0.9 * v + lr * (-p.gain * l * ((h - hMin) / (h0 - hMin)) * (1 + 0.4 * l) + 0.002 * Math.max(0, 2.4 - h));
    h = Math.max(hMin, h + 0.1 * v);
    c.update([h + (p.bias ?? 0) + (p.noise ?? 0.06) * (r() + r() + r() - 1.5)]); // per-batch hard entropy
    // Epoch end: a real measurement of the true rate calibrates the offset.
    if ((t + 1) % (steps / 4) === 0) c.calibrate([h]);
  }
  return { final: h, lambdas, c };
}

test('reaches 2.0 and 1.5 bits from 2.6 within ±0.1 for plant gains over 6×, λ never negative', () => {
  for (const gain of [0.004, 0.01, 0.025]) {
    for (const target of [2.0, 1.5]) {
      const { final, lambdas } = simulate({ gain }, target);
      assert.ok(Math.abs(final - target) <= 0.1, `gain ${gain}, target ${target}: ended at ${final.toFixed(3)}`);
      assert.ok(lambdas.every((l) => l >= 0), 'λ stays non-negative');
    }
  }
});

test('a biased training estimate is corrected by the epoch-end calibration', () => {
  // The batches read 0.2 bits higher than the evaluation measures (train-mode BN, augmentation).
  const { final } = simulate({ gain: 0.01, bias: 0.2 }, 2.0);
  assert.ok(Math.abs(final - 2.0) <= 0.1, `ended at ${final}`);
});

test('a target above the λ = 0 rate leaves λ at 0 and counts as reached', () => {
  const { final, lambdas, c } = simulate({ gain: 0.01 }, 3.0);
  assert.ok(lambdas.every((l) => l === 0));
  assert.ok(Math.abs(final - 2.6) < 1e-9);
  assert.equal(c.outcome([final], 0.1)[0]!.reached, true);
});

test('an unreachable target saturates λ at its bound and is reported as not reached', () => {
  const { final, lambdas, c } = simulate({ gain: 0.0005, hMin: 1.2 }, 0.8);
  assert.ok(Math.max(...lambdas) <= 100 + 1e-9);
  assert.ok(lambdas.at(-1)! > 50, `λ ${lambdas.at(-1)} should be near the bound`);
  const [o] = c.outcome([final], 0.1);
  assert.equal(o!.reached, false);
  assert.ok(o!.achieved! > 1.2);
});

test('per-group targets: each group gets its own λ', () => {
  const groups = [{ name: 'all', target: 2.0, sites: [0, 1] }, { name: 'layer3.*', target: 1.0, sites: [2] }];
  const c = new RateController({ groups, totalSteps: 300 });
  const h = [2.6, 2.6, 2.6];
  const numel = [100, 100, 50];
  for (let t = 0; t < 300; t++) {
    const lam = c.siteLambdas(3, 0);
    for (let s = 0; s < 3; s++) h[s] += 0.05 * (0.6 + 2 / (1 + lam[s]! / 0.5) - h[s]!);
    c.update(groupRates(h, numel, groups));
  }
  const [all, l3] = groupRates(h, numel, groups);
  assert.ok(Math.abs(all! - 2.0) <= 0.1 && Math.abs(l3! - 1.0) <= 0.1, `${all}, ${l3}`);
  assert.ok(c.lambdas[1]! > c.lambdas[0]!);
});

test('state survives a save/load (resume) and the trajectory is recorded', () => {
  const a = simulate({ gain: 0.01 }, 2.0, 100).c;
  const b = new RateController({ groups: [{ name: 'all', target: 2.0, sites: [0] }], totalSteps: 100 });
  b.load(JSON.parse(JSON.stringify(a.state())));
  assert.deepEqual(b.update([2.1]), a.update([2.1]));
  assert.ok(a.trajectory.length >= 90 && a.trajectory[0]!.step === 0);
});

test('site patterns, groups and option parsing', () => {
  const sites = ['relu', 'layer1.0.relu', 'layer1.0.relu2', 'layer2.0.relu'];
  assert.deepEqual(planRateGroups(sites, 2, [{ pattern: 'layer1.*', bits: 1 }], glob), [
    { name: 'all', target: 2, sites: [0, 3] }, { name: 'layer1.*', target: 1, sites: [1, 2] }]);
  assert.deepEqual(planRateGroups(sites, undefined, [{ pattern: 'relu', bits: 1.5 }], glob), [{ name: 'relu', target: 1.5, sites: [0] }]);
  assert.throws(() => planRateGroups(sites, 2, [{ pattern: 'fc*', bits: 1 }], glob), /matches no quantized site/);
  assert.deepEqual(parseSiteTarget('layer1.*=1.5'), { pattern: 'layer1.*', bits: 1.5 });
  assert.throws(() => parseSiteTarget('layer1.*'), /PATTERN=BITS/);
  assert.throws(() => parseSiteTarget('x=-1'), /PATTERN=BITS/);
  assert.deepEqual(groupRates([1, 3], [1, 3], [{ name: 'a', target: 1, sites: [0, 1] }]), [2.5]);
  assert.throws(() => new RateController({ groups: [{ name: 'a', target: 0, sites: [0] }], totalSteps: 10 }), /positive number of bits/);
});
