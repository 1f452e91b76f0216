// Every loss (values and gradients vs python torch, plus hand-computed cases), embedding and dropout.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, ones, manualSeed, type Tensor } from '../../src/tensor/index.js';
import * as F from '../../src/tensor/functional.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F64, F32 } from '../helpers/assert-close.js';
import { gradcheck, leaf } from '../helpers/gradcheck.js';
import { data, seq } from '../helpers/tensor-data.js';

const logits = data([6, 4], { lo: -3, hi: 3, seed: 101 });
const target = tensor([0, 3, 1, 2, 3, 1], [6], { dtype: 'int64' });
const targetIgn = tensor([0, -100, 1, 2, -100, 1], [6], { dtype: 'int64' }); // -100: the default ignoreIndex
const cw = data([4], { lo: 0.2, hi: 2, seed: 102 });
const slog = data([2, 3, 2, 2], { lo: -2, hi: 2, seed: 103 });
const star = tensor([0, 2, 1, 1, 2, 0, 0, 1], [2, 2, 2], { dtype: 'int64' });
const pred = data([3, 5], { lo: -2, hi: 2, seed: 104 });
const targ = data([3, 5], { lo: -2, hi: 2, seed: 105 });
const prob = data([3, 5], { lo: 0.05, hi: 0.95, seed: 106 });
const btarg = data([3, 5], { lo: 0, hi: 1, seed: 107 });
const bw = data([5], { lo: 0.5, hi: 2, seed: 108 });
const pw = data([5], { lo: 0.5, hi: 3, seed: 109 });
const emb = data([5, 3], { seed: 110 });
const idx = tensor([[1, 4, 1], [0, 2, 4]], undefined, { dtype: 'int64' });

/** Clones float inputs as leaves, runs fn (a loss), backprops it (or its sum) and returns value and grads. */
function run(fn: (...xs: Tensor[]) => Tensor, ...args: Tensor[]): { y: Tensor; grads: Tensor[] } {
  const leaves = args.map((a) => (a.dtype === 'float64' ? a.clone().requiresGrad_() : a));
  const y = fn(...leaves);
  (y.size === 1 ? y : y.mul(y.detach().add(1)).sum()).backward();
  return { y, grads: leaves.flatMap((l, i) => (args[i]!.dtype === 'float64' && i === 0 ? [l.grad!] : [])) };
}
function check(key: string, r: { y: Tensor; grads: Tensor[] }, tol = F64): void {
  assertClose(r.y, ref[key]!, tol, `${key} value`);
  assertClose(r.grads[0]!, ref[`${key}_g`]!, tol, `${key} grad`);
}

let ref: Record<string, OracleArray>;
before(() => {
  ref = torchOracle(`
import torch.nn.functional as F
logits, cw, slog, pred, targ, prob, btarg, bw, pw, emb = (inp[k] for k in ['logits', 'cw', 'slog', 'pred', 'targ', 'prob', 'btarg', 'bw', 'pw', 'emb'])
target, target_ign, star, idx = (inp[k].long() for k in ['target', 'target_ign', 'star', 'idx'])
def run(key, fn, x, *rest):
    xx = x.clone().requires_grad_()
    y = fn(xx, *rest)
    (y if y.numel() == 1 else (y * (y.detach() + 1)).sum()).backward()
    out[key] = y; out[key + '_g'] = xx.grad
for r in ('mean', 'sum', 'none'):
    run('ce_' + r, lambda a: F.cross_entropy(a, target, reduction=r), logits)
run('ce_w', lambda a: F.cross_entropy(a, target, weight=cw), logits)
run('ce_ign', lambda a: F.cross_entropy(a, target_ign, weight=cw), logits)
run('ce_ign3', lambda a: F.cross_entropy(a, target, ignore_index=3, reduction='sum'), logits)
run('ce_ls', lambda a: F.cross_entropy(a, target, label_smoothing=0.1), logits)
run('ce_all', lambda a: F.cross_entropy(a, target_ign, weight=cw, label_smoothing=0.2), logits)
run('ce_all_none', lambda a: F.cross_entropy(a, target_ign, weight=cw, label_smoothing=0.2, reduction='none'), logits)
run('ce_spatial', lambda a: F.cross_entropy(a, star, label_smoothing=0.05), slog)
out['ce32'] = F.cross_entropy(logits.float(), target, weight=cw.float(), label_smoothing=0.1)
lp = F.log_softmax(logits, 1)
run('nll', lambda a: F.nll_loss(a, target), lp)
run('nll_w_ign', lambda a: F.nll_loss(a, target, weight=cw, ignore_index=1), lp)
run('nll_sum', lambda a: F.nll_loss(a, target, reduction='sum'), lp)
for r in ('mean', 'sum', 'none'):
    run('mse_' + r, lambda a: F.mse_loss(a, targ, reduction=r), pred)
run('sl1', lambda a: F.smooth_l1_loss(a, targ), pred)
run('sl1_beta', lambda a: F.smooth_l1_loss(a, targ, beta=0.7, reduction='sum'), pred)
run('sl1_beta_none', lambda a: F.smooth_l1_loss(a, targ, beta=2.5, reduction='none'), pred)
run('bce', lambda a: F.binary_cross_entropy(a, btarg), prob)
run('bce_w', lambda a: F.binary_cross_entropy(a, btarg, weight=bw, reduction='sum'), prob)
run('bcel', lambda a: F.binary_cross_entropy_with_logits(a, btarg), pred)
run('bcel_pw', lambda a: F.binary_cross_entropy_with_logits(a, btarg, pos_weight=pw), pred)
run('bcel_w_pw_none', lambda a: F.binary_cross_entropy_with_logits(a, btarg, weight=bw, pos_weight=pw, reduction='none'), pred)
ee = emb.clone().requires_grad_()
y = F.embedding(idx, ee); (y * (y.detach() + 1)).sum().backward(); out['emb'] = y; out['emb_g'] = ee.grad
ee = emb.clone().requires_grad_()
y = F.embedding(idx, ee, padding_idx=4); (y * (y.detach() + 1)).sum().backward(); out['emb_pad'] = y; out['emb_pad_g'] = ee.grad
`, { logits, target, target_ign: targetIgn, cw, slog, star, pred, targ, prob, btarg, bw, pw, emb, idx });
});

