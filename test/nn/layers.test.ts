// Layers against python torch: forward values and gradients (float64), BatchNorm running statistics,
// channels-last convolution, and PyTorch-identical default initialisation from the same seed.
// All torch work happens in ONE oracle call (python startup is the slow part).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, tidy, noGrad, manualSeed, ones, dispose, type DType } from '../../src/tensor/index.js';
import {
  Conv2d, BatchNorm2d, Linear, LayerNorm, Embedding, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
  ReLU6, GELU, Dropout, Identity, Flatten, Sequential, type AnyModule,
} from '../../src/nn/index.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F64 } from '../helpers/assert-close.js';
import { data } from '../helpers/tensor-data.js';

type Out = OracleArray;
const inputs: Record<string, Tensor> = {};
const ours: Record<string, Tensor> = {};
let ref: Record<string, Out>;

/** Runs the module on x (float64) and records y, dL/dx and dL/dparam for L = Σ y·r; shares x, r and params with the oracle. */
function fwdBwd(tag: string, m: AnyModule, x: Tensor): void {
  const r = data(tidy(() => m.forward(x) as Tensor).shape, { seed: 99 });
  const recorded = tidy(() => {
    const xi = x.detach().clone().requiresGrad_(true); // clone keeps x's memory format
    const y = m.forward(xi) as Tensor;
    y.mul(r).sum().backward();
    const rec: Record<string, Tensor> = { [`${tag}.y`]: y.detach().clone(), [`${tag}.gx`]: xi.grad! };
    for (const [name, p] of m.namedParameters()) rec[`${tag}.g.${name}`] = p.grad!;
    return rec;
  });
  Object.assign(ours, recorded);
  inputs[`${tag}_x`] = x;
  inputs[`${tag}_r`] = r;
  for (const [name, p] of m.namedParameters()) inputs[`${tag}_${name}`] = p.detach().clone();
}

const f64 = <M extends AnyModule>(m: M): M => m.to('float64');

const ORACLE = `
import torch.nn.functional as F
def fb(tag, fn, x, params):
    x = x.clone().requires_grad_(True)
    ps = [p.clone().requires_grad_(True) for p in params]
    y = fn(x, *ps)
    r = inp[tag + '_r']
    (y * r).sum().backward()
    out[tag + '.y'] = y
    out[tag + '.gx'] = x.grad
    for i, p in enumerate(ps):
        out[tag + '.g' + str(i)] = p.grad

fb('conv', lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), inp['conv_x'], [inp['conv_weight'], inp['conv_bias']])
fb('dil', lambda x, w, b: F.conv2d(x, w, b, padding=(1, 2), dilation=(1, 2), groups=3), inp['dil_x'], [inp['dil_weight'], inp['dil_bias']])
fb('dw', lambda x, w: F.conv2d(x, w, None, padding=1, groups=4), inp['dw_x'], [inp['dw_weight']])
fb('cl', lambda x, w, b: F.conv2d(x.contiguous(memory_format=torch.channels_last), w, b, padding=1), inp['cl_x'], [inp['cl_weight'], inp['cl_bias']])
fb('lin', lambda x, w, b: F.linear(x, w, b), inp['lin_x'], [inp['lin_weight'], inp['lin_bias']])
fb('ln', lambda x, w, b: F.layer_norm(x, (4, 5), w, b, 1e-5), inp['ln_x'], [inp['ln_weight'], inp['ln_bias']])
fb('maxp', lambda x: F.max_pool2d(x, 3, stride=2, padding=1), inp['maxp_x'], [])
fb('avgp', lambda x: F.avg_pool2d(x, 2, stride=2, padding=1, count_include_pad=False), inp['avgp_x'], [])
fb('adap', lambda x: F.adaptive_avg_pool2d(x, (3, 2)), inp['adap_x'], [])
fb('gelu', lambda x: F.gelu(x), inp['gelu_x'], [])
fb('relu6', lambda x: F.relu6(x), inp['relu6_x'], [])

# Embedding: indices come as float64, the gradient flows into the weight only.
w = inp['emb_weight'].clone().requires_grad_(True)
y = F.embedding(inp['emb_idx'].long(), w, padding_idx=2)
(y * inp['emb_r']).sum().backward()
out['emb.y'] = y; out['emb.gw'] = w.grad

# BatchNorm2d: three training steps, then eval; momentum 0.1 and cumulative (None).
for tag, mom in (('bn', 0.1), ('bncum', None)):
    bn = torch.nn.BatchNorm2d(3, momentum=mom).double()
    with torch.no_grad():
        bn.weight.copy_(inp['bn_weight']); bn.bias.copy_(inp['bn_bias'])
    for k in range(3):
        x = inp['bn_x%d' % k].clone().requires_grad_(True)
        y = bn(x)
    (y * inp['bn_r']).sum().backward()
    out[tag + '.y'] = y; out[tag + '.gx'] = x.grad; out[tag + '.gw'] = bn.weight.grad; out[tag + '.gb'] = bn.bias.grad
    out[tag + '.mean'] = bn.running_mean; out[tag + '.var'] = bn.running_var; out[tag + '.n'] = bn.num_batches_tracked.item()
    bn.eval()
    out[tag + '.eval'] = bn(inp['bn_x0'])

# Default initialisation from the same seed (libtorch and python torch share the generator).
torch.manual_seed(0)
c = torch.nn.Conv2d(3, 4, 3)
l = torch.nn.Linear(5, 3)
e = torch.nn.Embedding(10, 4, padding_idx=2)
out['init.conv.w'] = c.weight; out['init.conv.b'] = c.bias; out['init.lin.w'] = l.weight; out['init.lin.b'] = l.bias; out['init.emb'] = e.weight
`;

