// Convolution, pooling, normalisation and softmax: values and gradients (input, weight, bias)
// against python torch in float64 (and float32 for conv), plus finite differences and hand checks.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, ones, type Tensor } from '../../src/tensor/index.js';
import * as F from '../../src/tensor/functional.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F64 } from '../helpers/assert-close.js';
import { gradcheck, leaf } from '../helpers/gradcheck.js';
import { data, seq } from '../helpers/tensor-data.js';

const x = data([2, 4, 7, 6], { seed: 51 });
const w = data([6, 4, 3, 3], { lo: -0.5, hi: 0.5, seed: 52 });
const bias = data([6], { seed: 53 });
const wg = data([6, 2, 3, 3], { lo: -0.5, hi: 0.5, seed: 54 });
const wdw = data([8, 1, 3, 3], { lo: -0.5, hi: 0.5, seed: 55 });
const bnx = data([4, 3, 5, 5], { lo: -2, hi: 3, seed: 56 });
const bnw = data([3], { lo: 0.5, hi: 1.5, seed: 57 });
const bnb = data([3], { seed: 58 });
const lnx = data([2, 3, 4], { lo: -2, hi: 2, seed: 59 });
const lnw = data([3, 4], { lo: 0.5, hi: 1.5, seed: 60 });
const lnb = data([3, 4], { seed: 61 });
const sx = data([3, 5], { lo: -3, hi: 3, seed: 62 });
const F32C = { rtol: 1e-5, atol: 1e-5 }; // float32 convolution: sums of ~36 products, threads may reorder them

/**
 * Clones the float inputs as leaves, runs fn, backpropagates tanh(y).sum() (a non-uniform upstream
 * gradient both sides compute identically) and returns y and the inputs' gradients.
 */
function run(fn: (...xs: (Tensor | null)[]) => Tensor, ...args: (Tensor | null)[]): { y: Tensor; grads: Tensor[] } {
  const leaves = args.map((a) => (a === null ? null : a.clone().requiresGrad_()));
  const y = fn(...leaves);
  y.tanh().sum().backward();
  return { y, grads: leaves.flatMap((l) => (l === null ? [] : [l.grad!])) };
}
function check(key: string, r: { y: Tensor; grads: Tensor[] }, tol = F64): void {
  assertClose(r.y, ref[key]!, tol, `${key} value`);
  r.grads.forEach((g, i) => assertClose(g, ref[`${key}_g${i}`]!, tol, `${key} grad ${i}`));
}

