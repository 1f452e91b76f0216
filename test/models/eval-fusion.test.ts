// Eval-mode shortcuts (Conv2d+BatchNorm2d folding, in-place ReLU and residual sums) against the plain path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, manualSeed, memory, noGrad, rand, randn, tidy, type Tensor } from '../../src/tensor/index.js';
import { BatchNorm2d, Conv2d, ReLU, Sequential, setEvalFusion, type Module } from '../../src/nn/index.js';
import { resnet18, resnet50 } from '../../src/models/resnet.js';
import { mobilenetV2 } from '../../src/models/mobilenetv2.js';
import { CifarResNet } from '../../src/models/resnet-cifar.js';
import { attachCat } from '../../src/method/index.js';

/** Non-trivial BN statistics and affine parameters everywhere (fresh BNs fold to the identity). */
function randomizeBatchNorms(model: Module): void {
  noGrad(() => {
    for (const m of model.modules()) {
      if (!(m instanceof BatchNorm2d)) continue;
      const c = m.numFeatures;
      tidy(() => {
        m.buffer('running_mean').copy_(randn([c]).mul(0.5));
        m.buffer('running_var').copy_(rand([c]).add(0.2));
        m.weight!.copy_(rand([c]).add(0.5));
        m.bias!.copy_(randn([c]).mul(0.3));
      });
    }
  });
}

/** max |a − b| / max |b|. */
const relErr = (a: Tensor, b: Tensor): number => tidy(() => a.sub(b).abs().max().item() / b.abs().max().item());

function compare(model: Module, x: Tensor, fold = true): number {
  model.eval();
  return tidy(() => {
    const prev = setEvalFusion({ inPlace: false, foldBatchNorm: false });
    try {
      const plain = noGrad(() => model.forward(x) as Tensor);
      setEvalFusion({ inPlace: true, foldBatchNorm: fold });
      const fused = noGrad(() => model.forward(x) as Tensor);
      const err = relErr(fused, plain);
      return err;
    } finally { setEvalFusion(prev); }
  });
}

// Tolerance: folding reassociates one multiply per weight, so outputs move by float32 rounding (~1e-6
// relative per layer); 1e-4 of the output range leaves room for 50 layers and still catches a wrong formula.
const TOL = 1e-4;

test('conv+BN folding equals the unfolded pair (with and without conv bias, grouped), and ReLU runs in place only on fresh outputs', () => {
  manualSeed(1);
  const before = memory().numTensors;
  const prev = setEvalFusion({ foldBatchNorm: true });
  for (const [bias, groups] of [[false, 1], [true, 1], [false, 4]] as const) {
    const seq = new Sequential(new Conv2d(8, 16, 3, { padding: 1, bias, groups }), new BatchNorm2d(16), new ReLU());
    randomizeBatchNorms(seq);
    const x = randn([4, 8, 12, 12]);
    seq.eval();
    tidy(() => {
      const [conv, bn] = [seq.at<Conv2d>(0), seq.at<BatchNorm2d>(1)];
      // Independent reference: the ops written out.
      const ref = noGrad(() => F.batchNorm(F.conv2d(x, conv.weight, conv.bias, { padding: 1, groups }), {
        weight: bn.weight, bias: bn.bias, runningMean: bn.buffer('running_mean'), runningVar: bn.buffer('running_var'), training: false, momentum: 0, eps: bn.eps,
      }).relu());
      const fused = noGrad(() => seq.forward(x));
      const err = relErr(fused, ref);
      assert.ok(err < 1e-5, `bias ${bias}, groups ${groups}: ${err}`);
      assert.equal(x.min().item() < 0, true, 'the input was not clamped in place');
    });
    x.dispose();
    seq.dispose();
  }
  setEvalFusion(prev);
  assert.equal(memory().numTensors, before);
});

test('ResNet-18, ResNet-50 and MobileNetV2 in eval: fused equals plain within 1e-4 of the output range; training is untouched', () => {
  manualSeed(2);
  const x = randn([2, 3, 64, 64]);
  try {
    for (const build of [() => resnet18({ numClasses: 10 }), () => resnet50({ numClasses: 10 }), () => mobilenetV2({ numClasses: 10 })]) {
      const model = build().toChannelsLast();
      randomizeBatchNorms(model);
      const xc = x.toChannelsLast();
      const err = compare(model, xc);
      assert.ok(err < TOL, `${model.constructor.name}: ${err}`);
      // Training mode with grad: the plain path runs (BN batch statistics; grads flow).
      model.train();
      tidy(() => {
        const y = model.forward(xc);
        y.sum().backward();
        assert.ok(model.parameters().every((p) => p.grad !== null), 'every parameter got a gradient');
      });
      xc.dispose();
      model.dispose();
    }
  } finally { x.dispose(); }
});

test('a CAT model is never folded (its conv weights are quantized) and gives the same output with the shortcuts on', () => {
  manualSeed(3);
  const model = new CifarResNet({ depth: 8, inChannels: 1, numClasses: 10 });
  randomizeBatchNorms(model);
  attachCat(model, { defaults: { bits: 4 }, weights: { bits: 8 } });
  const x = randn([4, 1, 16, 16]);
  try { assert.equal(compare(model, x), 0, 'identical: only in-place sums and ReLUs, same values'); } finally { x.dispose(); model.dispose(); }
});

test('the default shortcuts (in place, no folding) give bit-identical outputs on ResNet-18 and MobileNetV2', () => {
  manualSeed(4);
  const x = randn([2, 3, 48, 48]);
  try {
    for (const model of [resnet18({ numClasses: 10 }), mobilenetV2({ numClasses: 10 })]) {
      randomizeBatchNorms(model);
      assert.equal(compare(model, x, false), 0, model.constructor.name);
      model.dispose();
    }
  } finally { x.dispose(); }
});
