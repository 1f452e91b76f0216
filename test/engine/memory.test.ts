// Long training loops must not leak native memory: 10 000 SGD steps of a small MLP inside tidy,
// with resident memory and live tensor handles sampled along the way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, keep, manualSeed, memory, noGrad, randint, randn, tidy } from '../../src/tensor/index.js';

test('10 000 training steps keep resident memory and live tensors flat', (t) => {
  manualSeed(0);
  const params = [randn([32, 64]).mul(0.1), randn([32]).mul(0), randn([10, 32]).mul(0.1), randn([10]).mul(0)]
    .map((p) => keep(p).requiresGrad_(true));
  const x = keep(randn([64, 64]));
  const y = keep(randint(0, 10, [64]));
  const rssMb = () => process.memoryUsage().rss / 2 ** 20;
  const samples: { step: number; rss: number; tensors: number }[] = [];
  let firstLoss = 0, lastLoss = 0;
  for (let step = 1; step <= 10_000; step++) {
    const loss = tidy(() => {
      const h = F.linear(x, params[0]!, params[1]!).relu();
      const l = F.crossEntropy(F.linear(h, params[2]!, params[3]!), y);
      l.backward();
      noGrad(() => {
        for (const p of params) { const g = p.grad!; p.sub_(g, 0.05); p.grad = null; }
      });
      return l.item();
    });
    if (step === 1) firstLoss = loss;
    lastLoss = loss;
    if (step % 1000 === 0) samples.push({ step, rss: rssMb(), tensors: memory().numTensors });
  }
  t.diagnostic(`rss MB by step: ${samples.map((s) => `${s.step}:${s.rss.toFixed(1)}`).join(' ')}`);
  t.diagnostic(`live tensors by step: ${samples.map((s) => s.tensors).join(' ')}; loss ${firstLoss.toFixed(3)} -> ${lastLoss.toFixed(4)}`);
  assert.ok(lastLoss < firstLoss / 10, `the net must actually train (loss ${firstLoss} -> ${lastLoss})`);
  const tensors = new Set(samples.map((s) => s.tensors));
  assert.equal(tensors.size, 1, 'live tensor count must not change between samples');
  const growth = samples[samples.length - 1]!.rss - samples[0]!.rss;
  assert.ok(growth < 16, `resident memory grew ${growth.toFixed(1)} MB between step 1000 and 10000`);
  for (const p of [...params, x, y]) p.dispose();
});
