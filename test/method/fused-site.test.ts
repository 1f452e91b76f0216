// The fused CAT site op (native catkit::cat_site) against the composite of ATen ops it replaces
// (bit for bit: values, codes, histograms, input gradients; the clip's gradient to rounding) and
// against the reference's ReLUProj written in PyTorch (torch oracle, float64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, full, manualSeed, randint, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { fusedSite, sampleIndex, useFusedSites, type FusedActivation, type FusedClip } from '../../src/method/fused-site.js';
import { fakeQuantizeDynamicComposite, fakeQuantizeToRange } from '../../src/method/quantize.js';
import { sampleActivations, softEntropy, softEntropyOfSample } from '../../src/method/soft-entropy.js';
import { attachCat } from '../../src/method/index.js';
import { CifarResNet } from '../../src/models/resnet-cifar.js';
import { torchOracle } from '../helpers/torch-oracle.js';
import { assertClose } from '../helpers/assert-close.js';

/**
 * Count of elements that differ: every bit, except that −0 equals +0 (with a zero clip the clamp
 * yields zeros of both signs and min/max may return either; codes and values are equal numbers).
 */
function bitDiffs(a: Tensor, b: Tensor): number {
  assert.deepEqual([...a.shape], [...b.shape]);
  const x = a.dataSync(), y = b.dataSync();
  let n = 0;
  for (let i = 0; i < x.length; i++) if (!(x[i] === y[i] || Object.is(x[i], y[i]))) n++;
  return n;
}

interface Case { activation: FusedActivation; clipMode: FusedClip; range: 'tensor' | 'clip'; bits: number; quantize: boolean }

/** What QuantSite's composite path computes (ATen ops): activation, clamp by |c|, quantize. */
function composite(x: Tensor, clip: Tensor | null, o: Case): { value: Tensor; codes: Tensor | null } {
  let y = o.activation === 'relu' ? x.relu() : o.activation === 'relu6' ? x.relu6() : x;
  const c = clip?.abs() ?? null;
  if (c) y = o.clipMode === 'symmetric' ? y.clamp(c.neg(), c) : y.clamp(null, c);
  if (!o.quantize) return { value: y, codes: null };
  if (o.range === 'clip') return fakeQuantizeToRange(y, o.bits, o.clipMode === 'symmetric' ? c!.neg() : null, c!, { codes: true });
  return fakeQuantizeDynamicComposite(y, o.bits, { codes: true });
}

/** Activations with values exactly at 0, ±c and 6 among random ones, in both layouts. */
function inputs(dtype: 'float32' | 'float64', c: number): Tensor[] {
  const x = randn([4, 6, 5, 7], { dtype }).mul(2);
  const flat = x.reshape([-1]);
  for (const [i, v] of [[0, 0], [1, Math.abs(c)], [2, -Math.abs(c)], [3, 6], [4, -0], [5, 1e-30]] as const) flat.narrow(0, i * 37, 1).fill_(v);
  return [x, x.toChannelsLast()];
}

