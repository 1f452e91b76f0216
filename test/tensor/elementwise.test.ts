// Elementwise operators with broadcasting, comparisons, where, clamp and unary functions: values
// against python torch (float64 and float32) and hand-computed cases, gradients against torch and
// central finite differences.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, scalar, where, type Tensor } from '../../src/tensor/index.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F32, F64 } from '../helpers/assert-close.js';
import { gradcheck, leaf } from '../helpers/gradcheck.js';
import { data, seq } from '../helpers/tensor-data.js';

// a [2,1,3] and b [4,1] broadcast to [2,4,3]; p is positive (bases for pow, arguments for log/sqrt).
const a = data([2, 1, 3], { lo: -2, hi: 2, seed: 1 });
const b = data([4, 1], { lo: 0.5, hi: 2, seed: 2 });
const p = data([2, 4, 3], { lo: 0.1, hi: 3, seed: 3 });
const u = data([3, 5], { lo: -4, hi: 8, seed: 4 });
const lo = data([3, 1], { lo: -1, hi: 0, seed: 5 });
const hi = data([5], { lo: 0.5, hi: 3, seed: 6 });
const g = data([2, 4, 3], { seed: 7 }); // upstream gradient

const UNARY = ['abs', 'neg', 'sign', 'exp', 'log', 'log2', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'round', 'floor', 'ceil',
  'sigmoid', 'tanh', 'relu', 'relu6', 'gelu', 'gelu_tanh'] as const;
const POSITIVE_ONLY = new Set(['log', 'log2', 'sqrt', 'rsqrt']);
const apply = (x: Tensor, name: (typeof UNARY)[number]): Tensor => {
  switch (name) {
    case 'gelu_tanh': return x.gelu('tanh');
    default: return (x[name] as () => Tensor).call(x);
  }
};

let ref: Record<string, OracleArray>;
before(() => {
  ref = torchOracle(`
import torch.nn.functional as F
a, b, p, u, lo, hi, g = (inp[k] for k in ['a', 'b', 'p', 'u', 'lo', 'hi', 'g'])
out['add'] = a + b; out['add_alpha'] = torch.add(a, b, alpha=2.5); out['sub'] = a - b; out['sub_alpha'] = torch.sub(a, b, alpha=-0.5)
out['mul'] = a * b; out['div'] = a / b; out['pow_tt'] = p ** b.reshape(4, 1); out['pow_ts'] = a ** 3; out['pow_frac'] = p ** 0.37
out['maximum'] = torch.maximum(a, b); out['minimum'] = torch.minimum(a, b); out['remainder'] = torch.remainder(a, b)
out['add_s'] = a + 1.25; out['mul_s'] = a * -3; out['div_s'] = a / 0.7
for k, fn in [('eq', torch.eq), ('ne', torch.ne), ('lt', torch.lt), ('le', torch.le), ('gt', torch.gt), ('ge', torch.ge)]:
    out[k] = fn(a, b.round()); out[k + '_s'] = fn(a, 0.5)
out['where'] = torch.where(a > 0, a, b); out['where_s'] = torch.where(a > 0, a, torch.tensor(-7.0, dtype=torch.float64))
out['clamp_s'] = torch.clamp(u, -1.5, 2.5); out['clamp_min'] = torch.clamp(u, min=0.0); out['clamp_max'] = torch.clamp(u, max=1.0)
# tensor bounds with gradients to the bounds (PACT-style learned clipping)
uu, ll, hh = u.clone().requires_grad_(), lo.clone().requires_grad_(), hi.clone().requires_grad_()
y = torch.clamp(uu, ll, hh); y.backward(torch.arange(15, dtype=torch.float64).reshape(3, 5) / 10)
out['clamp_t'] = y; out['clamp_t_gx'] = uu.grad; out['clamp_t_glo'] = ll.grad; out['clamp_t_ghi'] = hh.grad
aa = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
y = torch.clamp(u, torch.zeros((), dtype=torch.float64), aa); y.sum().backward(); out['pact_y'] = y; out['pact_g'] = aa.grad
ops = {'abs': torch.abs, 'neg': torch.neg, 'sign': torch.sign, 'exp': torch.exp, 'log': torch.log, 'log2': torch.log2,
       'sqrt': torch.sqrt, 'rsqrt': torch.rsqrt, 'reciprocal': torch.reciprocal, 'square': torch.square, 'round': torch.round,
       'floor': torch.floor, 'ceil': torch.ceil, 'sigmoid': torch.sigmoid, 'tanh': torch.tanh, 'relu': torch.relu,
       'relu6': F.relu6, 'gelu': F.gelu, 'gelu_tanh': lambda t: F.gelu(t, approximate='tanh')}
for k, fn in ops.items():
    x = p if k in ('log', 'log2', 'sqrt', 'rsqrt') else u
    out['u_' + k] = fn(x); out['u32_' + k] = fn(x.float())
    if k not in ('sign', 'round', 'floor', 'ceil'):
        xx = x.clone().requires_grad_(); fn(xx).backward(torch.ones_like(xx) * 0.5 + xx.detach() * 0.1); out['ug_' + k] = xx.grad
# broadcast gradients reduce to each input's shape
aa, bb = a.clone().requires_grad_(), b.clone().requires_grad_()
(aa * bb + aa / bb - torch.maximum(aa, bb)).backward(g); out['bg_a'] = aa.grad; out['bg_b'] = bb.grad
`, { a, b, p, u, lo, hi, g });
});