let ref: Record<string, OracleArray>;
before(() => {
  ref = torchOracle(`
import torch.nn.functional as F
x, w, bias, wg, wdw, bnx, bnw, bnb, lnx, lnw, lnb, sx = (inp[k] for k in ['x', 'w', 'bias', 'wg', 'wdw', 'bnx', 'bnw', 'bnb', 'lnx', 'lnw', 'lnb', 'sx'])
def run(key, fn, *args):
    leaves = [a.clone().requires_grad_() if a is not None else None for a in args]
    y = fn(*leaves)
    y.tanh().sum().backward()
    out[key] = y
    for i, l in enumerate([l for l in leaves if l is not None]):
        out[key + '_g' + str(i)] = l.grad
run('conv_s2p1', lambda a, b, c: F.conv2d(a, b, c, stride=2, padding=1), x, w, bias)
run('conv_dil', lambda a, b: F.conv2d(a, b, None, stride=(1, 2), padding=(2, 1), dilation=2), x, w)
run('conv_g2', lambda a, b, c: F.conv2d(a, b, c, padding=1, groups=2), x, wg, bias)
run('conv_dw', lambda a, b: F.conv2d(a, b, None, padding=1, groups=4), x, wdw)
run('conv_cl', lambda a, b, c: F.conv2d(a.contiguous(memory_format=torch.channels_last), b, c, stride=2, padding=1), x, w, bias)
run('conv32', lambda a, b, c: F.conv2d(a, b, c, stride=2, padding=1), x.float(), w.float(), bias.float())
run('conv32_dw_cl', lambda a, b: F.conv2d(a.contiguous(memory_format=torch.channels_last), b, None, padding=1, groups=4), x.float(), wdw.float())
run('maxpool', lambda a: F.max_pool2d(a, 3, 2, 1), x)
run('maxpool_ceil', lambda a: F.max_pool2d(a, (2, 3), (2, 1), 0, ceil_mode=True), x)
run('maxpool_dil', lambda a: F.max_pool2d(a, 2, 1, 0, dilation=2), x)
run('avgpool_pad', lambda a: F.avg_pool2d(a, 3, 2, 1), x)
run('avgpool_nopad', lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False), x)
run('avgpool_ceil', lambda a: F.avg_pool2d(a, 2, ceil_mode=True), x)
run('adaptive32', lambda a: F.adaptive_avg_pool2d(a, (3, 2)), x)
run('adaptive1', lambda a: F.adaptive_avg_pool2d(a, 1), x)
rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
run('bn_train', lambda a, b, c: F.batch_norm(a, rm, rv, b, c, training=True, momentum=0.1, eps=1e-5), bnx, bnw, bnb)
out['bn_rm'] = rm; out['bn_rv'] = rv
rm2, rv2 = rm.clone(), rv.clone()
F.batch_norm(bnx * 2, rm2, rv2, None, None, training=True, momentum=0.3)
out['bn_rm2'] = rm2; out['bn_rv2'] = rv2
run('bn_eval', lambda a, b, c: F.batch_norm(a, rm, rv, b, c, training=False), bnx, bnw, bnb)
run('bn_2d', lambda a: F.batch_norm(a, None, None, None, None, training=True), sx)
run('ln', lambda a, b, c: F.layer_norm(a, [3, 4], b, c), lnx, lnw, lnb)
run('ln_last', lambda a: F.layer_norm(a, [4], eps=1e-3), lnx)
run('softmax1', lambda a: F.softmax(a, 1), sx)
run('softmax0', lambda a: F.softmax(a, 0), sx)
run('logsoftmax', lambda a: F.log_softmax(a, -1), sx)
`, { x, w, bias, wg, wdw, bnx, bnw, bnb, lnx, lnw, lnb, sx });
});

describe('conv2d', () => {
  it('stride and padding with bias: value and input/weight/bias grads vs torch', () => {
    check('conv_s2p1', run((a, b, c) => F.conv2d(a!, b!, c, { stride: 2, padding: 1 }), x, w, bias));
  });
  it('dilation with asymmetric stride and padding, no bias', () => {
    const r = run((a, b) => F.conv2d(a!, b!, null, { stride: [1, 2], padding: [2, 1], dilation: 2 }), x, w);
    assert.deepEqual([...r.y.shape], [2, 6, 7, 2]);
    check('conv_dil', r);
  });
  it('groups = 2', () => check('conv_g2', run((a, b, c) => F.conv2d(a!, b!, c, { padding: 1, groups: 2 }), x, wg, bias)));
  it('depthwise (groups = channels, multiplier 2)', () => check('conv_dw', run((a, b) => F.conv2d(a!, b!, null, { padding: 1, groups: 4 }), x, wdw)));
  it('channels-last input: same values and grads, channels-last output', () => {
    const r = run((a, b, c) => F.conv2d(a!.toChannelsLast(), b!, c, { stride: 2, padding: 1 }), x, w, bias);
    assert.ok(r.y.isContiguous('channelsLast'));
    check('conv_cl', r);
    check('conv_s2p1', r); // identical to the contiguous layout
  });
  it('float32, including depthwise on a channels-last input', () => {
    const r = run((a, b, c) => F.conv2d(a!, b!, c, { stride: 2, padding: 1 }), x.float(), w.float(), bias.float());
    assert.equal(r.y.dtype, 'float32');
    check('conv32', r, F32C);
    check('conv32_dw_cl', run((a, b) => F.conv2d(a!.toChannelsLast(), b!, null, { padding: 1, groups: 4 }), x.float(), wdw.float()), F32C);
  });
  it('hand-computed: 1x1 input sum kernel with padding', () => {
    const img = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    const k = ones([1, 1, 2, 2]);
    assert.deepEqual(F.conv2d(img, k).toArray(), [10]);
    assert.deepEqual(F.conv2d(img, k, tensor([0.5]), { padding: 1 }).toArray(), [1.5, 3.5, 2.5, 4.5, 10.5, 6.5, 3.5, 7.5, 4.5]);
  });
  it('gradients match finite differences', () => {
    const xi = leaf(seq(2 * 2 * 4 * 4, -1, 1, 70), [2, 2, 4, 4]);
    const wi = leaf(seq(4 * 1 * 3 * 3, -1, 1, 71), [4, 1, 3, 3]);
    const bi = leaf(seq(4, -1, 1, 72), [4]);
    gradcheck((a, b, c) => F.conv2d(a, b, c, { stride: 2, padding: 1, groups: 2 }), [xi, wi, bi]);
  });
});