test('forward: values, codes and histograms are bit-identical to the composite (activations, clip modes, ranges, bits 1–16, layouts, dtypes)', () => {
  manualSeed(3);
  let cases = 0;
  for (const dtype of ['float32', 'float64'] as const) {
    for (const clipValue of [0.7, -1.3, 0, null]) {
      tidy(() => {
        for (const x of inputs(dtype, clipValue ?? 1)) {
          const clip = clipValue === null ? null : full([], clipValue, { dtype });
          const clipModes: FusedClip[] = clip ? ['upper', 'symmetric'] : ['none'];
          for (const activation of ['relu', 'relu6', 'none'] as const) for (const clipMode of clipModes) {
            for (const range of clip && clipValue !== 0 ? ['tensor', 'clip'] as const : ['tensor'] as const) {
              for (const bits of [1, 2, 3, 4, 5, 6, 7, 8, 16]) {
                tidy(() => {
                  const o: Case = { activation, clipMode, range, bits, quantize: true };
                  const what = `${dtype} ${x.isContiguous() ? 'contiguous' : 'channels-last'} ${activation} ${clipMode} ${range} clip ${clipValue} ${bits} bits`;
                  const ref = composite(x, clip, o);
                  const got = fusedSite(x, { ...o, clip, codes: true, histogram: true });
                  assert.equal(bitDiffs(got.value, ref.value), 0, `value: ${what}`);
                  assert.equal(bitDiffs(got.codes!, ref.codes!), 0, `codes: ${what}`);
                  assert.deepEqual(got.histogram!.toArray(), F.bincount(ref.codes!.reshape([-1]).to('int64'), 1 << bits).toArray(), `histogram: ${what}`);
                  assert.equal(got.value.isContiguous(), x.isContiguous(), 'the output keeps the input layout');
                  cases++;
                });
              }
            }
            tidy(() => {  // gradual mode: activation and clip only
              const o: Case = { activation, clipMode, range: 'tensor', bits: 4, quantize: false };
              assert.equal(bitDiffs(fusedSite(x, { ...o, clip }).value, composite(x, clip, o).value), 0);
            });
          }
        }
      });
    }
  }
  assert.ok(cases > 1000, `${cases} cases`);
});

test('backward: the input gradient is bit-identical to the composite, with the entropy sample joining it; the clip gradient agrees to rounding', () => {
  manualSeed(4);
  for (const dtype of ['float32', 'float64'] as const) {
    for (const clipValue of [0.5, -1.5, 0]) {
      for (const [activation, clipMode] of [['relu', 'upper'], ['none', 'symmetric'], ['relu6', 'upper']] as const) {
        for (const layout of ['contiguous', 'channelsLast'] as const) {
          tidy(() => {
            const x0 = randn([6, 16, 8, 8], { dtype }).contiguous(layout);
            const w = randn([6, 16, 8, 8], { dtype });
            const run = (fused: boolean) => tidy(() => {
              const x = x0.detach().requiresGrad_(true);
              const clip = full([], clipValue, { dtype }).requiresGrad_(true);
              let value: Tensor, term: Tensor;
              if (fused) {
                const r = fusedSite(x, { activation, clip, clipMode, range: 'tensor', bits: 4, quantize: true, sampleIndex: sampleIndex(x.shape) });
                value = r.value;
                term = softEntropyOfSample(r.sample!, { bits: 4, temperature: 10 });
              } else {
                const y = composite(x, clip, { activation, clipMode, range: 'tensor', bits: 4, quantize: false }).value;
                term = softEntropy(y, { bits: 4, temperature: 10 });
                value = fakeQuantizeDynamicComposite(y, 4).value;
              }
              value.mul(w).sum().add(term.mul(3)).backward();
              return { value: value.detach(), term: term.item(), gx: x.grad!, gc: clip.grad?.item() ?? 0 };
            });
            const a = run(true), b = run(false);
            const what = `${dtype} ${activation}/${clipMode} clip ${clipValue} ${layout}`;
            assert.equal(bitDiffs(a.value, b.value), 0, `value: ${what}`);
            assert.equal(a.term, b.term, `term: ${what}`);
            assert.equal(bitDiffs(a.gx, b.gx), 0, `input gradient: ${what}`);
            assert.ok(Math.abs(a.gc - b.gc) <= 1e-5 * Math.max(1, Math.abs(b.gc)), `clip gradient ${a.gc} vs ${b.gc}: ${what}`);
            if (clipValue === 0) assert.equal(a.gc, 0, 'a zero clip has a zero gradient (|c| at 0)');
          });
        }
      }
    }
  }
});

