// Reductions over dims and linear algebra: values and gradients against python torch, hand-computed
// cases, and central finite differences.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, type Tensor } from '../../src/tensor/index.js';
import { linear } from '../../src/tensor/functional.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F32, F64 } from '../helpers/assert-close.js';
import { gradcheck, leaf } from '../helpers/gradcheck.js';
import { data, seq } from '../helpers/tensor-data.js';

const x = data([3, 4, 5], { lo: -3, hi: 3, seed: 21 });
const m1 = data([2, 3, 4], { seed: 22 });
const m2 = data([4, 5], { seed: 23 });
const b1 = data([3, 2, 4], { seed: 24 });
const b2 = data([3, 4, 6], { seed: 25 });
const lx = data([2, 3, 4], { seed: 26 });
const lw = data([5, 4], { seed: 27 });
const lb = data([5], { seed: 28 });
const lg = data([2, 3, 5], { seed: 29 });
const v = data([4], { seed: 30 });

let ref: Record<string, OracleArray>;
before(() => {
  ref = torchOracle(`
import torch.nn.functional as F
x, m1, m2, b1, b2, lx, lw, lb, lg, v = (inp[k] for k in ['x', 'm1', 'm2', 'b1', 'b2', 'lx', 'lw', 'lb', 'lg', 'v'])
out['sum'] = x.sum(); out['sum1'] = x.sum(1); out['sum02k'] = x.sum((0, 2), keepdim=True); out['sumn1'] = x.sum(-1)
out['mean'] = x.mean(); out['mean2'] = x.mean(2); out['mean01k'] = x.mean((0, 1), keepdim=True)
out['max'] = x.max(); out['min'] = x.min()
out['max1'] = x.max(1); out['min2k'] = x.min(2, keepdim=True)
out['argmax'] = x.argmax(); out['argmax0'] = x.argmax(0); out['argmin2k'] = x.argmin(2, keepdim=True)
for ub in (True, False):
    s = 'u' if ub else 'b'
    out['std_' + s] = x.std(unbiased=ub); out['var_' + s] = x.var(unbiased=ub)
    out['std1_' + s] = x.std(1, unbiased=ub); out['var02k_' + s] = x.var((0, 2), unbiased=ub, keepdim=True)
out['norm2'] = torch.linalg.vector_norm(x); out['norm1'] = torch.linalg.vector_norm(x, 1); out['norminf'] = torch.linalg.vector_norm(x, float('inf'))
out['norm2_1'] = torch.linalg.vector_norm(x, 2, dim=1); out['norm1_2k'] = torch.linalg.vector_norm(x, 1, dim=2, keepdim=True)
out['cumsum1'] = x.cumsum(1)
out['x32_sum1'] = x.float().sum(1); out['x32_std2'] = x.float().std(2); out['x32_norm'] = torch.linalg.vector_norm(x.float())
out['matmul_b'] = m1 @ m2; out['matmul_mv'] = m2.T @ v; out['matmul_vv'] = v @ v; out['bmm'] = torch.bmm(b1, b2)
out['matmul32'] = m1.float() @ m2.float()
lx, lw, lb = lx.requires_grad_(), lw.requires_grad_(), lb.requires_grad_()
y = F.linear(lx, lw, lb); y.backward(lg)
out['linear'] = y; out['linear_gx'] = lx.grad; out['linear_gw'] = lw.grad; out['linear_gb'] = lb.grad
out['linear_nobias'] = F.linear(lx, lw)
xx = x.clone().requires_grad_()
(xx.std(1).sum() + xx.var(2, unbiased=False).sum() * 0.5 + torch.linalg.vector_norm(xx, 2, dim=0).sum() + xx.max(2).values.sum()).backward()
out['red_grad'] = xx.grad
`, { x, m1, m2, b1, b2, lx, lw, lb, lg, v });
});

