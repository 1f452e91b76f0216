// NaN/Inf in training stops with a message that names where it came from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { full, manualSeed, noGrad, randn, tidy } from '../../src/tensor/index.js';
import { Conv2d, Linear, ReLU, Sequential, Flatten } from '../../src/nn/index.js';
import { locateNonFinite } from '../../src/train/nonfinite.js';

test('locateNonFinite names a poisoned parameter, a bad input, or the first layer producing Inf', () => {
  manualSeed(0);
  const model = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3));
  tidy(() => {
    const x = randn([2, 1, 6, 6]);
    assert.match(locateNonFinite(model, x), /no module output is non-finite/);
    assert.match(locateNonFinite(model, x.div(0)), /input batch holds NaN\/Inf/);
    // A huge conv weight overflows float32 in the first layer's output.
    noGrad(() => model.child<Conv2d>('0').weight.fill_(3e38));
    assert.match(locateNonFinite(model, x.abs().add(1)), /output of layer '0' \(Conv2d\) is the first to hold NaN\/Inf/);
    noGrad(() => model.child<Linear>('3').weight.copy_(full([3, 32], NaN)));
    assert.match(locateNonFinite(model, x), /parameter '3.weight' holds NaN\/Inf/);
  });
  model.dispose();
});