test('against the reference ReLUProj in PyTorch: relu(x) − relu(x − |c|), min/max quantization with a straight-through round, PACT gradient', () => {
  manualSeed(5);
  tidy(() => {
    const x = randn([3, 4, 6, 6], { dtype: 'float64' }).mul(1.5);
    x.reshape([-1]).narrow(0, 7, 1).fill_(1.1); // exactly at the clip
    const w = randn([3, 4, 6, 6], { dtype: 'float64' });
    const want = torchOracle(`
x = inp['x'].clone().requires_grad_(True); c = torch.tensor(-1.1, dtype=torch.float64, requires_grad=True)
class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v): return torch.round(v)
    @staticmethod
    def backward(ctx, g): return g
y = torch.relu(x) - torch.relu(x - c.abs())
lo, hi = y.min().detach(), y.max().detach()
s = (2 ** 4 - 1) / (hi - lo)
q = RoundSTE.apply((y - lo) * s)
v = q / s + lo
(v * inp['w']).sum().backward()
out['value'] = v; out['codes'] = q; out['gx'] = x.grad; out['gc'] = c.grad
`, { x, w });
    const xg = x.detach().requiresGrad_(true);
    const clip = tensor([-1.1], [], { dtype: 'float64' }).requiresGrad_(true);
    const r = fusedSite(xg, { activation: 'relu', clip, clipMode: 'upper', range: 'tensor', bits: 4, quantize: true, codes: true });
    r.value.mul(w).sum().backward();
    assertClose(r.value, want.value, { rtol: 1e-12, atol: 1e-12 }, 'value');
    assert.deepEqual(r.codes!.toArray(), want.codes.data, 'codes');
    // The reference's round trip through ·s and /s rounds its straight-through gradient (~1 ulp).
    assertClose(xg.grad!, want.gx, { rtol: 1e-14, atol: 0 }, 'input gradient: 1 on (0, |c|], 0 elsewhere');
    assert.ok(xg.grad!.toArray().every((g, i) => (g === 0) === (want.gx.data[i] === 0)), 'the same elements pass');
    assertClose([clip.grad!.item()], want.gc, { rtol: 1e-12, atol: 1e-12 }, 'clip gradient: −Σ g above |c| (c < 0)');
  });
});

test('NaN activations stay NaN (the loss check sees them); a histogram of NaN codes is refused; bad arguments are refused', () => {
  tidy(() => {
    const x = tensor([0.5, NaN, -1, 2]);
    const clip = full([], 1);
    const r = fusedSite(x, { activation: 'relu', clip, clipMode: 'upper', range: 'tensor', bits: 4, quantize: true });
    assert.ok(r.value.toArray().every((v) => Number.isNaN(v)), 'the composite turns the whole tensor NaN (its min/max are NaN)');
    assert.throws(() => fusedSite(x, { activation: 'relu', clip, clipMode: 'upper', range: 'tensor', bits: 4, quantize: true, histogram: true }), /NaN or Inf/);
    assert.throws(() => fusedSite(x, { activation: 'relu', clip: null, clipMode: 'upper', range: 'tensor', bits: 4, quantize: true }), /clip/);
    assert.throws(() => fusedSite(x, { activation: 'relu', clip, clipMode: 'upper', range: 'tensor', bits: 17, quantize: true }), /1 to 16/);
    assert.throws(() => fusedSite(x.to('int64'), { activation: 'relu', clip, clipMode: 'upper', range: 'tensor', bits: 4, quantize: true }), /float32 or float64/);
  });
});