describe('reductions', () => {
  it('sum and mean over all, one and several dims, keepdim (vs torch)', () => {
    const cases: [string, Tensor][] = [
      ['sum', x.sum()], ['sum1', x.sum(1)], ['sum02k', x.sum([0, 2], true)], ['sumn1', x.sum(-1)],
      ['mean', x.mean()], ['mean2', x.mean(2)], ['mean01k', x.mean([0, 1], true)], ['cumsum1', x.cumsum(1)],
    ];
    for (const [name, t] of cases) assertClose(t, ref[name]!, F64, name);
    assertClose(x.float().sum(1), ref.x32_sum1!, F32);
    const h = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(h.sum(0).toArray(), [5, 7, 9]);
    assert.deepEqual(h.sum(1).toArray(), [6, 15]);
    assert.deepEqual([...h.sum(1, true).shape], [2, 1]);
    assert.deepEqual(h.mean(1).toArray(), [2, 5]);
    assert.deepEqual(h.cumsum(1).toArray(), [1, 3, 6, 4, 9, 15]);
    assert.equal(tensor([1, 2, 3], [3], { dtype: 'int64' }).sum().dtype, 'int64');
  });

  it('max/min overall and along a dim with indices; argmax/argmin', () => {
    assertClose(x.max(), ref.max!, F64);
    assertClose(x.min(), ref.min!, F64);
    const mx = x.maxDim(1);
    const [rv, ri] = ref.max1 as unknown as OracleArray[];
    assertClose(mx.values, rv!, F64, 'max values');
    assert.deepEqual(mx.indices.toArray(), ri!.data);
    assert.equal(mx.indices.dtype, 'int64');
    const mn = x.minDim(2, true);
    const [nv, ni] = ref.min2k as unknown as OracleArray[];
    assertClose(mn.values, nv!, F64);
    assert.deepEqual([...mn.indices.shape], [3, 4, 1]);
    assert.deepEqual(mn.indices.toArray(), ni!.data);
    assert.deepEqual(x.argmax().toArray(), ref.argmax!.data);
    assert.deepEqual(x.argmax(0).toArray(), ref.argmax0!.data);
    assert.deepEqual(x.argmin(2, true).toArray(), ref.argmin2k!.data);
    const h = tensor([[3, 9, 1], [7, 2, 8]]);
    const r = h.maxDim(1);
    assert.deepEqual(r.values.toArray(), [9, 8]);
    assert.deepEqual(r.indices.toArray(), [1, 2]);
    assert.deepEqual(h.minDim(0).indices.toArray(), [0, 1, 0]);
    assert.equal(h.argmax().item(), 1);
    assert.equal(h.argmin().item(), 2);
  });

  it('std/var, unbiased and not, over all and over dims (vs torch and by hand)', () => {
    for (const s of ['u', 'b'] as const) {
      const unbiased = s === 'u';
      assertClose(x.std(undefined, { unbiased }), ref[`std_${s}`]!, F64, `std ${s}`);
      assertClose(x.var(undefined, { unbiased }), ref[`var_${s}`]!, F64, `var ${s}`);
      assertClose(x.std(1, { unbiased }), ref[`std1_${s}`]!, F64, `std dim ${s}`);
      assertClose(x.var([0, 2], { unbiased, keepdim: true }), ref[`var02k_${s}`]!, F64, `var dims ${s}`);
    }
    assertClose(x.float().std(2), ref.x32_std2!, F32);
    const h = tensor([1, 2, 3, 4], [4], { dtype: 'float64' });
    assertClose(h.var(), [5 / 3], F64);
    assertClose(h.var(undefined, { unbiased: false }), [1.25], F64);
    assertClose(h.std(), [Math.sqrt(5 / 3)], F64);
  });

  it('vector norms p = 1, 2, inf (vs torch and by hand)', () => {
    assertClose(x.norm(), ref.norm2!, F64);
    assertClose(x.norm(1), ref.norm1!, F64);
    assertClose(x.norm(Infinity), ref.norminf!, F64);
    assertClose(x.norm(2, 1), ref.norm2_1!, F64);
    assertClose(x.norm(1, 2, true), ref.norm1_2k!, F64);
    assertClose(x.float().norm(), ref.x32_norm!, F32);
    assert.deepEqual(tensor([3, -4]).norm().toArray(), [5]);
    assert.deepEqual(tensor([3, -4]).norm(1).toArray(), [7]);
  });

  it('reduction gradients (vs torch and finite differences)', () => {
    const xx = x.clone().requiresGrad_();
    xx.std(1).sum().add(xx.var(2, { unbiased: false }).sum().mul(0.5)).add(xx.norm(2, 0).sum()).add(xx.maxDim(2).values.sum()).backward();
    assertClose(xx.grad!, ref.red_grad!, F64);
    const s = leaf(seq(12, -2, 2, 31), [3, 4]);
    gradcheck((t) => t.sum(1), [s]);
    gradcheck((t) => t.mean([0, 1], true), [s]);
    gradcheck((t) => t.std(0), [s]);
    gradcheck((t) => t.var(1, { unbiased: false }), [s]);
    gradcheck((t) => t.norm(2, 1), [s]);
    gradcheck((t) => t.norm(1), [s]);
    gradcheck((t) => t.maxDim(1).values, [s]);
    gradcheck((t) => t.cumsum(0), [s]);
  });

  it('bad dims and dtypes throw clear errors', () => {
    assert.throws(() => x.sum(3), /aten::sum\.dim_IntList: Dimension out of range \(expected to be in range of \[-3, 2\], but got 3\)/);
    assert.throws(() => tensor([1, 2], [2], { dtype: 'int64' }).mean(), /mean\(\): could not infer output dtype\. Input dtype must be either a floating point or complex dtype\. Got: Long/);
  });
});