before(() => {
  manualSeed(1);
  const run = (tag: string, m: AnyModule, shape: number[], seed: number, x = data(shape, { seed })) => { fwdBwd(tag, m, x); m.dispose(); };
  run('conv', f64(new Conv2d(3, 4, 3, { stride: 2, padding: 1 })), [2, 3, 7, 7], 1);
  run('dil', f64(new Conv2d(3, 6, 3, { padding: [1, 2], dilation: [1, 2], groups: 3 })), [2, 3, 6, 7], 2);
  run('dw', f64(new Conv2d(4, 4, 3, { padding: 1, groups: 4, bias: false })), [2, 4, 5, 5], 3);
  // Channels-last: module and input both NHWC; the result must stay NHWC and equal the NCHW math.
  const cl = f64(new Conv2d(3, 5, 3, { padding: 1 })).toChannelsLast();
  assert.ok(cl.weight.isContiguous('channelsLast'), 'toChannelsLast re-lays the weight out as NHWC');
  const clx = tidy(() => data([2, 3, 6, 6], { seed: 4 }).toChannelsLast());
  tidy(() => assert.ok(cl.forward(clx).isContiguous('channelsLast'), 'conv of NHWC input with NHWC weight gives NHWC output'));
  run('cl', cl, [], 0, clx);
  run('lin', f64(new Linear(4, 3)), [2, 5, 4], 5);
  const ln = f64(new LayerNorm([4, 5]));
  noGrad(() => tidy(() => { ln.weight!.copy_(data([4, 5], { seed: 6 })); ln.bias!.copy_(data([4, 5], { seed: 7 })); }));
  run('ln', ln, [3, 4, 5], 8);
  run('maxp', new MaxPool2d(3, { stride: 2, padding: 1 }), [2, 3, 7, 7], 9);
  run('avgp', new AvgPool2d(2, { stride: 2, padding: 1, countIncludePad: false }), [2, 3, 5, 5], 10);
  run('adap', new AdaptiveAvgPool2d([3, 2]), [2, 3, 7, 5], 11);
  run('gelu', new GELU(), [3, 7], 12);
  run('relu6', new ReLU6(), [3, 7], 13);

  // Embedding with a padding row.
  const emb = f64(new Embedding(10, 4, { paddingIdx: 2 }));
  const idx = tensor([1, 2, 9, 2, 1, 0], [2, 3], { dtype: 'int64' });
  inputs.emb_weight = emb.weight.detach().clone();
  inputs.emb_idx = idx.double();
  tidy(() => {
    const yy = emb.forward(idx);
    const r = data(yy.shape, { seed: 14 });
    inputs.emb_r = r.clone();
    yy.mul(r).sum().backward();
    ours['emb.y'] = yy.detach().clone(); ours['emb.gw'] = emb.weight.grad!;
    return [ours['emb.y'], ours['emb.gw'], inputs.emb_r];
  });
  idx.dispose(); emb.dispose();

  // BatchNorm: the same three training steps.
  for (const [tag, momentum] of [['bn', 0.1], ['bncum', null]] as const) {
    const bn = f64(new BatchNorm2d(3, { momentum }));
    noGrad(() => tidy(() => { bn.weight!.copy_(data([3], { seed: 20 })); bn.bias!.copy_(data([3], { seed: 21 })); }));
    inputs.bn_weight ??= bn.weight!.detach().clone();
    inputs.bn_bias ??= bn.bias!.detach().clone();
    for (let k = 0; k < 3; k++) inputs[`bn_x${k}`] ??= data([4, 3, 3, 2], { seed: 30 + k, lo: -2 + k, hi: 3 });
    inputs.bn_r ??= data([4, 3, 3, 2], { seed: 40 });
    tidy(() => {
      let x: Tensor | null = null, yy: Tensor | null = null;
      for (let k = 0; k < 3; k++) { x = inputs[`bn_x${k}`]!.detach().clone().requiresGrad_(true); yy = bn.forward(x); }
      yy!.mul(inputs.bn_r!).sum().backward();
      ours[`${tag}.y`] = yy!.detach().clone(); ours[`${tag}.gx`] = x!.grad!;
      ours[`${tag}.gw`] = bn.weight!.grad!; ours[`${tag}.gb`] = bn.bias!.grad!;
      ours[`${tag}.mean`] = bn.buffer('running_mean').clone(); ours[`${tag}.var`] = bn.buffer('running_var').clone();
      ours[`${tag}.n`] = bn.buffer('num_batches_tracked').clone();
      bn.eval();
      ours[`${tag}.eval`] = bn.forward(inputs.bn_x0!);
      return Object.entries(ours).filter(([k]) => k.startsWith(`${tag}.`)).map(([, v]) => v);
    });
    bn.dispose();
  }

  manualSeed(0);
  const c = new Conv2d(3, 4, 3), l = new Linear(5, 3), e = new Embedding(10, 4, { paddingIdx: 2 });
  Object.assign(ours, { 'init.conv.w': c.weight.clone(), 'init.conv.b': c.bias!.clone(), 'init.lin.w': l.weight.clone(), 'init.lin.b': l.bias!.clone(), 'init.emb': e.weight.clone() });
  for (const m of [c, l, e]) m.dispose();

  ref = torchOracle(ORACLE, inputs) as unknown as Record<string, Out>;
});

