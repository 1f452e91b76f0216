// The CAT API on a network built here from nn pieces only (no model zoo): a signed GELU site with a
// learned clip, quantized Linear weights, a few training steps checked against an independent
// PyTorch re-implementation of the reference's operations (float64), and hand-computed codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { F } from '../../src/tensor/index.js';
import { GELU, Identity, Linear, Module, Sequential } from '../../src/nn/index.js';
import { QuantLinear, attachCat, weightSoftEntropy } from '../../src/method/index.js';
import { torchOracle, maxRelError } from '../helpers/torch-oracle.js';

/** A scalar the oracle returned (0-d tensors come back as { shape: [], data: [v] }). */
const scalar = (v: unknown): number => (typeof v === 'number' ? v : (v as { data: number[] }).data[0]!);

class TinyNet extends Module {
  readonly fc1: Linear; readonly act: Module; readonly fc2: Linear;
  constructor() {
    super();
    this.fc1 = this.add('fc1', new Linear(6, 8));
    this.act = this.add('act', new GELU());
    this.fc2 = this.add('fc2', new Linear(8, 3));
  }
  forward(x: Tensor): Tensor { return this.fc2.forward(this.act.forward(this.fc1.forward(x))); }
}

// The reference's operations (paper.md §2.2–2.5), written independently in PyTorch: min/max
// quantization with a straight-through round, clamp to the learned clip, soft entropy of the sample.
const REFERENCE = `
import torch.nn.functional as F
def fq(t, bits):
    lo, hi = t.min().detach(), t.max().detach()
    s = (2 ** bits - 1) / (hi - lo)
    q = torch.round((t.detach() - lo) * s)
    return t + (q / s + lo - t).detach(), q
def soft_entropy(v, bits, T=10.0):
    lo, hi = v.min(), v.max()
    u = (v - lo) * (2 ** bits - 1) / (hi - lo)
    k = torch.arange(2 ** bits, dtype=v.dtype)
    p = torch.softmax(-T * (u[:, None] - k[None, :]) ** 2, dim=1).mean(0)
    p = p[p > 0]
    return -(p * torch.log2(p)).sum()
x, y = inp['x'], inp['y'].long()
P = [inp[k].clone().requires_grad_(True) for k in ['w1', 'b1', 'w2', 'b2', 'c']]
lam, lr = inp['lam'], inp['lr']
for step in range(int(inp['steps'])):
    w1, b1, w2, b2, c = P
    h = x @ fq(w1, 8)[0].T + b1
    g = F.gelu(h)
    ca = c.abs()
    g = torch.clamp(g, -ca, ca)
    H = soft_entropy(g.reshape(-1), 4)
    gq, codes = fq(g, 4)
    logits = gq @ fq(w2, 8)[0].T + b2
    loss = F.cross_entropy(logits, y) + lam * H
    grads = torch.autograd.grad(loss, P)
    if step == 0:
        out0, codes0, H0, loss0, grads0 = logits, codes, H, loss, grads
    with torch.no_grad():
        for p, gr in zip(P, grads):
            p -= lr * gr
out['out0'] = out0; out['codes0'] = codes0; out['H0'] = H0; out['loss0'] = loss0
for name, gr in zip(['w1', 'b1', 'w2', 'b2', 'c'], grads0):
    out['g_' + name] = gr
for name, p in zip(['w1', 'b1', 'w2', 'b2', 'c'], P):
    out['final_' + name] = p
out['H_last'] = H
`;

