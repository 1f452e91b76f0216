// SGD / Adam / AdamW trajectories against python torch 1.13 (same float64 start and gradients,
// including a step where one parameter has no gradient), exact resume through a safetensors + JSON
// checkpoint, parameter groups, and leak checks. All torch work is ONE oracle call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, tidy, dispose, memory, zeros, manualSeed, F, keep } from '../../src/tensor/index.js';
import { Linear, Sequential, Conv2d, BatchNorm2d, Flatten, encodeSafetensors, decodeSafetensors } from '../../src/nn/index.js';
import { SGD, Adam, AdamW, Optimizer, paramGroupsNoDecay, type OptimizerStateDict } from '../../src/optim/index.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F64 } from '../helpers/assert-close.js';
import { data } from '../helpers/tensor-data.js';

const STEPS = 6;
const SKIP_P2_AT = 2; // p2 has no gradient at this step: it must be left alone (no state update either)
const inputs: Record<string, Tensor> = {
  p1: data([3, 4], { seed: 1 }),
  p2: data([4], { seed: 2 }),
  mlp_w: data([2, 4], { seed: 3 }), mlp_b: data([2], { seed: 4 }),
  mlp_x: data([8, 4], { seed: 5 }), mlp_t: data([8, 2], { seed: 6 }),
};
for (let k = 0; k < STEPS; k++) {
  inputs[`g1_${k}`] = data([3, 4], { seed: 10 + k, lo: -2, hi: 2 });
  inputs[`g2_${k}`] = data([4], { seed: 20 + k });
}

type Make = (params: Tensor[]) => Optimizer;
const CONFIGS: Record<string, { ours: Make; torch: string }> = {
  sgd: { ours: (p) => new SGD(p, { lr: 0.1 }), torch: 'torch.optim.SGD(p, lr=0.1)' },
  sgd_mom: { ours: (p) => new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), torch: 'torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)' },
  sgd_nesterov: { ours: (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }), torch: 'torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)' },
  sgd_groups: {
    ours: (p) => new SGD([{ params: [p[0]!] }, { params: [p[1]!], lr: 0.2, weightDecay: 0 }], { lr: 0.05, momentum: 0.9, weightDecay: 0.01 }),
    torch: "torch.optim.SGD([{'params': [p[0]]}, {'params': [p[1]], 'lr': 0.2, 'weight_decay': 0}], lr=0.05, momentum=0.9, weight_decay=0.01)",
  },
  sgd_max: { ours: (p) => new SGD(p, { lr: 0.1, momentum: 0.5, maximize: true }), torch: 'torch.optim.SGD(p, lr=0.1, momentum=0.5, maximize=True)' },
  adam: { ours: (p) => new Adam(p, { lr: 1e-2 }), torch: 'torch.optim.Adam(p, lr=1e-2)' },
  adam_wd_ams: { ours: (p) => new Adam(p, { lr: 2e-2, betas: [0.8, 0.9], weightDecay: 0.1, amsgrad: true }), torch: 'torch.optim.Adam(p, lr=2e-2, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)' },
  adamw: { ours: (p) => new AdamW(p, { lr: 1e-2, weightDecay: 0.1 }), torch: 'torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1)' },
  adamw_default_ams: { ours: (p) => new AdamW(p, { amsgrad: true, eps: 1e-6 }), torch: 'torch.optim.AdamW(p, amsgrad=True, eps=1e-6)' },
};

let ref: Record<string, OracleArray>;
const results: Record<string, Tensor> = {};

/** Runs STEPS updates with the fixed gradients (p2 skipped once); `from`/`to` allow split runs. */
function drive(opt: Optimizer, p1: Tensor, p2: Tensor, from = 0, to = STEPS): void {
  for (let k = from; k < to; k++) {
    p1.grad = inputs[`g1_${k}`]!;
    p2.grad = k === SKIP_P2_AT ? null : inputs[`g2_${k}`]!;
    opt.step();
  }
}
const fresh = (): [Tensor, Tensor] => [keep(inputs.p1!.clone()).requiresGrad_(true), keep(inputs.p2!.clone()).requiresGrad_(true)];