describe('crossEntropy / nllLoss', () => {
  it('reductions mean, sum, none', () => {
    for (const r of ['mean', 'sum', 'none'] as const) check(`ce_${r}`, run((a) => F.crossEntropy(a, target, { reduction: r }), logits));
  });
  it('class weights, ignoreIndex (default -100 and custom), label smoothing, all combined', () => {
    check('ce_w', run((a) => F.crossEntropy(a, target, { weight: cw }), logits));
    check('ce_ign', run((a) => F.crossEntropy(a, targetIgn, { weight: cw }), logits));
    check('ce_ign3', run((a) => F.crossEntropy(a, target, { ignoreIndex: 3, reduction: 'sum' }), logits));
    check('ce_ls', run((a) => F.crossEntropy(a, target, { labelSmoothing: 0.1 }), logits));
    check('ce_all', run((a) => F.crossEntropy(a, targetIgn, { weight: cw, labelSmoothing: 0.2 }), logits));
    check('ce_all_none', run((a) => F.crossEntropy(a, targetIgn, { weight: cw, labelSmoothing: 0.2, reduction: 'none' }), logits));
  });
  it('spatial targets [N, H, W] with logits [N, C, H, W]', () => {
    check('ce_spatial', run((a) => F.crossEntropy(a, star, { labelSmoothing: 0.05 }), slog));
  });
  it('float32 logits', () => {
    assertClose(F.crossEntropy(logits.float(), target, { weight: cw.float(), labelSmoothing: 0.1 }), ref.ce32!, F32);
  });
  it('hand-computed: uniform logits give log(C); confident correct logits give ~0', () => {
    assertClose(F.crossEntropy(tensor([[0, 0, 0, 0]]), tensor([2], [1], { dtype: 'int64' })), [Math.log(4)], F32);
    assertClose(F.crossEntropy(tensor([[0, 50]], undefined, { dtype: 'float64' }), tensor([1], [1], { dtype: 'int64' })), [0], { atol: 1e-20, rtol: 0 });
    // smoothing 0.3 over 2 classes: target distribution [0.15, 0.85]
    const l = tensor([[1, 2]], undefined, { dtype: 'float64' });
    const lse = Math.log(Math.exp(1) + Math.exp(2));
    assertClose(F.crossEntropy(l, tensor([1], [1], { dtype: 'int64' }), { labelSmoothing: 0.3 }), [0.15 * (lse - 1) + 0.85 * (lse - 2)], F64);
  });
  it('nllLoss on log-probabilities: weights, ignoreIndex, sum', () => {
    const lp = F.logSoftmax(logits, 1);
    check('nll', run((a) => F.nllLoss(a, target), lp));
    check('nll_w_ign', run((a) => F.nllLoss(a, target, { weight: cw, ignoreIndex: 1 }), lp));
    check('nll_sum', run((a) => F.nllLoss(a, target, { reduction: 'sum' }), lp));
    assert.deepEqual(F.nllLoss(tensor([[-1, -2], [-3, -4]]), tensor([1, 0], [2], { dtype: 'int64' }), { reduction: 'none' }).toArray(), [2, 3]);
  });
  it('gradients match finite differences', () => {
    const l = leaf(seq(12, -2, 2, 120), [3, 4]);
    const t = tensor([3, 0, -100], [3], { dtype: 'int64' });
    gradcheck((a) => F.crossEntropy(a, t, { weight: tensor([1, 2, 0.5, 1.5], [4], { dtype: 'float64' }), labelSmoothing: 0.15 }), [l]);
    gradcheck((a) => F.nllLoss(F.logSoftmax(a, 1), t.clamp(0)), [l]);
  });
  it('bad targets and options throw clear errors', () => {
    assert.throws(() => F.crossEntropy(logits, target.double()), /crossEntropy: target must hold int64 class indices, got float64/);
    assert.throws(() => F.crossEntropy(logits, target.to('int32')), /crossEntropy: target must hold int64 class indices, got int32/);
    assert.throws(() => F.crossEntropy(logits, target.narrow(0, 0, 4)), /crossEntropy: logits \[6, 4\] and target \[4\] disagree on the batch size/);
    assert.throws(() => F.crossEntropy(logits, tensor([0, 1, 2, 3, 4, 5], [6], { dtype: 'int64' })), /cross_entropy_loss: Target 4 is out of bounds/);
    assert.throws(() => F.crossEntropy(logits, target, { weight: cw.narrow(0, 0, 3) }), /weight tensor should be defined either for all 4 classes or no classes but got weight tensor of shape: \[3\]/);
    assert.throws(() => F.crossEntropy(logits, target, { labelSmoothing: 1.5 }), /labelSmoothing must be in \[0, 1\], got 1.5/);
    assert.throws(() => F.crossEntropy(logits, target, { reduction: 'avg' as never }), /reduction must be 'none', 'mean' or 'sum', got 'avg'/);
    assert.throws(() => F.nllLoss(logits, target.float()), /nllLoss: target must hold int64 class indices, got float32/);
  });
});

