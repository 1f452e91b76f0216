// Module mechanics: torchvision-style names, traversal, modes, ownership under tidy, in-place layout
// and dtype conversion, and strict state-dict loading with every problem listed in one error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, tidy, zeros, ones, randn, memory, dispose, manualSeed, F } from '../../src/tensor/index.js';
import {
  Module, Sequential, Conv2d, BatchNorm2d, ReLU, Linear, AdaptiveAvgPool2d, Flatten, StateDictError, type AnyModule,
} from '../../src/nn/index.js';

/** A torchvision-shaped block: conv1/bn1/act1/conv2/bn2/act2 plus an optional downsample Sequential. */
class Block extends Module {
  conv1: Conv2d; bn1: BatchNorm2d; act1: AnyModule; conv2: Conv2d; bn2: BatchNorm2d;
  constructor(inC: number, planes: number, stride = 1) {
    super();
    this.conv1 = this.add('conv1', new Conv2d(inC, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.add('bn1', new BatchNorm2d(planes));
    this.act1 = this.add('act1', new ReLU());
    this.conv2 = this.add('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.add('bn2', new BatchNorm2d(planes));
    if (stride !== 1 || inC !== planes) this.add('downsample', new Sequential(new Conv2d(inC, planes, 1, { stride, bias: false }), new BatchNorm2d(planes)));
  }
  forward(x: Tensor): Tensor {
    const y = this.bn2.forward(this.conv2.forward(this.act1.forward(this.bn1.forward(this.conv1.forward(x)))));
    const id = this.namedChildren().some(([n]) => n === 'downsample') ? this.child('downsample').forward(x) : x;
    return y.add(id).relu();
  }
}
class Net extends Module {
  constructor() {
    super();
    this.add('conv1', new Conv2d(3, 4, 3, { padding: 1, bias: false }));
    this.add('bn1', new BatchNorm2d(4));
    this.add('layer1', new Sequential(new Block(4, 4), new Block(4, 8, 2)));
    this.add('pool', new AdaptiveAvgPool2d(1));
    this.add('flat', new Flatten());
    this.add('fc', new Linear(8, 3));
  }
  forward(x: Tensor): Tensor {
    let y = this.child('bn1').forward(this.child('conv1').forward(x)).relu();
    for (const name of ['layer1', 'pool', 'flat', 'fc']) y = this.child(name).forward(y);
    return y;
  }
}

test('parameters, buffers and modules get torchvision dotted names in PyTorch order', () => {
  const net = new Net();
  const names = net.namedParameters().map(([n]) => n);
  assert.deepEqual(names.slice(0, 5), ['conv1.weight', 'bn1.weight', 'bn1.bias', 'layer1.0.conv1.weight', 'layer1.0.bn1.weight']);
  assert.ok(names.includes('layer1.1.downsample.0.weight') && names.includes('layer1.1.downsample.1.bias'));
  assert.deepEqual(names.slice(-2), ['fc.weight', 'fc.bias']);
  assert.ok(net.namedBuffers().some(([n]) => n === 'layer1.1.downsample.1.num_batches_tracked'));
  const sd = net.stateDict();
  const keys = [...sd.keys()];
  assert.deepEqual(keys.slice(0, 8), ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight', 'layer1.0.bn1.weight']);
  assert.equal(keys.length, net.namedParameters().length + net.namedBuffers().length);
  dispose(sd);
  assert.deepEqual(net.namedModules().slice(0, 4).map(([n]) => n), ['', 'conv1', 'bn1', 'layer1']);
  assert.deepEqual(net.namedChildren().map(([n]) => n), ['conv1', 'bn1', 'layer1', 'pool', 'flat', 'fc']);
  assert.equal(net.children().length, 6);
  assert.ok(net.getSubmodule('layer1.1.downsample.0') instanceof Conv2d);
  assert.throws(() => net.getSubmodule('layer1.7.conv1'), /no submodule 'layer1.7.conv1' \('7' not found\)/);
  // conv1 4·3·9, bn1 2·4, block0 (2·4·4·9 + 2·2·4), block1 (8·4·9 + 8·8·9 + 2·2·8 + downsample 8·4 + 2·8), fc 8·3 + 3
  const expected = 108 + 8 + (288 + 16) + (288 + 576 + 32 + 32 + 16) + 27;
  assert.equal(net.numParameters(), expected);
  net.dispose();
});

test('parameters are kept (survive tidy) and require grad; buffers do not', () => {
  const m = tidy(() => new Net());
  for (const p of m.parameters()) { assert.equal(p.isDisposed, false); assert.equal(p.requiresGrad, true); }
  for (const b of m.buffers()) { assert.equal(b.isDisposed, false); assert.equal(b.requiresGrad, false); }
  m.dispose();
});

test('a forward + backward inside tidy leaves memory().numTensors unchanged', () => {
  manualSeed(2);
  const net = new Net();
  const x = randn([2, 3, 8, 8]);
  const before = memory().numTensors;
  const loss = tidy(() => {
    const l = F.crossEntropy(net.forward(x), tensor([0, 2], [2], { dtype: 'int64' }));
    l.backward();
    return l.item();
  });
  assert.ok(Number.isFinite(loss));
  assert.equal(memory().numTensors, before);
  tidy(() => assert.ok(net.child<Linear>('fc').weight.grad !== null, 'backward reached the parameters'));
  net.zeroGrad();
  tidy(() => assert.equal(net.child<Linear>('fc').weight.grad, null));
  x.dispose(); net.dispose();
});

test('train()/eval() are recursive; apply() visits children before parents', () => {
  const net = new Net();
  net.eval();
  assert.ok(net.modules().every((m) => m.training === false));
  net.train();
  assert.ok(net.modules().every((m) => m.training === true));
  const order: string[] = [];
  net.getSubmodule('layer1.0').apply((m) => order.push(m.constructor.name));
  assert.deepEqual(order, ['Conv2d', 'BatchNorm2d', 'ReLU', 'Conv2d', 'BatchNorm2d', 'Block']);
  net.dispose();
});

test('replacing a parameter disposes the old tensor; names are validated', () => {
  class P extends Module { forward(x: Tensor): Tensor { return x; } }
  const m = new P();
  const a = m.registerParameter('w', zeros([2]));
  m.registerParameter('w', ones([2]));
  assert.equal(a.isDisposed, true);
  assert.deepEqual(m.param('w').toArray(), [1, 1]);
  assert.throws(() => m.registerBuffer('w', zeros([1])), /'w' is already registered as another kind/);
  assert.throws(() => m.registerParameter('a.b', zeros([1])), /name must be a non-empty string without '.'/);
  assert.throws(() => m.registerParameter('i', zeros([1], { dtype: 'int64' })), /parameter 'i' must be floating point, got int64/);
  assert.throws(() => m.param('nope'), /P has no parameter 'nope'/);
  m.dispose();
});

test('setSubmodule swaps a child by path and updates the parent field that held it', () => {
  const net = new Net();
  const block = net.getSubmodule<Block>('layer1.0');
  const oldAct = block.act1;
  class Clip extends Module { forward(x: Tensor): Tensor { return x.clamp(0, 1); } }
  const clip = new Clip();
  clip.registerParameter('clip', ones([]));
  assert.equal(net.setSubmodule('layer1.0.act1', clip), oldAct);
  assert.equal(block.act1, clip);
  assert.ok(net.namedParameters().some(([n]) => n === 'layer1.0.act1.clip'));
  net.dispose();
});

test('toChannelsLast() and to(float64) convert in place, keeping Tensor identity and values', () => {
  manualSeed(4);
  const net = new Net();
  const w = net.child<Conv2d>('conv1').weight;
  const before = w.toArray();
  net.toChannelsLast();
  assert.equal(net.child<Conv2d>('conv1').weight, w);
  assert.ok(w.isContiguous('channelsLast') && !w.isContiguous());
  assert.deepEqual(w.toArray(), before);
  net.to('float64');
  assert.equal(w.dtype, 'float64');
  assert.equal(net.child<BatchNorm2d>('bn1').buffer('num_batches_tracked').dtype, 'int64');
  assert.deepEqual(w.toArray(), before);
  assert.equal(w.requiresGrad, true);
  net.dispose();
});

test('stateDict returns detached views the caller disposes; loadStateDict copies in place', () => {
  manualSeed(5);
  const a = new Net(), b = new Net();
  const n0 = memory().numTensors;
  const sd = a.stateDict();
  assert.equal(memory().numTensors, n0 + sd.size);
  const w = sd.get('fc.weight')!;
  assert.equal(w.requiresGrad, false);
  assert.ok(w.sharesStorageWith(a.child<Linear>('fc').weight), 'a view, not a copy');
  const target = b.child<Linear>('fc').weight;
  const res = b.loadStateDict(sd);
  assert.deepEqual(res, { missing: [], unexpected: [] });
  assert.equal(b.child<Linear>('fc').weight, target, 'same tensor object after load');
  assert.deepEqual(target.toArray(), a.child<Linear>('fc').weight.toArray());
  assert.equal(target.sharesStorageWith(w), false, 'values copied, not aliased');
  dispose(sd);
  assert.equal(memory().numTensors, n0);
  a.dispose(); b.dispose();
});

test('loadStateDict lists every missing, unexpected and mis-shaped key in one StateDictError and changes nothing', () => {
  const net = new Net();
  const sd = net.stateDict();
  const before = net.child<Linear>('fc').weight.toArray();
  sd.delete('bn1.running_var');
  sd.delete('layer1.0.conv2.weight');
  sd.get('conv1.weight')!.dispose();
  sd.set('conv1.weight', zeros([4, 3, 7, 7]));
  sd.get('fc.weight')!.dispose();
  sd.set('fc.weight', ones([3, 8]).mul(7));                          // fine: would be copied if all else were
  sd.set('fc.extra', zeros([1]));
  sd.get('layer1.1.bn1.num_batches_tracked')!.dispose();
  sd.set('layer1.1.bn1.num_batches_tracked', zeros([]));             // float32, model has int64
  let err: unknown;
  try { net.loadStateDict(sd); } catch (e) { err = e; }
  assert.ok(err instanceof StateDictError, `expected StateDictError, got ${err}`);
  assert.equal(err.name, 'StateDictError');
  assert.deepEqual(err.missing, ['bn1.running_var', 'layer1.0.conv2.weight']);
  assert.deepEqual(err.unexpected, ['fc.extra']);
  assert.equal(err.mismatched.length, 2);
  assert.match(err.message, /Error\(s\) in loading state dict for Net:/);
  assert.match(err.message, /missing keys \(2\): bn1\.running_var, layer1\.0\.conv2\.weight/);
  assert.match(err.message, /unexpected keys \(1\): fc\.extra/);
  assert.match(err.message, /conv1\.weight: checkpoint \[4,3,7,7\] vs model \[4,3,3,3\]/);
  assert.match(err.message, /layer1\.1\.bn1\.num_batches_tracked: checkpoint dtype float32 vs model int64/);
  assert.deepEqual(net.child<Linear>('fc').weight.toArray(), before, 'nothing copied when the load fails');

  // Non-strict: missing/unexpected are returned, but mismatches still throw.
  assert.throws(() => net.loadStateDict(sd, { strict: false }), (e: unknown) => e instanceof StateDictError && e.missing.length === 0 && e.mismatched.length === 2);
  for (const k of ['conv1.weight', 'layer1.1.bn1.num_batches_tracked']) { sd.get(k)!.dispose(); sd.delete(k); }
  const res = net.loadStateDict(sd, { strict: false });
  assert.deepEqual(res.unexpected, ['fc.extra']);
  assert.deepEqual(res.missing, ['conv1.weight', 'bn1.running_var', 'layer1.0.conv2.weight', 'layer1.1.bn1.num_batches_tracked']);
  assert.deepEqual(net.child<Linear>('fc').weight.toArray(), new Array(24).fill(7));

  // Strict with allowMissing: only the allowed keys may be absent.
  sd.get('fc.extra')!.dispose(); sd.delete('fc.extra');
  const allowed = new Set(res.missing);
  assert.deepEqual(net.loadStateDict(sd, { allowMissing: (k) => allowed.has(k) }).unexpected, []);
  assert.throws(() => net.loadStateDict(sd, { allowMissing: (k) => k !== 'conv1.weight' }), /missing keys \(1\): conv1\.weight/);
  dispose(sd);
  net.dispose();
});

test('a disposed module or tensor throws on use instead of crashing', () => {
  const lin = new Linear(2, 2);
  const w = lin.weight;
  lin.dispose();
  lin.dispose(); // idempotent
  assert.equal(w.isDisposed, true);
  assert.throws(() => tidy(() => lin.forward(ones([1, 2]))), /Tensor is disposed/);
  assert.throws(() => w.toArray(), /Tensor is disposed/);
  const other = new Linear(2, 2);
  const sd = other.stateDict();
  sd.get('weight')!.dispose();
  assert.throws(() => other.loadStateDict(sd), /weight: checkpoint tensor is disposed/);
  dispose(sd); other.dispose();
});