before(() => {
  for (const [name, c] of Object.entries(CONFIGS)) {
    const [p1, p2] = fresh();
    const opt = c.ours([p1, p2]);
    drive(opt, p1, p2);
    results[`${name}.p1`] = p1; results[`${name}.p2`] = p2;
    opt.dispose();
  }
  // A real model: Linear + MSE, gradients from autograd, Adam for 5 steps.
  const lin = new Linear(4, 2).to('float64');
  tidy(() => { lin.weight.detach().copy_(inputs.mlp_w!); lin.bias!.detach().copy_(inputs.mlp_b!); });
  const opt = new Adam(lin.parameters(), { lr: 0.05 });
  for (let k = 0; k < 5; k++) {
    tidy(() => { opt.zeroGrad(); F.mseLoss(lin.forward(inputs.mlp_x!), inputs.mlp_t!).backward(); opt.step(); });
  }
  results['mlp.w'] = lin.weight.clone(); results['mlp.b'] = lin.bias!.clone();
  lin.dispose(); opt.dispose();

  const torchRuns = Object.entries(CONFIGS).map(([name, c]) => `run(${JSON.stringify(name)}, lambda p: ${c.torch})`).join('\n');
  ref = torchOracle(`
def run(name, make):
    p1 = inp['p1'].clone().requires_grad_(True); p2 = inp['p2'].clone().requires_grad_(True)
    opt = make([p1, p2])
    for k in range(${STEPS}):
        p1.grad = inp['g1_%d' % k].clone()
        p2.grad = None if k == ${SKIP_P2_AT} else inp['g2_%d' % k].clone()
        opt.step()
    out[name + '.p1'] = p1; out[name + '.p2'] = p2
${torchRuns}
lin = torch.nn.Linear(4, 2).double()
with torch.no_grad(): lin.weight.copy_(inp['mlp_w']); lin.bias.copy_(inp['mlp_b'])
opt = torch.optim.Adam(lin.parameters(), lr=0.05)
for _ in range(5):
    opt.zero_grad(); torch.nn.functional.mse_loss(lin(inp['mlp_x']), inp['mlp_t']).backward(); opt.step()
out['mlp.w'] = lin.weight; out['mlp.b'] = lin.bias
`, inputs) as unknown as Record<string, OracleArray>;
});

after(() => { dispose(inputs); dispose(results); });

for (const name of Object.keys(CONFIGS)) {
  test(`${name}: ${STEPS}-step trajectory matches torch (${CONFIGS[name]!.torch})`, () => {
    assertClose(results[`${name}.p1`]!, ref[`${name}.p1`]!, F64, `${name} p1`);
    assertClose(results[`${name}.p2`]!, ref[`${name}.p2`]!, F64, `${name} p2`);
  });
}

test('Adam on a Linear layer with autograd gradients matches torch over 5 steps', () => {
  assertClose(results['mlp.w']!, ref['mlp.w']!, F64, 'weight');
  assertClose(results['mlp.b']!, ref['mlp.b']!, F64, 'bias');
});

/** The checkpoint path a trainer would take: tensors through safetensors bytes, scalars through JSON. */
function throughCheckpoint(sd: OptimizerStateDict): OptimizerStateDict {
  const bytes = encodeSafetensors(sd.tensors);
  dispose(sd.tensors);
  return { tensors: decodeSafetensors(bytes).tensors, scalars: JSON.parse(JSON.stringify(sd.scalars)) };
}

for (const name of ['sgd_mom', 'adam_wd_ams', 'adamw']) {
  test(`${name}: stopping after 3 steps and resuming from a checkpoint gives the uninterrupted result bit for bit`, () => {
    const [a1, a2] = fresh();
    const first = CONFIGS[name]!.ours([a1, a2]);
    drive(first, a1, a2, 0, 3);
    const sd = throughCheckpoint(first.stateDict());
    assert.ok(sd.tensors.size > 0);
    const [b1, b2] = fresh();
    tidy(() => { b1.detach().copy_(a1); b2.detach().copy_(a2); });
    const resumed = CONFIGS[name]!.ours([b1, b2]);
    resumed.loadStateDict(sd);
    dispose(sd.tensors);
    drive(resumed, b1, b2, 3, STEPS);
    assert.deepEqual(b1.toArray(), results[`${name}.p1`]!.toArray());
    assert.deepEqual(b2.toArray(), results[`${name}.p2`]!.toArray());
    for (const t of [a1, a2, b1, b2]) t.dispose();
    first.dispose(); resumed.dispose();
  });
}