describe('matmul / bmm / linear', () => {
  it('matmul broadcasts batches, handles vectors; bmm (vs torch)', () => {
    assertClose(m1.matmul(m2), ref.matmul_b!, F64, 'batched matmul');
    assertClose(m2.T.matmul(v), ref.matmul_mv!, F64, 'matrix-vector');
    assertClose(v.matmul(v), ref.matmul_vv!, F64, 'dot');
    assertClose(b1.bmm(b2), ref.bmm!, F64, 'bmm');
    assertClose(m1.float().matmul(m2.float()), ref.matmul32!, F32, 'float32 matmul');
    assert.deepEqual(tensor([[1, 2], [3, 4]]).matmul(tensor([[5, 6], [7, 8]])).toArray(), [19, 22, 43, 50]);
  });

  it('linear with and without bias, gradients to x, weight and bias (vs torch)', () => {
    const xx = lx.clone().requiresGrad_();
    const ww = lw.clone().requiresGrad_();
    const bb = lb.clone().requiresGrad_();
    const y = linear(xx, ww, bb);
    y.backward(lg);
    assertClose(y, ref.linear!, F64, 'linear');
    assertClose(xx.grad!, ref.linear_gx!, F64, 'grad x');
    assertClose(ww.grad!, ref.linear_gw!, F64, 'grad w');
    assertClose(bb.grad!, ref.linear_gb!, F64, 'grad b');
    assertClose(linear(lx, lw), ref.linear_nobias!, F64, 'no bias');
  });

  it('matmul and bmm gradients match finite differences', () => {
    const a = leaf(seq(6, -1, 1, 41), [2, 3]);
    const b = leaf(seq(12, -1, 1, 42), [3, 4]);
    gradcheck((s, t) => s.matmul(t), [a, b]);
    const c = leaf(seq(12, -1, 1, 43), [2, 2, 3]);
    const d = leaf(seq(12, -1, 1, 44), [2, 3, 2]);
    gradcheck((s, t) => s.bmm(t), [c, d]);
    gradcheck((s, t, u) => linear(s, t, u), [leaf(seq(6, -1, 1, 45), [2, 3]), leaf(seq(12, -1, 1, 46), [4, 3]), leaf(seq(4, -1, 1, 47), [4])]);
  });

  it('shape mismatches throw clear errors', () => {
    assert.throws(() => data([2, 3]).matmul(data([2, 3])), /aten::matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
    assert.throws(() => data([2, 2, 3]).bmm(data([2, 2, 3])), /aten::bmm: Expected size for first two dimensions of batch2 tensor to be: \[2, 3\] but got: \[2, 2\]/);
    assert.throws(() => data([2, 3]).bmm(data([3, 2])), /aten::bmm: batch1 must be a 3D tensor/);
    assert.throws(() => linear(data([2, 3]), data([4, 2])), /linear: input's last dim is 3, weight \[4, 2\] expects 2/);
    assert.throws(() => data([2, 3]).matmul(data([3, 2], { dtype: 'float32' })), /expected (scalar type|m1 and m2 to have the same dtype)/);
  });
});