test('CAT on a hand-built net: GELU site (signed, learned clip) + quantized Linear weights match PyTorch over 3 SGD steps', () => {
  manualSeed(7);
  const model = new TinyNet().to('float64');
  const x = randn([4, 6], { dtype: 'float64' }).mul(2);
  const y = tensor([0, 2, 1, 2], [4], { dtype: 'int64' });
  const lam = 0.5, lr = 0.1, steps = 3;
  const floatKeys = tidy(() => [...model.stateDict().keys()]);
  const cat = attachCat(model, { sites: GELU, defaults: { bits: 4, sampling: { stride: 1, images: 4 } }, weights: { bits: 8, linear: true } });
  try {
    // Attaching renamed nothing: the float keys plus `act.clip`; the Linear layers are QuantLinear.
    assert.deepEqual(cat.sites.map((s) => [s.name, s.settings.signed]), [['act', true]]);
    assert.ok(model.fc1 instanceof QuantLinear && model.fc2 instanceof QuantLinear, 'fields follow the swap');
    assert.deepEqual(tidy(() => [...model.stateDict().keys()]), ['fc1.weight', 'fc1.bias', 'act.clip', 'fc2.weight', 'fc2.bias']);
    assert.deepEqual(cat.addedKeys, ['act.clip']);
    assert.deepEqual(floatKeys, ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    cat.sites[0]!.setClip(0.8); // below the largest GELU outputs: the clip gets a PACT gradient
    const init = tidy(() => Object.fromEntries(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'act.clip'].map((k) => [k, model.stateDict().get(k)!.clone()])));

    const ref = torchOracle(REFERENCE, {
      x, y: y.to('float64'), w1: init['fc1.weight']!, b1: init['fc1.bias']!, w2: init['fc2.weight']!, b2: init['fc2.bias']!, c: init['act.clip']!,
      lam, lr, steps,
    });
    const params: [string, Tensor][] = [['w1', model.fc1.weight], ['b1', model.fc1.bias!], ['w2', model.fc2.weight], ['b2', model.fc2.bias!], ['c', cat.sites[0]!.clip!]];
    model.train();
    let lastH = NaN;
    for (let step = 0; step < steps; step++) {
      tidy(() => {
        const { output, rate } = cat.forward(x);
        const H = cat.activationTerm(rate)!;
        const loss = F.crossEntropy(output, y).add(H.mul(lam));
        model.zeroGrad();
        loss.backward();
        if (step === 0) {
          assert.ok(maxRelError(output.toArray(), ref.out0.data) < 1e-10, 'output');
          assert.ok(Math.abs(H.item() - scalar(ref.H0)) < 1e-10, `soft entropy ${H.item()} vs ${scalar(ref.H0)}`);
          assert.ok(Math.abs(loss.item() - scalar(ref.loss0)) < 1e-10, 'loss');
          for (const [name, p] of params) {
            const err = maxRelError(p.grad!.toArray(), ref[`g_${name}`].data);
            assert.ok(err < 1e-12, `gradient of ${name}: relative error ${err}`);
          }
          assert.ok(Math.abs(params[4]![1].grad!.item()) > 1e-3, 'the clip receives a gradient (clamp + sample max)');
          // Evaluation-style codes through the same channel: identical to the reference's integer codes.
          const codes = cat.forward(x, { codes: true, terms: false }).rate.get('act')!.codes!;
          assert.deepEqual(codes.toArray(), ref.codes0.data);
        }
        lastH = H.item();
        noGrad(() => { for (const [, p] of params) p.sub_(p.grad!, lr); });
      });
    }
    for (const [name, p] of params) {
      const err = maxRelError(p.toArray(), ref[`final_${name}`].data);
      assert.ok(err < 1e-12, `${name} after ${steps} steps: relative error ${err}`);
    }
    assert.ok(Math.abs(lastH - scalar(ref.H_last)) < 1e-9);
    // The weight entropy term on all weights (fraction 1: no random subset) against the same formula.
    const wRef = torchOracle(`${REFERENCE.split('x, y =')[0]}\nout['h'] = soft_entropy(inp['w'].reshape(-1), 8)`, { w: model.fc1.weight.detach() });
    assert.ok(Math.abs(tidy(() => weightSoftEntropy(model.fc1.weight, { fraction: 1 }).item()) - scalar(wRef.h)) < 1e-9);
  } finally { x.dispose(); y.dispose(); model.dispose(); }
});

test('hand-computed: a signed Identity tap at 2 bits, its codes, STE gradient and soft entropy', () => {
  tidy(() => {
    const model = new Sequential(new Identity());
    const cat = attachCat(model, { sites: Identity, defaults: { bits: 2, learnClip: false, sampling: { stride: 1 } } });
    assert.equal(cat.sites[0]!.settings.signed, true);
    const x = tensor([-1, 0, 0.5, 1], [1, 4], { dtype: 'float64' }).requiresGrad_(true);
    model.train();
    const { output, rate } = cat.forward(x, { codes: true });
    // Range [−1, 1], 3 levels of 2/3: (v + 1)·1.5 = 0, 1.5, 2.25, 3 → round half to even → 0, 2, 2, 3.
    assert.deepEqual(rate.get('0')!.codes!.toArray(), [0, 2, 2, 3]);
    assert.deepEqual(output.toArray().map((v) => +v.toFixed(12)), [-1, 0.333333333333, 0.333333333333, 1]);
    // Soft entropy by hand (float64 JS): positions u = 0, 1.5, 2.25, 3 on the 4-bin grid, softmax(−10·d²).
    const u = [0, 1.5, 2.25, 3];
    const p = [0, 0, 0, 0];
    for (const v of u) {
      const w = [0, 1, 2, 3].map((k) => Math.exp(-10 * (v - k) ** 2));
      const z = w.reduce((a, b) => a + b, 0);
      w.forEach((wk, k) => { p[k]! += wk / z / u.length; });
    }
    const hand = -p.filter((q) => q > 0).reduce((a, q) => a + q * Math.log2(q), 0);
    assert.ok(Math.abs(rate.get('0')!.term!.item() - hand) < 1e-12, `${rate.get('0')!.term!.item()} vs ${hand}`);
    assert.equal(rate.get('0')!.numel, 4);
    // Straight-through: d(Σ w·output)/dx = w.
    output.mul(tensor([1, 2, 3, 4], [1, 4], { dtype: 'float64' })).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [1, 2, 3, 4]);
    model.dispose();
  });
});

test('a float checkpoint loads into the CAT model (only the clips are new); detach restores the float model', () => {
  manualSeed(3);
  const float = new TinyNet();
  const sd = float.stateDict();
  const model = new TinyNet();
  const cat = attachCat(model, { sites: [GELU], weights: { bits: 8, linear: true } });
  try {
    assert.throws(() => model.loadStateDict(sd), /missing keys \(1\): act\.clip/);
    model.loadStateDict(sd, { allowMissing: (k) => cat.addedKeys.includes(k) });
    const x = randn([2, 6]);
    const back = cat.detach();
    assert.ok(back.getSubmodule('act') instanceof GELU && !(back.getSubmodule('fc1') instanceof QuantLinear));
    assert.deepEqual(tidy(() => [...back.stateDict().keys()]), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    assert.deepEqual(tidy(() => back.forward(x).toArray()), tidy(() => float.forward(x).toArray()));
    x.dispose();
  } finally { for (const t of sd.values()) t.dispose(); float.dispose(); model.dispose(); }
});