test('stateDict layout: state.<index>.<name> tensors, step counts and group hyperparameters in JSON', () => {
  const [p1, p2] = fresh();
  const opt = new Adam([{ params: [p1] }, { params: [p2], lr: 0.5 }], { lr: 0.1 });
  drive(opt, p1, p2, 0, 3);
  const sd = opt.stateDict();
  assert.deepEqual([...sd.tensors.keys()].sort(), ['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.1.exp_avg', 'state.1.exp_avg_sq']);
  assert.deepEqual(sd.scalars.state, { 0: { step: 3 }, 1: { step: 2 } }); // p2 skipped once
  assert.deepEqual(sd.scalars.groups.map((g) => [g.lr, g.params]), [[0.1, [0]], [0.5, [1]]]);
  assert.deepEqual(sd.scalars.groups[0]!.betas, [0.9, 0.999]);
  // Mismatches are reported, nothing is changed.
  const other = new Adam([p1, p2]);
  assert.throws(() => other.loadStateDict(sd), /checkpoint has 2 parameter groups, optimizer has 1/);
  const wrong = new Adam([{ params: [p2] }, { params: [p1] }]);
  assert.throws(() => wrong.loadStateDict(sd), /state\.0\.exp_avg: checkpoint \[3,4\] vs parameter \[4\]/);
  dispose(sd.tensors);
  for (const o of [opt, other, wrong]) o.dispose();
  p1.dispose(); p2.dispose();
});

test('paramGroupsNoDecay: biases and norm weights skip weight decay (checked with zero gradients)', () => {
  manualSeed(1);
  const net = new Sequential(new Conv2d(2, 3, 1), new BatchNorm2d(3), new Flatten(), new Linear(3, 2));
  const [decay, noDecay] = paramGroupsNoDecay(net);
  const names = new Map(net.namedParameters().map(([n, p]) => [p, n]));
  assert.deepEqual(decay.params.map((p) => names.get(p)), ['0.weight', '3.weight']);
  assert.deepEqual(noDecay.params.map((p) => names.get(p)), ['0.bias', '1.weight', '1.bias', '3.bias']);
  const opt = new SGD([decay, noDecay], { lr: 0.5, weightDecay: 0.1 });
  const before = net.parameters().map((p) => p.toArray());
  tidy(() => { for (const p of net.parameters()) p.grad = zeros(p.shape); });
  opt.step();
  net.parameters().forEach((p, i) => {
    const factor = decay.params.includes(p) ? 1 - 0.5 * 0.1 : 1;
    assertClose(p.toArray(), before[i]!.map((v) => v * factor), { rtol: 1e-6, atol: 0 }, names.get(p));
  });
  const custom = paramGroupsNoDecay(net, (n) => n.startsWith('1.'));
  assert.equal(custom[1].params.length, 2);
  opt.dispose(); net.dispose();
});

test('step() creates state once and then leaks no tensors; zeroGrad drops or zeroes gradients', () => {
  const [p1, p2] = fresh();
  const opt = new AdamW([p1, p2], { amsgrad: true });
  drive(opt, p1, p2, 0, 1);
  const n = memory().numTensors;
  drive(opt, p1, p2, 1, STEPS);
  assert.equal(memory().numTensors, n);
  tidy(() => { p1.grad = inputs.g1_0!.clone(); }); // zeroing in place must not touch the shared inputs
  opt.zeroGrad({ setToNone: false });
  tidy(() => assert.deepEqual(p1.grad!.toArray(), new Array(12).fill(0)));
  opt.zeroGrad();
  tidy(() => assert.equal(p1.grad, null));
  opt.dispose(); p1.dispose(); p2.dispose();
});

test('constructor and option validation name the problem', () => {
  const p = keep(tensor([1, 2])).requiresGrad_(true);
  assert.throws(() => new SGD([], { lr: 0.1 }), /SGD: got an empty parameter list/);
  assert.throws(() => new SGD([p, p], { lr: 0.1 }), /appears in more than one group/);
  assert.throws(() => new SGD([p], { lr: -1 }), /lr must be a finite number >= 0, got -1/);
  assert.throws(() => new SGD([p], {} as { lr: number }), /lr must be a finite number >= 0, got NaN/);
  assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0 and dampening = 0/);
  assert.throws(() => new Adam([p], { betas: [0.9, 1] }), /Adam: betas must be two numbers in \[0, 1\)/);
  assert.throws(() => new AdamW([p], { eps: -1 }), /AdamW: invalid eps -1/);
  const d = tensor([1]);
  d.dispose();
  assert.throws(() => new SGD([d], { lr: 0.1 }), /parameter is disposed/);
  // undefined options fall back to defaults instead of erasing them
  const o = new AdamW([p], { weightDecay: undefined, lr: undefined });
  assert.equal(o.paramGroups[0]!.weightDecay, 1e-2);
  assert.equal(o.paramGroups[0]!.lr, 1e-3);
  p.dispose();
});
