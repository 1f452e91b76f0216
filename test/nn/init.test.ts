// Initialisers: fan computation checked by hand, and the statistics of big draws against the
// formulas (uniform bound = max |w| ≈ b and std = b/√3; normal std).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeros, tidy, manualSeed, type Tensor } from '../../src/tensor/index.js';
import { init, Conv2d, Linear } from '../../src/nn/index.js';

function stats(t: Tensor): { mean: number; std: number; maxAbs: number } {
  return tidy(() => ({ mean: t.mean().item(), std: t.std().item(), maxAbs: t.abs().max().item() }));
}
const near = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs expected ${b} (±${rel * 100}%)`);

test('calculateFanInAndFanOut: conv weight [out, in, kh, kw] and linear [out, in], by hand', () => {
  assert.deepEqual(init.calculateFanInAndFanOut([64, 3, 7, 7]), { fanIn: 3 * 49, fanOut: 64 * 49 });
  assert.deepEqual(init.calculateFanInAndFanOut([10, 20]), { fanIn: 20, fanOut: 10 });
  assert.deepEqual(init.calculateFanInAndFanOut([32, 1, 3, 3]), { fanIn: 9, fanOut: 288 }); // depthwise: in/groups = 1
  assert.throws(() => init.calculateFanInAndFanOut([5]), /at least 2 dims, got shape \[5\]/);
});

test('calculateGain matches PyTorch', () => {
  assert.equal(init.calculateGain('relu'), Math.SQRT2);
  assert.equal(init.calculateGain('tanh'), 5 / 3);
  assert.equal(init.calculateGain('linear'), 1);
  assert.equal(init.calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(1 / 3));
  assert.equal(init.calculateGain('leaky_relu'), Math.sqrt(2 / (1 + 0.01 ** 2)));
});

test('kaimingUniform_ with a=√5 (Conv/Linear default) has bound 1/√fanIn', () => {
  manualSeed(11);
  const w = zeros([256, 64, 3, 3]); // fanIn 576, bound 1/24
  init.kaimingUniform_(w, { a: Math.sqrt(5) });
  const s = stats(w);
  const bound = 1 / Math.sqrt(576);
  assert.ok(s.maxAbs <= bound && s.maxAbs > 0.999 * bound, `max |w| ${s.maxAbs} vs bound ${bound}`);
  near(s.std, bound / Math.sqrt(3), 0.01, 'std');
  assert.ok(Math.abs(s.mean) < 0.01 * bound, `mean ${s.mean}`);
  w.dispose();
});

test('kaimingNormal_ fan_out/relu (torchvision ResNet) has std √2/√fanOut; fan_in variant uses fanIn', () => {
  manualSeed(12);
  const w = zeros([128, 64, 3, 3]);
  init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' });
  near(stats(w).std, Math.SQRT2 / Math.sqrt(128 * 9), 0.01, 'fan_out std');
  init.kaimingNormal_(w, { mode: 'fan_in', nonlinearity: 'relu' });
  near(stats(w).std, Math.SQRT2 / Math.sqrt(64 * 9), 0.01, 'fan_in std');
  assert.throws(() => init.kaimingNormal_(w, { mode: 'fan_sideways' as 'fan_in' }), /mode must be 'fan_in' or 'fan_out'/);
  w.dispose();
});

test('xavierUniform_/xavierNormal_ use √(6/(in+out)) and √(2/(in+out))', () => {
  manualSeed(13);
  const w = zeros([300, 500]);
  init.xavierUniform_(w);
  const bound = Math.sqrt(6 / 800);
  const s = stats(w);
  assert.ok(s.maxAbs <= bound && s.maxAbs > 0.999 * bound, `max |w| ${s.maxAbs} vs ${bound}`);
  init.xavierNormal_(w, 2);
  near(stats(w).std, 2 * Math.sqrt(2 / 800), 0.01, 'xavier normal std');
  w.dispose();
});

test('normal_, uniform_, zeros_, ones_, constant_ fill in place even on parameters that require grad', () => {
  manualSeed(14);
  const p = zeros([100000]).requiresGrad_(true);
  init.normal_(p, 2, 3);
  const s = stats(p);
  near(s.mean, 2, 0.02, 'mean');
  near(s.std, 3, 0.01, 'std');
  init.uniform_(p, -0.5, 0.5);
  assert.ok(stats(p).maxAbs <= 0.5);
  init.ones_(p);
  assert.equal(stats(p).mean, 1);
  init.constant_(p, 0.25);
  assert.equal(stats(p).std, 0);
  init.zeros_(p);
  assert.equal(stats(p).maxAbs, 0);
  p.dispose();
});

test('Conv2d and Linear bias bounds are 1/√fanIn', () => {
  manualSeed(15);
  const c = new Conv2d(16, 4096, 1); // fanIn 16, bias bound 0.25
  const l = new Linear(4, 8192);     // fanIn 4, bias bound 0.5
  const cb = stats(c.bias!), lb = stats(l.bias!);
  assert.ok(cb.maxAbs <= 0.25 && cb.maxAbs > 0.249, `conv bias max ${cb.maxAbs}`);
  assert.ok(lb.maxAbs <= 0.5 && lb.maxAbs > 0.499, `linear bias max ${lb.maxAbs}`);
  c.dispose(); l.dispose();
});