describe('pooling', () => {
  it('maxPool2d: padding, ceil mode, dilation (value and grad vs torch)', () => {
    check('maxpool', run((a) => F.maxPool2d(a!, 3, { stride: 2, padding: 1 }), x));
    check('maxpool_ceil', run((a) => F.maxPool2d(a!, [2, 3], { stride: [2, 1], ceilMode: true }), x));
    check('maxpool_dil', run((a) => F.maxPool2d(a!, 2, { stride: 1, dilation: 2 }), x));
    assert.deepEqual(F.maxPool2d(tensor([1, 5, 2, 3, 0, 9, 4, 8, 7, 6, 1, 2, 3, 3, 5, 4], [1, 1, 4, 4]), 2).toArray(), [9, 8, 7, 5]);
  });
  it('avgPool2d: countIncludePad on and off, ceil mode', () => {
    check('avgpool_pad', run((a) => F.avgPool2d(a!, 3, { stride: 2, padding: 1 }), x));
    check('avgpool_nopad', run((a) => F.avgPool2d(a!, 3, { stride: 2, padding: 1, countIncludePad: false }), x));
    check('avgpool_ceil', run((a) => F.avgPool2d(a!, 2, { ceilMode: true }), x));
    assert.deepEqual(F.avgPool2d(tensor([1, 2, 3, 4], [1, 1, 2, 2]), 2).toArray(), [2.5]);
  });
  it('adaptiveAvgPool2d to non-divisible and global sizes', () => {
    const r = run((a) => F.adaptiveAvgPool2d(a!, [3, 2]), x);
    assert.deepEqual([...r.y.shape], [2, 4, 3, 2]);
    check('adaptive32', r);
    check('adaptive1', run((a) => F.adaptiveAvgPool2d(a!, 1), x));
  });
  it('pool gradients match finite differences', () => {
    const xi = leaf(seq(2 * 5 * 5, -1, 1, 80), [1, 2, 5, 5]);
    gradcheck((a) => F.maxPool2d(a, 2, { stride: 2, ceilMode: true }), [xi]);
    gradcheck((a) => F.avgPool2d(a, 3, { stride: 2, padding: 1, countIncludePad: false }), [xi]);
    gradcheck((a) => F.adaptiveAvgPool2d(a, [2, 3]), [xi]);
  });
});