after(() => { dispose(inputs); dispose(ours); });

function compare(prefix: string, pairs: [string, string][]): void {
  for (const [mine, theirs] of pairs) {
    const a = ours[`${prefix}.${mine}`];
    assert.ok(a, `missing our ${prefix}.${mine}`);
    assertClose(a, ref[`${prefix}.${theirs}`]!, F64, `${prefix}.${mine}`);
  }
}
const fb = (tag: string, params: string[]) => compare(tag, [['y', 'y'], ['gx', 'gx'], ...params.map((p, i) => [`g.${p}`, `g${i}`] as [string, string])]);

test('Conv2d forward and backward match torch (stride/padding, dilation + groups, depthwise)', () => {
  fb('conv', ['weight', 'bias']);
  fb('dil', ['weight', 'bias']);
  fb('dw', ['weight']);
});

test('Conv2d after toChannelsLast on NHWC input matches torch', () => fb('cl', ['weight', 'bias']));
test('Linear on rank-3 input matches torch', () => fb('lin', ['weight', 'bias']));
test('LayerNorm over the last two dims matches torch', () => fb('ln', ['weight', 'bias']));
test('MaxPool2d, AvgPool2d (countIncludePad false), AdaptiveAvgPool2d match torch', () => { fb('maxp', []); fb('avgp', []); fb('adap', []); });
test('GELU and ReLU6 match torch', () => { fb('gelu', []); fb('relu6', []); });

test('Embedding with paddingIdx: values and a zero gradient row for padding', () => {
  compare('emb', [['y', 'y'], ['gw', 'gw']]);
  assert.deepEqual(ours['emb.gw']!.select(0, 2).toArray(), [0, 0, 0, 0]);
});