describe('binary arithmetic with broadcasting', () => {
  it('[2,1,3] with [4,1] broadcasts to [2,4,3] for every op (float64 vs torch)', () => {
    const cases: [string, Tensor][] = [
      ['add', a.add(b)], ['add_alpha', a.add(b, 2.5)], ['sub', a.sub(b)], ['sub_alpha', a.sub(b, -0.5)],
      ['mul', a.mul(b)], ['div', a.div(b)], ['pow_tt', p.pow(b)], ['pow_ts', a.pow(3)], ['pow_frac', p.pow(0.37)],
      ['maximum', a.maximum(b)], ['minimum', a.minimum(b)], ['remainder', a.remainder(b)],
      ['add_s', a.add(1.25)], ['mul_s', a.mul(-3)], ['div_s', a.div(0.7)],
    ];
    for (const [name, t] of cases) {
      assert.equal(t.dtype, 'float64', name);
      assertClose(t, ref[name]!, F64, name);
    }
    assert.deepEqual([...a.add(b).shape], [2, 4, 3]);
  });

  it('hand-computed small cases, float32', () => {
    const x = tensor([[1], [2]]);       // [2,1]
    const y = tensor([10, 20, 30]);     // [3]
    assert.deepEqual(x.add(y).toArray(), [11, 21, 31, 12, 22, 32]);
    assert.deepEqual(x.sub(y, 0.5).toArray(), [-4, -9, -14, -3, -8, -13]);
    assert.deepEqual(x.mul(y).toArray(), [10, 20, 30, 20, 40, 60]);
    assert.deepEqual(y.div(x).toArray(), [10, 20, 30, 5, 10, 15]);
    assert.deepEqual(x.pow(y.div(10)).toArray(), [1, 1, 1, 2, 4, 8]);
    assert.deepEqual(tensor([-3, 3]).remainder(2).toArray(), [1, 1]);   // Python-style modulo
    assert.deepEqual(tensor([1, 5]).maximum(tensor([3, 2])).toArray(), [3, 5]);
    assert.deepEqual(tensor([1, 5]).minimum(tensor([3, 2])).toArray(), [1, 2]);
  });

  it('dtype promotion follows torch: int with float scalar gives float, int / int gives float', () => {
    const i = tensor([1, 2, 3], [3], { dtype: 'int64' });
    assert.equal(i.add(2).dtype, 'int64');
    assert.equal(i.add(0.5).dtype, 'float32');
    assert.deepEqual(i.add(0.5).toArray(), [1.5, 2.5, 3.5]);
    assert.equal(i.div(2).dtype, 'float32');
    assert.deepEqual(i.div(2).toArray(), [0.5, 1, 1.5]);
    assert.equal(i.mul(tensor([2], [1], { dtype: 'float64' })).dtype, 'float64');
    assert.equal(tensor([1], [1]).add(tensor([1], [1], { dtype: 'float64' })).dtype, 'float64');
  });

  it('gradients reduce over broadcast dims (vs torch and finite differences)', () => {
    const aa = a.clone().requiresGrad_();
    const bb = b.clone().requiresGrad_();
    aa.mul(bb).add(aa.div(bb)).sub(aa.maximum(bb)).backward(g);
    assertClose(aa.grad!, ref.bg_a!, F64, 'grad a');
    assertClose(bb.grad!, ref.bg_b!, F64, 'grad b');
    const x = leaf(seq(6, -2, 2, 11), [2, 1, 3]);
    const y = leaf(seq(4, 0.5, 2, 12), [4, 1]);
    gradcheck((s, t) => s.add(t, 1.5).mul(t).sub(s.div(t)), [x, y]);
    gradcheck((s, t) => s.abs().add(0.5).pow(t), [x, y]);
    gradcheck((s, t) => s.minimum(t).add(s.maximum(t.neg())), [x, y]);
  });

  it('incompatible shapes throw a clear error', () => {
    assert.throws(() => tensor([1, 2, 3]).add(tensor([1, 2])), /aten::add\.Tensor: The size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton dimension 0/);
    assert.throws(() => data([2, 3]).mul(data([3, 2])), /size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton dimension 1/);
    assert.throws(() => data([4]).maximum(data([3])), /aten::maximum: The size of tensor a \(4\) must match/);
  });
});

