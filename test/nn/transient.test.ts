// Sequential frees intermediates between transient modules as soon as they are consumed, and never
// touches a tensor a non-transient module handed out (it may be that module's own state).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memory, noGrad, ones, randn, tidy, type Tensor } from '../../src/tensor/index.js';
import { BatchNorm2d, Conv2d, Identity, Module, ReLU, Sequential, isTransient } from '../../src/nn/index.js';
import { resnet18 } from '../../src/models/resnet.js';
import { mobilenetV2 } from '../../src/models/mobilenetv2.js';

/** Counts live handles when it runs: how many intermediates the chain still holds. */
class Probe extends Module {
  seen = -1;
  forward(x: Tensor): Tensor { this.seen = memory().numTensors; return x.mul(1); }
}

/** Hands out its own buffer (not transient): a chain must not dispose it. */
class Constant extends Module {
  readonly value = ones([1, 2, 4, 4]);
  forward(): Tensor { return this.value; }
}

describe('transient chains', () => {
  it('a Sequential of plain layers disposes each intermediate once consumed; the result matches', () => {
    const layers = (): Module[] => [new Conv2d(2, 2, 3, { padding: 1 }), new BatchNorm2d(2), new ReLU(), new Identity(), new Conv2d(2, 2, 1)];
    const mods = layers();
    const probe = new Probe();
    const seq = new Sequential(...mods, probe);
    assert.equal(isTransient(seq), false); // Probe is not registered
    const x = randn([1, 2, 4, 4]);
    tidy(() => {
      const before = memory().numTensors;
      const y = seq.forward(x);
      // At the probe only the last conv's output is alive (conv, bn, relu outputs freed); y adds one.
      assert.equal(probe.seen - before, 1);
      // Same numbers as calling the layers one by one.
      let z = x;
      for (const m of mods) z = m.forward(z) as Tensor;
      assert.deepEqual(y.toArray(), z.mul(1).toArray());
    });
    x.dispose();
  });

  it('a non-transient module\'s output is never disposed by the chain', () => {
    const c = new Constant();
    const seq = new Sequential(c, new ReLU(), new Conv2d(2, 2, 1));
    noGrad(() => tidy(() => { seq.forward(ones([1, 2, 4, 4])); }));
    assert.equal(c.value.isDisposed, false);
    assert.deepEqual(c.value.sum().item(), 32);
  });

  it('ResNet and MobileNetV2 blocks are transient until a site is replaced by a foreign module', () => {
    const r = resnet18({ numClasses: 10 });
    const layer1 = r.child('layer1');
    assert.equal(isTransient(layer1), true);
    assert.equal(isTransient(mobilenetV2({ numClasses: 10 }).child('features')), true);
    r.setSubmodule('layer1.0.relu1', new Probe());
    assert.equal(isTransient(layer1), false);
  });
});
