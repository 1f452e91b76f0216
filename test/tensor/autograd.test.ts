// Autograd entry points: requiresGrad, backward (scalar and with explicit gradient), accumulation,
// resetting, retain/create graph, noGrad scopes, detach and the straight-through estimator.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, scalar, ones, noGrad, enableGrad, isGradEnabled } from '../../src/tensor/index.js';
import { gradcheck, leaf } from '../helpers/gradcheck.js';
import { assertClose, F32 } from '../helpers/assert-close.js';

const f64 = (v: number[], requiresGrad = true) => tensor(v, [v.length], { dtype: 'float64', requiresGrad });

describe('requiresGrad and backward', () => {
  it('leaves start without grad; requiresGrad can be set and read', () => {
    const x = tensor([1, 2]);
    assert.equal(x.requiresGrad, false);
    x.requiresGrad = true;
    assert.equal(x.requiresGrad, true);
    assert.equal(x.grad, null);
    assert.equal(x.requiresGrad_(false), x);
    assert.equal(x.requiresGrad, false);
    assert.equal(x.mul(2).requiresGrad, false);
    assert.equal(tensor([1], [1], { requiresGrad: true }).mul(tensor([2])).requiresGrad, true);
  });

  it('scalar backward fills leaf gradients', () => {
    const x = f64([1, 2, 3]);
    x.pow(2).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
    assert.equal(x.grad!.dtype, 'float64');
    assert.deepEqual([...x.grad!.shape], [3]);
  });

  it('non-scalar backward takes an explicit gradient (vector-Jacobian product)', () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(x);                                  // dy_i/dx_i = 2 x_i
    y.backward(tensor([1, 0.5, -1], [3], { dtype: 'float64' }));
    assert.deepEqual(x.grad!.toArray(), [2, 2, -6]);
    const m = tensor([1, 2, 3, 4], [2, 2], { dtype: 'float64', requiresGrad: true });
    m.sum(1).backward(tensor([10, 100], [2], { dtype: 'float64' }));
    assert.deepEqual(m.grad!.toArray(), [10, 10, 100, 100]);
  });

  it('gradients accumulate across backward calls until reset with grad = null', () => {
    const x = f64([1, -1]);
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [6, 6]);
    x.grad = null;
    assert.equal(x.grad, null);
    x.mul(tensor([1, 2], [2], { dtype: 'float64' })).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [1, 2]);
  });

  it('grad can be assigned and is accumulated into; mismatched assignment is refused', () => {
    const x = f64([1, 2]);
    x.grad = tensor([100, 200], [2], { dtype: 'float64' });
    x.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [101, 201]);
    assert.throws(() => { x.grad = tensor([1, 2, 3], [3], { dtype: 'float64' }); }, /grad: assigned gradient float64 \[3\] must match the tensor's float64 \[2\]/);
    assert.throws(() => { x.grad = tensor([1, 2]); }, /assigned gradient float32 \[2\] must match the tensor's float64 \[2\]/);
  });

  it('the graph is freed after backward unless retainGraph', () => {
    const x = f64([0.5]);
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assert.deepEqual(x.grad!.toArray(), [2 * Math.exp(0.5)]);
    assert.throws(() => y.backward(), /Trying to backward through the graph a second time/);
  });

  it('createGraph gives differentiable gradients (second derivative)', () => {
    const x = f64([2, -1]);
    x.pow(3).sum().backward(undefined, { createGraph: true });
    const g = x.grad!;                                   // 3 x^2, with history
    assert.deepEqual(g.toArray(), [12, 3]);
    assert.equal(g.requiresGrad, true);
    x.grad = null;
    g.sum().backward();
    assert.deepEqual(x.grad!.toArray(), [12, -6]);      // 6 x
  });

  it('gradients flow to every use of a tensor and through integer-free paths only', () => {
    const x = f64([3]);
    x.mul(x).add(x.mul(2)).sum().backward();            // d/dx (x^2 + 2x) = 2x + 2
    assert.deepEqual(x.grad!.toArray(), [8]);
    const w = f64([1, 2]);
    w.argmax().add(0);                                   // int result: no gradient path, no error
    assert.equal(w.argmax().requiresGrad, false);
  });

  it('backward errors are clear', () => {
    assert.throws(() => f64([1, 2]).mul(2).backward(), /backward: a gradient must be given for a non-scalar tensor of 2 elements/);
    assert.throws(() => tensor([1]).backward(), /backward: tensor does not require grad and has no grad_fn/);
    assert.throws(() => f64([1, 2]).mul(2).backward(ones([3], { dtype: 'float64' })), /invalid gradient at index 0 - got \[3\] but expected shape compatible with \[2\]/);
    assert.throws(() => tensor([1], [1], { dtype: 'int64' }).requiresGrad_(), /Only Tensors of floating point and complex dtype can require gradients/);
  });
});