describe('comparisons and where', () => {
  it('comparisons give bool tensors that match torch', () => {
    const br = b.round();
    for (const k of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      const t = a[k](br);
      assert.equal(t.dtype, 'bool');
      assert.deepEqual([...t.shape], [2, 4, 3]);
      assert.deepEqual(t.toArray(), ref[k]!.data, k);
      assert.deepEqual(a[k](0.5).toArray(), ref[`${k}_s`]!.data, `${k} scalar`);
    }
    assert.deepEqual(tensor([1, 2, 3]).eq(2).toArray(), [0, 1, 0]);
    assert.deepEqual(tensor([1, 2, 3]).le(tensor([3, 2, 1])).toArray(), [1, 1, 0]);
  });

  it('logical ops', () => {
    const x = tensor([true, true, false, false]);
    const y = tensor([true, false, true, false]);
    assert.deepEqual(x.logicalAnd(y).toArray(), [1, 0, 0, 0]);
    assert.deepEqual(x.logicalOr(y).toArray(), [1, 1, 1, 0]);
    assert.deepEqual(x.logicalNot().toArray(), [0, 0, 1, 1]);
    assert.deepEqual(tensor([1, NaN, Infinity]).isnan().toArray(), [0, 1, 0]);
    assert.deepEqual(tensor([1, NaN, -Infinity]).isfinite().toArray(), [1, 0, 0]);
    assert.equal(tensor([0, 0, 1]).any().item(), 1);
    assert.equal(tensor([0, 1, 1]).all().item(), 0);
  });

  it('where with tensor and scalar alternatives, broadcasting, and its gradient', () => {
    assertClose(where(a.gt(0), a, b), ref.where!, F64, 'where');
    assertClose(a.where(a.gt(0), -7), ref.where_s!, F64, 'where scalar');
    assert.deepEqual(tensor([1, 2, 3]).where(tensor([true, false, true]), tensor([9])).toArray(), [1, 9, 3]);
    const x = leaf([1, -2, 3], [3]);
    const y = leaf([10, 20, 30], [3]);
    where(x.gt(0), x, y).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [1, 0, 1]);
    assert.deepEqual(y.grad!.toArray(), [0, 1, 0]);
  });
});

describe('clamp', () => {
  it('scalar bounds, one-sided', () => {
    assertClose(u.clamp(-1.5, 2.5), ref.clamp_s!, F64);
    assertClose(u.clamp(0), ref.clamp_min!, F64);
    assertClose(u.clamp(null, 1), ref.clamp_max!, F64);
    assert.deepEqual(tensor([-2, 0.5, 3]).clamp(0, 1).toArray(), [0, 0.5, 1]);
    assert.deepEqual(tensor([-2, 5], [2], { dtype: 'int64' }).clamp(-1, 1).toArray(), [-1, 1]);
  });

  it('tensor bounds broadcast and get gradients (vs torch)', () => {
    const uu = u.clone().requiresGrad_();
    const ll = lo.clone().requiresGrad_();
    const hh = hi.clone().requiresGrad_();
    const y = uu.clamp(ll, hh);
    const w = tensor(seq(15).map((_, i) => i / 10), [3, 5], { dtype: 'float64' });
    y.backward(w);
    assertClose(y, ref.clamp_t!, F64, 'value');
    assertClose(uu.grad!, ref.clamp_t_gx!, F64, 'grad x');
    assertClose(ll.grad!, ref.clamp_t_glo!, F64, 'grad lo');
    assertClose(hh.grad!, ref.clamp_t_ghi!, F64, 'grad hi');
  });

  it('PACT: clamp(x, 0, alpha) sends d/dalpha = number of clipped elements', () => {
    const alpha = tensor(1.7, [], { dtype: 'float64', requiresGrad: true });
    const y = u.clamp(0, alpha);
    y.sum().backward();
    assertClose(y, ref.pact_y!, F64);
    const clipped = u.toArray().filter((v) => v > 1.7).length;
    assert.equal(alpha.grad!.item(), clipped);
    assert.deepEqual(ref.pact_g!.data, [clipped]);
    // float32 alpha with a float64 scalar bound mixes fine
    const a32 = scalar(2, { requiresGrad: true });
    const y32 = tensor([-1, 1, 3, 5]).clamp(0, a32);
    y32.sum().backward();
    assert.deepEqual(y32.toArray(), [0, 1, 2, 2]);
    assert.equal(a32.grad!.item(), 2);
    gradcheck((x, al) => x.clamp(al.neg(), al), [leaf([-3, -0.5, 0.2, 0.9, 2.5], [5]), leaf([1], [])]);
  });
});

