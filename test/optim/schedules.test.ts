// Learning-rate schedules against torch.optim.lr_scheduler over 25 epochs with two parameter groups,
// plus resume from a JSON state. All torch work is ONE oracle call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keep, tensor, type Tensor } from '../../src/tensor/index.js';
import {
  SGD, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, LinearWarmup, type LRScheduler,
} from '../../src/optim/index.js';
import { torchOracle } from '../helpers/torch-oracle.js';

const EPOCHS = 25;
const params: Tensor[] = [keep(tensor([1, 2])).requiresGrad_(true), keep(tensor([3])).requiresGrad_(true)];
const newOptimizer = () => new SGD([{ params: [params[0]!] }, { params: [params[1]!], lr: 0.02 }], { lr: 0.1, momentum: 0.9 });

const CASES: Record<string, { ours: (o: SGD) => LRScheduler; torch: string }> = {
  step: { ours: (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 }), torch: 'S.StepLR(o, step_size=3, gamma=0.5)' },
  multistep: { ours: (o) => new MultiStepLR(o, { milestones: [8, 2, 5, 5], gamma: 0.1 }), torch: 'S.MultiStepLR(o, milestones=[8, 2, 5, 5], gamma=0.1)' },
  exponential: { ours: (o) => new ExponentialLR(o, { gamma: 0.9 }), torch: 'S.ExponentialLR(o, gamma=0.9)' },
  cosine: { ours: (o) => new CosineAnnealingLR(o, { tMax: 10, etaMin: 1e-3 }), torch: 'S.CosineAnnealingLR(o, T_max=10, eta_min=1e-3)' },
  lambda: { ours: (o) => new LambdaLR(o, [(e) => 1 / (e + 1), (e) => 0.95 ** e]), torch: 'S.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.95 ** e])' },
  warmup: {
    ours: (o) => new LinearWarmup(o, new CosineAnnealingLR(o, { tMax: 12 }), { warmupEpochs: 5, startFactor: 0.1 }),
    torch: 'S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=12)], milestones=[5])',
  },
};

let ref: Record<string, number[][]>;
const ours: Record<string, number[][]> = {};

/** lr of every group at epochs 0..EPOCHS (the optimizer steps before the schedule, as in PyTorch). */
function trace(make: (o: SGD) => LRScheduler): number[][] {
  const opt = newOptimizer();
  const s = make(opt);
  const lrs = [opt.paramGroups.map((g) => g.lr)];
  assert.deepEqual(s.lastLr, lrs[0]);
  for (let e = 0; e < EPOCHS; e++) { opt.step(); s.step(); lrs.push(opt.paramGroups.map((g) => g.lr)); }
  opt.dispose();
  return lrs;
}

before(() => {
  for (const [name, c] of Object.entries(CASES)) ours[name] = trace(c.ours);
  const runs = Object.entries(CASES).map(([name, c]) => `run(${JSON.stringify(name)}, lambda o: ${c.torch})`).join('\n');
  ref = torchOracle(`
import warnings
warnings.filterwarnings('ignore')
import torch.optim.lr_scheduler as S
def run(name, make):
    o = torch.optim.SGD([{'params': [torch.zeros(2, requires_grad=True)]}, {'params': [torch.zeros(1, requires_grad=True)], 'lr': 0.02}], lr=0.1, momentum=0.9)
    s = make(o)
    lrs = [[g['lr'] for g in o.param_groups]]
    for _ in range(${EPOCHS}):
        o.step(); s.step(); lrs.append([g['lr'] for g in o.param_groups])
    out[name] = lrs
${runs}
`) as unknown as Record<string, number[][]>;
});

after(() => { for (const p of params) p.dispose(); });

for (const name of Object.keys(CASES)) {
  test(`${name}: lr of both groups over ${EPOCHS} epochs matches torch (${CASES[name]!.torch})`, () => {
    const a = ours[name]!, b = ref[name]!;
    assert.equal(a.length, b.length);
    a.forEach((row, e) => row.forEach((lr, g) => {
      const want = b[e]![g]!;
      assert.ok(Math.abs(lr - want) <= 1e-12 + 1e-9 * Math.abs(want), `${name} epoch ${e} group ${g}: ${lr} vs torch ${want}`);
    }));
  });
}

test('a schedule resumed from its JSON state continues exactly where it stopped', () => {
  for (const name of ['cosine', 'warmup', 'multistep']) {
    const opt = newOptimizer();
    const s = CASES[name]!.ours(opt);
    for (let e = 0; e < 7; e++) s.step();
    const saved = JSON.parse(JSON.stringify({ sched: s.stateDict(), groups: opt.stateDict().scalars.groups }));
    const opt2 = newOptimizer();
    const s2 = CASES[name]!.ours(opt2);
    s2.loadStateDict(saved.sched);
    assert.equal(s2.lastEpoch, 7);
    const lrs: number[][] = [];
    for (let e = 7; e < 15; e++) { s2.step(); lrs.push(opt2.paramGroups.map((g) => g.lr)); }
    assert.deepEqual(lrs, ours[name]!.slice(8, 16), name);
    opt.dispose(); opt2.dispose();
  }
});

test('schedules validate their options', () => {
  const opt = newOptimizer();
  assert.throws(() => new StepLR(opt, { stepSize: 0 }), /StepLR: stepSize must be a positive integer, got 0/);
  assert.throws(() => new CosineAnnealingLR(opt, { tMax: 2.5 }), /tMax must be a positive integer/);
  assert.throws(() => new MultiStepLR(opt, { milestones: [-1] }), /milestones must be non-negative integers/);
  assert.throws(() => new LambdaLR(opt, [(e) => e]), /LambdaLR: got 1 functions for 2 parameter groups/);
  assert.throws(() => new LinearWarmup(opt, new StepLR(newOptimizer(), { stepSize: 1 }), { warmupEpochs: 2 }), /must drive the same optimizer/);
  assert.throws(() => new StepLR(opt, { stepSize: 2 }).loadStateDict({ lastEpoch: 1, baseLrs: [1] }), /expected \{ lastEpoch, baseLrs\[2\] \}/);
  opt.dispose();
});