describe('regression and binary losses', () => {
  it('mseLoss with each reduction', () => {
    for (const r of ['mean', 'sum', 'none'] as const) check(`mse_${r}`, run((a) => F.mseLoss(a, targ, r), pred));
    assert.deepEqual(F.mseLoss(tensor([1, 2]), tensor([3, 2])).toArray(), [2]);
  });
  it('smoothL1Loss with beta', () => {
    check('sl1', run((a) => F.smoothL1Loss(a, targ), pred));
    check('sl1_beta', run((a) => F.smoothL1Loss(a, targ, { beta: 0.7, reduction: 'sum' }), pred));
    check('sl1_beta_none', run((a) => F.smoothL1Loss(a, targ, { beta: 2.5, reduction: 'none' }), pred));
    // |d| < beta: 0.5 d^2 / beta; else |d| - 0.5 beta
    assert.deepEqual(F.smoothL1Loss(tensor([0.5, 3]), tensor([0, 0]), { beta: 2, reduction: 'none' }).toArray(), [0.0625, 2]);
  });
  it('binaryCrossEntropy with weights', () => {
    check('bce', run((a) => F.binaryCrossEntropy(a, btarg), prob));
    check('bce_w', run((a) => F.binaryCrossEntropy(a, btarg, { weight: bw, reduction: 'sum' }), prob));
    assertClose(F.binaryCrossEntropy(tensor([0.25]), tensor([1])), [Math.log(4)], F32);
    assert.throws(() => F.binaryCrossEntropy(tensor([1.5]), tensor([1])), /all elements of input should be between 0 and 1/);
  });
  it('binaryCrossEntropyWithLogits with posWeight and weight', () => {
    check('bcel', run((a) => F.binaryCrossEntropyWithLogits(a, btarg), pred));
    check('bcel_pw', run((a) => F.binaryCrossEntropyWithLogits(a, btarg, { posWeight: pw }), pred));
    check('bcel_w_pw_none', run((a) => F.binaryCrossEntropyWithLogits(a, btarg, { weight: bw, posWeight: pw, reduction: 'none' }), pred));
    // stable for large logits: -log(sigmoid(-100)) = 100
    assertClose(F.binaryCrossEntropyWithLogits(tensor([-100], [1], { dtype: 'float64' }), tensor([1], [1], { dtype: 'float64' })), [100], F64);
  });
  it('gradients match finite differences', () => {
    const a = leaf(seq(6, -2, 2, 130), [2, 3]);
    const t = tensor(seq(6, -1, 1, 131), [2, 3], { dtype: 'float64' });
    gradcheck((s) => F.mseLoss(s, t), [a]);
    gradcheck((s) => F.smoothL1Loss(s, t, { beta: 0.5, reduction: 'sum' }), [a]);
    gradcheck((s) => F.binaryCrossEntropyWithLogits(s, t.abs(), { posWeight: tensor([2, 0.5, 1], [3], { dtype: 'float64' }) }), [a]);
    gradcheck((s) => F.binaryCrossEntropy(s.sigmoid(), t.abs()), [a]);
  });
  it('shape mismatches throw clear errors', () => {
    assert.throws(() => F.mseLoss(pred, targ.narrow(0, 0, 2)), /mseLoss: input \[3, 5\] and target \[2, 5\] must have the same shape/);
    assert.throws(() => F.binaryCrossEntropyWithLogits(pred, targ.T), /binaryCrossEntropyWithLogits: input \[3, 5\] and target \[5, 3\] must have the same shape/);
  });
});