describe('unary functions', () => {
  it('float64 values match torch', () => {
    for (const name of UNARY) assertClose(apply(POSITIVE_ONLY.has(name) ? p : u, name), ref[`u_${name}`]!, F64, name);
  });

  it('float32 values match torch', () => {
    for (const name of UNARY) {
      const x = (POSITIVE_ONLY.has(name) ? p : u).float();
      const y = apply(x, name);
      assert.equal(y.dtype, 'float32');
      assertClose(y, ref[`u32_${name}`]!, F32, `${name} float32`);
    }
  });

  it('gradients match torch', () => {
    for (const name of UNARY) {
      if (['sign', 'round', 'floor', 'ceil'].includes(name)) continue;
      const x = (POSITIVE_ONLY.has(name) ? p : u).clone().requiresGrad_();
      apply(x, name).backward(x.detach().mul(0.1).add(0.5));
      assertClose(x.grad!, ref[`ug_${name}`]!, F64, `grad ${name}`);
    }
  });

  it('gradients match finite differences away from kinks', () => {
    const x = leaf([-2.3, -0.7, 0.4, 1.1, 3.3, 6.8], [6]);
    for (const name of ['abs', 'exp', 'sigmoid', 'tanh', 'relu', 'relu6', 'gelu', 'gelu_tanh', 'square', 'neg'] as const) {
      gradcheck((t) => apply(t, name), [x]);
    }
    const pos = leaf([0.3, 0.9, 1.7, 4.2], [4]);
    for (const name of ['log', 'log2', 'sqrt', 'rsqrt', 'reciprocal'] as const) gradcheck((t) => apply(t, name), [pos]);
  });

  it('hand-computed: round half to even, floor/ceil of negatives, relu6, sigmoid(0)', () => {
    assert.deepEqual(tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999]).round().toArray(), [0, 2, 2, -0, -2, 2]);
    assert.deepEqual(tensor([-1.5, -0.2, 0.2, 1.5]).floor().toArray(), [-2, -1, 0, 1]);
    assert.deepEqual(tensor([-1.5, -0.2, 0.2, 1.5]).ceil().toArray(), [-1, -0, 1, 2]);
    assert.deepEqual(tensor([-1, 3, 7]).relu6().toArray(), [0, 3, 6]);
    assert.deepEqual(tensor([0]).sigmoid().toArray(), [0.5]);
    assert.deepEqual(tensor([8], [1], { dtype: 'float64' }).log2().toArray(), [3]);
    assert.deepEqual(tensor([-2, 0, 3]).sign().toArray(), [-1, 0, 1]);
    assert.deepEqual(tensor([4, 0.25]).sqrt().toArray(), [2, 0.5]);
    assertClose(tensor([1], [1], { dtype: 'float64' }).gelu(), [0.8413447460685429], F64);
  });

  it('the straight-through estimator: rounded value, identity gradient', () => {
    const x = leaf([-1.6, -0.4, 0.5, 1.5, 2.2], [5]);
    const y = x.add(x.round().sub(x).detach());
    assert.deepEqual(y.toArray(), [-2, 0, 0, 2, 2]);
    y.backward(tensor([1, 2, 3, 4, 5], [5], { dtype: 'float64' }));
    assert.deepEqual(x.grad!.toArray(), [1, 2, 3, 4, 5]);
    assert.equal(x.round().requiresGrad, true); // round has a (zero) gradient, not an error
  });
});