test('BatchNorm2d: 3 training steps (running stats, num_batches_tracked, grads) then eval match torch', () => {
  for (const tag of ['bn', 'bncum']) {
    compare(tag, [['y', 'y'], ['gx', 'gx'], ['gw', 'gw'], ['gb', 'gb'], ['mean', 'mean'], ['var', 'var'], ['eval', 'eval']]);
    assert.equal(ours[`${tag}.n`]!.dtype, 'int64');
    assert.equal(ours[`${tag}.n`]!.item(), 3);
    assert.equal(ref[`${tag}.n`] as unknown as number, 3);
  }
});

test('default init equals torch bit for bit from the same seed (kaiming a=√5, bias 1/√fanIn, embedding N(0,1))', () => {
  for (const k of ['init.conv.w', 'init.conv.b', 'init.lin.w', 'init.lin.b', 'init.emb']) {
    assert.deepEqual(ours[k]!.toArray(), ref[k]!.data, k);
  }
  assert.deepEqual(ours['init.emb']!.select(0, 2).toArray(), [0, 0, 0, 0], 'padding row starts at zero');
});

test('BatchNorm2d buffers and parameters are named and typed as PyTorch', () => {
  const bn = new BatchNorm2d(4);
  const sd = bn.stateDict();
  assert.deepEqual([...sd.keys()], ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  assert.deepEqual([...sd.values()].map((t) => t.dtype), ['float32', 'float32', 'float32', 'float32', 'int64'] as DType[]);
  dispose(sd);
  // An eval forward leaves the counter alone.
  bn.eval();
  tidy(() => bn.forward(ones([2, 4, 2, 2])));
  assert.equal(bn.buffer('num_batches_tracked').item(), 0);
  assert.throws(() => tidy(() => bn.forward(ones([2, 4]))), /BatchNorm2d: expected input \[N, C, H, W\]/);
  bn.dispose();
});

test('Dropout: zeroes about p of the elements and scales the rest by 1/(1-p) in training; identity in eval', () => {
  manualSeed(3);
  const d = new Dropout(0.25);
  tidy(() => {
    const y = d.forward(ones([20000])).toArray();
    const zeros = y.filter((v) => v === 0).length / y.length;
    assert.ok(Math.abs(zeros - 0.25) < 0.02, `zero fraction ${zeros}`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
    d.eval();
    assert.deepEqual(d.forward(ones([5])).toArray(), [1, 1, 1, 1, 1]);
  });
  assert.throws(() => new Dropout(1.5), /Dropout: p must be in \[0, 1\]/);
});

test('Sequential names children 0,1,… and supports add, at, length and iteration', () => {
  const s = new Sequential(new Linear(4, 3), new ReLU6());
  s.add(new Flatten());
  s.add('head', new Identity());
  assert.equal(s.length, 4);
  assert.deepEqual(s.namedChildren().map(([n]) => n), ['0', '1', '2', 'head']);
  assert.ok(s.at(0) instanceof Linear);
  assert.ok(s.at(-1) instanceof Identity);
  assert.throws(() => s.at(4), /index 4 out of range for 4 modules/);
  assert.deepEqual([...s].map((m) => m.constructor.name), ['Linear', 'ReLU6', 'Flatten', 'Identity']);
  assert.deepEqual(s.namedParameters().map(([n]) => n), ['0.weight', '0.bias']);
  tidy(() => assert.deepEqual([...s.forward(ones([2, 4])).shape], [2, 3]));
  s.dispose();
});

test('layer constructors reject bad arguments with the layer and argument named', () => {
  assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), /Conv2d: inChannels \(3\) and outChannels \(4\) must be divisible by groups \(2\)/);
  assert.throws(() => new Conv2d(3, 4, 0), /Conv2d: kernelSize must be an integer >= 1/);
  assert.throws(() => new Linear(0, 4), /Linear: inFeatures must be a positive integer, got 0/);
  assert.throws(() => new Embedding(5, 2, { paddingIdx: 5 }), /Embedding: paddingIdx must be an integer in \[-5, 5\)/);
  const e = new Embedding(5, 2, { paddingIdx: -1 });
  assert.equal(e.paddingIdx, 4);
  e.dispose();
});