describe('embedding', () => {
  it('looks up rows and scatters gradients (repeated indices accumulate), paddingIdx gets none', () => {
    const e = emb.clone().requiresGrad_();
    const y = F.embedding(idx, e);
    assert.deepEqual([...y.shape], [2, 3, 3]);
    y.mul(y.detach().add(1)).sum().backward();
    assertClose(y, ref.emb!, F64);
    assertClose(e.grad!, ref.emb_g!, F64);
    const e2 = emb.clone().requiresGrad_();
    const y2 = F.embedding(idx, e2, 4);
    y2.mul(y2.detach().add(1)).sum().backward();
    assertClose(y2, ref.emb_pad!, F64);
    assertClose(e2.grad!, ref.emb_pad_g!, F64);
    assert.deepEqual(e2.grad!.select(0, 4).toArray(), [0, 0, 0]);
    assert.deepEqual(F.embedding(tensor([2, 0], [2], { dtype: 'int32' }), tensor([[1, 2], [3, 4], [5, 6]])).toArray(), [5, 6, 1, 2]);
  });
  it('rejects float indices and out-of-range indices', () => {
    assert.throws(() => F.embedding(tensor([0, 1]), emb), /embedding: indices must be int64 or int32, got float32/);
    assert.throws(() => F.embedding(tensor([5], [1], { dtype: 'int64' }), emb), /aten::embedding: index out of range in self/);
  });
});

describe('dropout', () => {
  it('p = 0 and eval mode are the identity', () => {
    const x = data([4, 5], { dtype: 'float32' });
    assert.deepEqual(F.dropout(x, 0, true).toArray(), x.toArray());
    assert.deepEqual(F.dropout(x, 0.5, false).toArray(), x.toArray());
    assert.deepEqual(F.dropout(x, 1, true).toArray().map((v) => v + 0), new Array(20).fill(0)); // -0 for negative inputs
  });
  it('training: zero fraction ≈ p, survivors scaled by 1/(1-p), gradient uses the same mask', () => {
    manualSeed(5);
    const n = 20000;
    for (const p of [0.1, 0.5, 0.8]) {
      const x = ones([n], { requiresGrad: true });
      const y = F.dropout(x, p, true);
      const v = y.toArray();
      const zeros = v.filter((e) => e === 0).length;
      const sd = Math.sqrt(p * (1 - p) / n);
      assert.ok(Math.abs(zeros / n - p) < 5 * sd, `p=${p}: zero fraction ${zeros / n}`);
      const scale = 1 / (1 - p);
      assert.ok(v.every((e) => e === 0 || Math.abs(e - scale) < 1e-6 * scale), `p=${p}: survivors scaled by ${scale}`);
      y.sum().backward();
      assert.deepEqual(x.grad!.toArray(), v);
    }
    manualSeed(9);
    const a = F.dropout(ones([64]), 0.5, true).toArray();
    manualSeed(9);
    assert.deepEqual(F.dropout(ones([64]), 0.5, true).toArray(), a);
    assert.throws(() => F.dropout(ones([2]), 1.5, true), /dropout: p must be in \[0, 1\], got 1.5/);
  });
});
