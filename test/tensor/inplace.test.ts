// In-place updates: values, return identity, aliasing through views, and autograd interaction.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, ones, arange, noGrad, manualSeed, memory } from '../../src/tensor/index.js';

describe('in-place arithmetic', () => {
  it('add_/sub_/mul_/div_ with tensors (broadcast), scalars and alpha, returning this', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.equal(x.add_(tensor([10, 20, 30])), x);
    assert.deepEqual(x.toArray(), [11, 22, 33, 14, 25, 36]);
    x.sub_(1, 2);
    assert.deepEqual(x.toArray(), [9, 20, 31, 12, 23, 34]);
    x.add_(tensor([[1], [2]]), -3);
    assert.deepEqual(x.toArray(), [6, 17, 28, 6, 17, 28]);
    x.mul_(0.5);
    assert.deepEqual(x.toArray(), [3, 8.5, 14, 3, 8.5, 14]);
    x.div_(tensor([3, 8.5, 14]));
    assert.deepEqual(x.toArray(), [1, 1, 1, 1, 1, 1]);
    x.mul_(tensor([[2], [4]]));
    assert.deepEqual(x.toArray(), [2, 2, 2, 4, 4, 4]);
  });

  it('addcmul_ / addcdiv_ / lerp_ / sqrt_ (the optimizer kernels)', () => {
    const p = tensor([1, 2, 3], [3], { dtype: 'float64' });
    const a = tensor([2, 4, 6], [3], { dtype: 'float64' });
    const b = tensor([0.5, 0.25, 2], [3], { dtype: 'float64' });
    assert.equal(p.addcmul_(a, b, 3), p);
    assert.deepEqual(p.toArray(), [1 + 3 * 1, 2 + 3 * 1, 3 + 3 * 12]);
    p.addcdiv_(a, b, -0.5);
    assert.deepEqual(p.toArray(), [4 - 0.5 * 4, 5 - 0.5 * 16, 39 - 0.5 * 3]);
    p.lerp_(tensor([0, 0, 0], [3], { dtype: 'float64' }), 0.25);
    assert.deepEqual(p.toArray(), [1.5, -2.25, 28.125]);
    const s = tensor([4, 9, 0.25]).sqrt_();
    assert.deepEqual(s.toArray(), [2, 3, 0.5]);
  });

  it('copy_ broadcasts and converts dtype; zero_, fill_, clamp_', () => {
    const x = zeros([2, 3], { dtype: 'float64' });
    x.copy_(tensor([1, 2, 3], [3], { dtype: 'int64' }));
    assert.equal(x.dtype, 'float64');
    assert.deepEqual(x.toArray(), [1, 2, 3, 1, 2, 3]);
    assert.throws(() => x.copy_(tensor([1, 2])), /aten::copy_: The size of tensor a \(3\) must match the size of tensor b \(2\)/);
    assert.equal(x.fill_(-2.5), x);
    assert.deepEqual(x.toArray(), new Array(6).fill(-2.5));
    assert.deepEqual(x.zero_().toArray(), new Array(6).fill(0));
    const c = tensor([-3, -0.5, 0.5, 3]);
    assert.deepEqual(c.clamp_(-1, 1).toArray(), [-1, -0.5, 0.5, 1]);
    assert.deepEqual(c.clamp_(0).toArray(), [0, 0, 0.5, 1]);
    assert.deepEqual(c.clamp_(null, 0.25).toArray(), [0, 0, 0.25, 0.25]);
    const i = arange(4);
    i.fill_(7);
    assert.deepEqual(i.toArray(), [7, 7, 7, 7]);
    assert.throws(() => i.add_(0.5), /result type Float can't be cast to the desired output type Long/);
  });

  it('uniform_ / normal_ are seeded', () => {
    manualSeed(11);
    const a = zeros([8]).uniform_(2, 3).toArray();
    const n = zeros([8]).normal_(5, 0.1).toArray();
    manualSeed(11);
    assert.deepEqual(zeros([8]).uniform_(2, 3).toArray(), a);
    assert.deepEqual(zeros([8]).normal_(5, 0.1).toArray(), n);
    assert.ok(a.every((v) => v >= 2 && v < 3));
    assert.ok(n.every((v) => Math.abs(v - 5) < 1));
  });

  it('leave no handles behind', () => {
    const x = ones([3]);
    const y = ones([3]);
    const before = memory().numTensors;
    for (let k = 0; k < 50; k++) x.add_(y).mul_(0.5).addcmul_(y, y).clamp_(0, 10).copy_(y).fill_(1).zero_();
    assert.equal(memory().numTensors, before);
  });
});

describe('aliasing', () => {
  it('writes through a view show in the base and in other views', () => {
    const base = zeros([2, 3]);
    const flat = base.reshape([6]);
    const t = base.T;
    const row = base.select(0, 1);
    flat.add_(arange(6).float());
    assert.deepEqual(base.toArray(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(t.toArray(), [0, 3, 1, 4, 2, 5]);
    row.mul_(10);
    assert.deepEqual(flat.toArray(), [0, 1, 2, 30, 40, 50]);
    t.select(0, 0).fill_(-1);
    assert.deepEqual(base.toArray(), [-1, 1, 2, -1, 40, 50]);
  });

  it('detach shares storage; clone and contiguous copies of non-contiguous views do not', () => {
    const x = tensor([1, 2, 3]);
    const d = x.detach();
    const c = x.clone();
    assert.ok(d.sharesStorageWith(x));
    d.add_(1);
    assert.deepEqual(x.toArray(), [2, 3, 4]);
    assert.deepEqual(c.toArray(), [1, 2, 3]);
    const m = arange(6).float().reshape([2, 3]);
    const mc = m.T.contiguous();
    mc.zero_();
    assert.deepEqual(m.toArray(), [0, 1, 2, 3, 4, 5]);
  });

  it('out-of-place results never alias their inputs', () => {
    const x = tensor([1, 2]);
    const y = x.add(0);
    assert.ok(!y.sharesStorageWith(x));
    y.add_(5);
    assert.deepEqual(x.toArray(), [1, 2]);
  });

  it('writing into an expanded (overlapping) view is refused', () => {
    const e = tensor([1], [1]).expand([3]);
    assert.throws(() => e.add_(1), /unsupported operation: more than one element of the written-to tensor refers to a single memory location/);
  });
});

describe('in-place ops and autograd', () => {
  it('refused on a leaf that requires grad, allowed under noGrad (optimizer step)', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    assert.throws(() => w.add_(1), /a leaf Variable that requires grad is being used in an in-place operation/);
    noGrad(() => w.sub_(tensor([0.5, 0.5]), 2));
    assert.deepEqual(w.toArray(), [0, 1]);
    assert.equal(w.requiresGrad, true);
  });

  it('modifying a saved tensor is detected at backward', () => {
    const x = tensor([1, 2], [2], { requiresGrad: true });
    const y = x.exp();
    const z = y.mul(y);
    y.add_(1);
    assert.throws(() => z.sum().backward(), /one of the variables needed for gradient computation has been modified by an inplace operation/);
  });

  it('in-place on a non-leaf carries the gradient through', () => {
    const x = tensor([1, 2, 3], [3], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(2);
    y.mul_(3).add_(1);
    y.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [6, 6, 6]);
  });
});