describe('noGrad / enableGrad / detach', () => {
  it('noGrad results do not require grad; the mode is restored', () => {
    const x = f64([1, 2]);
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return x.mul(2);
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(isGradEnabled(), true);
    assert.equal(x.mul(2).requiresGrad, true);
  });

  it('the mode is restored when the function throws', () => {
    assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(() => tensor([1, 2]).add(tensor([1, 2, 3]))), /must match the size/);
    assert.equal(isGradEnabled(), true);
  });

  it('nests with enableGrad', () => {
    const x = f64([1]);
    const [inner, outer] = noGrad(() => {
      const i = enableGrad(() => x.mul(2));
      assert.equal(isGradEnabled(), false);
      return [i, x.mul(2)];
    });
    assert.equal(inner!.requiresGrad, true);
    assert.equal(outer!.requiresGrad, false);
    assert.equal(isGradEnabled(), true);
  });

  it('detach cuts the graph but keeps the values', () => {
    const x = f64([1, 2]);
    const d = x.mul(3).detach();
    assert.equal(d.requiresGrad, false);
    assert.deepEqual(d.toArray(), [3, 6]);
    x.mul(d).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [3, 6]);         // d is a constant
  });

  it('straight-through estimator: rounded forward, identity backward', () => {
    const x = f64([0.2, 0.7, -1.4, 2.5]);
    const q = x.add(x.round().sub(x).detach());
    assert.deepEqual(q.toArray(), [0, 1, -1, 2]);
    q.mul(tensor([1, 2, 3, 4], [4], { dtype: 'float64' })).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [1, 2, 3, 4]);
    // plain round has a zero gradient: the reason for the estimator
    const z = f64([0.2, 0.7]);
    z.round().sum().backward();
    assert.deepEqual(z.grad!.toArray(), [0, 0]);
  });

  it('scalar leaves', () => {
    const s = scalar(3, { requiresGrad: true });
    s.mul(s).backward();
    assert.equal(s.grad!.item(), 6);
  });
});

describe('the test helpers can fail', () => {
  it('gradcheck rejects a wrong gradient (the estimator is not the true derivative of round)', () => {
    const x = leaf([0.2, 1.3], [2]);
    assert.throws(() => gradcheck((t) => t.add(t.round().sub(t).detach()), [x]), /gradcheck: input 0 element 0: autograd 0\.31\d*, finite difference 0 /);
    assert.throws(() => gradcheck((t) => t.mul(t.detach()), [x]), /gradcheck: input 0 element 0: autograd 0\.062\d*, finite difference 0\.124\d* /);
    gradcheck((t) => t.mul(t), [x]);
  });
  it('assertClose rejects a 1e-4 relative error at float32 tolerance, and shape differences', () => {
    assert.throws(() => assertClose([1.0001], [1], F32), /element 0 is 1\.0001, expected 1/);
    assertClose([1.000001], [1], F32);
    assert.throws(() => assertClose(tensor([1, 2]), { shape: [2, 1], data: [1, 2] }), /shape \[2\] differs from expected \[2,1\]/);
    assert.throws(() => assertClose([NaN], [1]), /element 0 is NaN/);
  });
});