test('sampleIndex picks the elements sampleActivations picks, in its order (strided images, ranks 2–4, layouts, random subsets)', () => {
  tidy(() => {
    for (const [shape, sampling] of [[[3, 5, 8, 6], {}], [[3, 5, 8, 6], { images: 2, stride: 3 }], [[4, 33], { stride: 4 }], [[2, 7, 9], { images: 2 }]] as const) {
      const y = randn([...shape]);
      for (const t of shape.length === 4 ? [y, y.toChannelsLast()] : [y]) {
        const r = fusedSite(t, { activation: 'none', clip: null, clipMode: 'none', range: 'tensor', bits: 4, quantize: false, sampleIndex: sampleIndex(t.shape, sampling) });
        assert.deepEqual(r.sample!.toArray(), sampleActivations(t, sampling).toArray(), `shape [${shape}] ${JSON.stringify(sampling)}`);
      }
    }
    const y = randn([4, 3, 5, 5]);
    manualSeed(9);
    const viaIndex = fusedSite(y, { activation: 'none', clip: null, clipMode: 'none', range: 'tensor', bits: 4, quantize: false, sampleIndex: sampleIndex(y.shape, { randomValues: 50 }) }).sample!;
    manualSeed(9);
    assert.deepEqual(viaIndex.toArray(), sampleActivations(y, { randomValues: 50 }).toArray(), 'the same random stream');
  });
});

test('a CAT ResNet: fused and composite sites give the same loss, codes, histograms and gradients (clips to rounding)', () => {
  const run = (fused: boolean) => {
    const was = useFusedSites(fused);
    manualSeed(6);
    const model = new CifarResNet({ depth: 8, inChannels: 3, numClasses: 10 });
    try {
      const cat = attachCat(model, { defaults: { bits: 4 }, at: [{ pattern: 'layer2.*', range: 'clip' }], weights: { bits: 8 } });
      model.toChannelsLast();
      return tidy(() => {
        const x = randn([4, 3, 16, 16]).toChannelsLast(), y = randint(0, 10, [4]);
        cat.calibrateSync([x]);
        model.train();
        const { output, rate } = cat.forward(x, { codes: true, histogram: true });
        const loss = F.crossEntropy(output, y).add(rate.weightedMean()!.mul(0.1));
        loss.backward();
        const grads = model.namedParameters().map(([name, p]) => [name, p.grad!.clone()] as const);
        const codes = rate.sites.map((s) => s.codes!.clone()), hist = rate.sites.map((s) => s.histogram!.toArray());
        model.zeroGrad();
        return { loss: loss.item(), terms: rate.values().map((v) => v.value), grads, codes, hist };
      });
    } finally { model.dispose(); useFusedSites(was); }
  };
  tidy(() => {
    const a = run(true), b = run(false);
    assert.equal(a.loss, b.loss, 'loss');
    assert.deepEqual(a.terms, b.terms, 'entropy terms');
    assert.deepEqual(a.hist, b.hist, 'histograms');
    a.codes.forEach((c, i) => assert.equal(bitDiffs(c, b.codes[i]!), 0, `codes of site ${i}`));
    for (const [i, [name, g]] of a.grads.entries()) {
      if (name.endsWith('.clip')) assertClose(g, b.grads[i]![1], { rtol: 1e-4, atol: 1e-7 }, name);
      else assert.equal(bitDiffs(g, b.grads[i]![1]), 0, `gradient of ${name}`);
    }
  });
});

test('a histogram of the first n images counts exactly the codes of those images (both layouts)', () => {
  manualSeed(7);
  tidy(() => {
    const x = randn([5, 3, 4, 6]);
    for (const t of [x, x.toChannelsLast(), x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]), x.transpose(0, 1).contiguous().transpose(0, 1)]) {
      for (const rows of [0, 1, 2, 5, 9]) {
        const r = fusedSite(t, { activation: 'relu', clip: full([], 1.2), clipMode: 'upper', range: 'tensor', bits: 3, quantize: true, codes: true, histogram: true, histogramRows: rows });
        const first = rows > 0 && rows < 5 ? r.codes!.narrow(0, 0, rows) : r.codes!;
        assert.deepEqual(r.histogram!.toArray(), F.bincount(first.reshape([-1]).to('int64'), 8).toArray(), `rows ${rows}, strides [${t.strides}]`);
      }
    }
  });
});
