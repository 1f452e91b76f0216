// NaN/Inf in training stops with a message that names where it came from, found from what the
// model takes and returns (no module is patched to find out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { full, manualSeed, noGrad, randn, tensor, tidy } from '../../src/tensor/index.js';
import { Conv2d, Linear, ReLU, Sequential, Flatten } from '../../src/nn/index.js';
import { attachCat } from '../../src/method/index.js';
import { locateNonFinite } from '../../src/train/nonfinite.js';

test('locateNonFinite names a poisoned parameter, a bad input, or a non-finite output', () => {
  manualSeed(0);
  const model = new Sequential(new Conv2d(1, 2, 3), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3));
  tidy(() => {
    const x = randn([2, 1, 6, 6]);
    assert.match(locateNonFinite(model, x, { output: model.forward(x) }), /output is finite \(the loss term itself overflowed\)/);
    assert.match(locateNonFinite(model, x.div(0)), /input batch holds NaN\/Inf/);
    // A huge conv weight overflows float32 in the first layer's output.
    noGrad(() => model.child<Conv2d>('0').weight.fill_(3e38));
    const big = x.abs().add(1);
    assert.match(locateNonFinite(model, big, { output: model.forward(big) }), /the model output holds NaN\/Inf/);
    noGrad(() => model.child<Linear>('3').weight.copy_(full([3, 32], NaN)));
    assert.match(locateNonFinite(model, x), /parameter '3.weight' holds NaN\/Inf/);
  });
  model.dispose();
});

test('on a CAT model it names the first site whose activations hold NaN/Inf, and leaves every module as it was', () => {
  manualSeed(1);
  const model = new Sequential(new Conv2d(1, 2, 3, { padding: 1, bias: false }), new ReLU(), new Conv2d(2, 2, 3, { padding: 1, bias: false }), new ReLU());
  const cat = attachCat(model, { defaults: { learnClip: false } }); // no clip to absorb the overflow
  tidy(() => {
    const x = randn([2, 1, 6, 6]).abs().add(1);
    assert.match(locateNonFinite(model, x, { output: model.forward(x), cat }), /output is finite/);
    // ±3e38 weights overflow the second conv to ±Inf: its site's grid spans 0 … Inf, so its codes are NaN; the first site stays finite.
    const w = tensor(Array.from({ length: 2 * 2 * 9 }, (_, i) => (i % 2 ? 3e38 : -3e38)), [2, 2, 3, 3]);
    noGrad(() => { model.child<Conv2d>('0').weight.fill_(1); model.child<Conv2d>('2').weight.copy_(w); });
    const before = model.modules().map((m) => Object.keys(m).sort().join());
    assert.match(locateNonFinite(model, x, { output: model.forward(x), cat }), /CAT site '3' are the first to hold NaN\/Inf/);
    assert.deepEqual(model.modules().map((m) => Object.keys(m).sort().join()), before, 'no property added to or left on a module');
  });
  model.dispose();
});