describe('normalisation', () => {
  it('batchNorm training: batch statistics, running stats updated in place (vs torch and by hand)', () => {
    const rm = zeros([3], { dtype: 'float64' });
    const rv = ones([3], { dtype: 'float64' });
    const r = run((a, b, c) => F.batchNorm(a!, { weight: b, bias: c, runningMean: rm, runningVar: rv, training: true, momentum: 0.1 }), bnx, bnw, bnb);
    check('bn_train', r);
    assertClose(rm, ref.bn_rm!, F64, 'running mean');
    assertClose(rv, ref.bn_rv!, F64, 'running var');
    // by hand for channel 0: running = 0.9 * old + 0.1 * batch (unbiased variance)
    const c0 = bnx.select(1, 0);
    assertClose([rm.toArray()[0]!], [0.1 * c0.mean().item()], F64);
    assertClose([rv.toArray()[0]!], [0.9 + 0.1 * c0.var().item()], F64);
    // normalised output has zero mean and unit (biased) variance per channel before the affine map
    const plain = F.batchNorm(bnx, { training: true });
    assertClose(plain.mean([0, 2, 3]), [0, 0, 0], { atol: 1e-12, rtol: 0 });
    assertClose(plain.var([0, 2, 3], { unbiased: false }), [1, 1, 1], { rtol: 1e-4, atol: 0 }); // eps = 1e-5
  });
  it('batchNorm momentum and without affine parameters', () => {
    const rm = tensor(ref.bn_rm!.data, [3], { dtype: 'float64' });
    const rv = tensor(ref.bn_rv!.data, [3], { dtype: 'float64' });
    F.batchNorm(bnx.mul(2), { runningMean: rm, runningVar: rv, training: true, momentum: 0.3 });
    assertClose(rm, ref.bn_rm2!, F64);
    assertClose(rv, ref.bn_rv2!, F64);
    check('bn_2d', run((a) => F.batchNorm(a!, { training: true }), sx));
  });
  it('batchNorm eval uses the running stats and leaves them alone', () => {
    const rm = tensor(ref.bn_rm!.data, [3], { dtype: 'float64' });
    const rv = tensor(ref.bn_rv!.data, [3], { dtype: 'float64' });
    check('bn_eval', run((a, b, c) => F.batchNorm(a!, { weight: b, bias: c, runningMean: rm, runningVar: rv, training: false }), bnx, bnw, bnb));
    assertClose(rm, ref.bn_rm!, F64);
    const y = F.batchNorm(tensor([3], [1, 1], { dtype: 'float64' }), { runningMean: tensor([1], [1], { dtype: 'float64' }), runningVar: tensor([4], [1], { dtype: 'float64' }), training: false, eps: 0 });
    assert.deepEqual(y.toArray(), [1]); // (3 - 1) / sqrt(4)
    assert.throws(() => F.batchNorm(bnx, { training: false }), /batchNorm: eval mode needs runningMean and runningVar/);
    assert.throws(() => F.batchNorm(bnx, { training: true, weight: ones([4], { dtype: 'float64' }) }), /batchNorm: weight has shape \[4\], input has 3 channels/);
  });
  it('layerNorm with and without affine parameters', () => {
    check('ln', run((a, b, c) => F.layerNorm(a!, [3, 4], b, c), lnx, lnw, lnb));
    check('ln_last', run((a) => F.layerNorm(a!, [4], null, null, 1e-3), lnx));
    assert.throws(() => F.layerNorm(lnx, [3]), /layerNorm: input shape \[2, 3, 4\] does not end with normalized shape \[3\]/);
    gradcheck((a, b, c) => F.layerNorm(a, [3], b, c), [leaf(seq(6, -2, 2, 90), [2, 3]), leaf([1, 0.5, 2], [3]), leaf([0.1, 0, -0.3], [3])]);
  });
  it('batchNorm gradients match finite differences', () => {
    gradcheck((a, b, c) => F.batchNorm(a, { weight: b, bias: c, training: true }), [leaf(seq(12, -2, 2, 91), [4, 3]), leaf([1, 0.5, 2], [3]), leaf([0.1, 0, -0.3], [3])]);
  });
});

describe('softmax / logSoftmax', () => {
  it('values and grads along each dim vs torch', () => {
    check('softmax1', run((a) => F.softmax(a!, 1), sx));
    check('softmax0', run((a) => F.softmax(a!, 0), sx));
    check('logsoftmax', run((a) => F.logSoftmax(a!), sx));
    assertClose(F.softmax(sx).sum(-1), [1, 1, 1], F64);
  });
  it('is stable for large logits', () => {
    assert.deepEqual(F.softmax(tensor([1000, 0, -1000])).toArray(), [1, 0, 0]);
    const ls = F.logSoftmax(tensor([1000, 0], [2], { dtype: 'float64' })).toArray();
    assert.equal(ls[0], 0);
    assert.equal(ls[1], -1000);
  });
  it('gradients match finite differences', () => {
    const s = leaf(seq(8, -2, 2, 92), [2, 4]);
    gradcheck((a) => F.softmax(a, 1), [s]);
    gradcheck((a) => F.logSoftmax(a, 0), [s]);
  });
});
