// Handle lifetimes: tidy, keep, nested scopes, dispose, and use-after-dispose errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, ones, zeros, tidy, keep, dispose, memory, type Tensor } from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';

const live = (): number => memory().numTensors;

describe('tidy', () => {
  it('disposes intermediates and keeps the result', () => {
    const x = ones([4]);
    const before = live();
    const y = tidy(() => x.add(1).mul(2).sub(3).exp().log().round());
    assert.equal(live(), before + 1);
    assert.equal(y.isDisposed, false);
    assert.equal(x.isDisposed, false);
    assert.deepEqual(y.toArray(), [1, 1, 1, 1]);
  });

  it('keeps every tensor reachable from an object or array result', () => {
    const before = live();
    const r = tidy(() => {
      const a = ones([2]);
      const b = a.add(1);
      const c = b.mul(2);
      c.exp();
      return { b, list: [c], nested: { pair: a.topk(1) }, n: 3 };
    });
    assert.equal(live(), before + 4);
    assert.deepEqual(r.b.toArray(), [2, 2]);
    assert.deepEqual(r.list[0]!.toArray(), [4, 4]);
    assert.deepEqual(r.nested.pair.values.toArray(), [1]);
    dispose(r);
    assert.equal(live(), before);
  });

  it('scope depth and non-tensor results', () => {
    assert.equal(memory().scopeDepth, 0);
    const before = live();
    const v = tidy(() => {
      assert.equal(memory().scopeDepth, 1);
      return ones([3]).sum().item();
    });
    assert.equal(v, 3);
    assert.equal(live(), before);
    assert.equal(memory().scopeDepth, 0);
  });

  it('keep() excludes a tensor from disposal', () => {
    const before = live();
    let kept!: Tensor;
    const y = tidy(() => {
      kept = keep(ones([2]).mul(5));
      ones([2]);
      return kept.add(1);
    });
    assert.equal(live(), before + 2);
    assert.deepEqual(kept.toArray(), [5, 5]);
    assert.deepEqual(y.toArray(), [6, 6]);
    kept.dispose();
    y.dispose();
    assert.equal(live(), before);
  });

  it('nested tidy: inner results move to the outer scope and die with it unless returned', () => {
    const before = live();
    let innerResult!: Tensor;
    let innerTemp!: Tensor;
    const outer = tidy(() => {
      innerResult = tidy(() => {
        innerTemp = ones([2]).add(1);
        return innerTemp.mul(3);
      });
      assert.equal(innerTemp.isDisposed, true);
      assert.equal(innerResult.isDisposed, false);
      assert.equal(memory().scopeDepth, 1);
      const unused = tidy(() => ones([2]).mul(7));
      assert.equal(unused.isDisposed, false);
      return innerResult.add(1);
    });
    assert.equal(innerResult.isDisposed, true);
    assert.deepEqual(outer.toArray(), [7, 7]);
    assert.equal(live(), before + 1);
  });

  it('disposes everything and rethrows when the function throws', () => {
    const before = live();
    assert.throws(() => tidy(() => { ones([3]).add(1); throw new Error('inside'); }), /inside/);
    assert.equal(live(), before);
    assert.equal(memory().scopeDepth, 0);
    assert.throws(() => tidy(() => ones([3]).add(ones([2]))), /must match the size/);
    assert.equal(live(), before);
  });

  it('rejects a Promise (async functions) and cleans up', async () => {
    const before = live();
    assert.throws(() => tidy(() => Promise.resolve(ones([2]))), /tidy: the function returned a Promise; tidy only takes synchronous functions/);
    assert.throws(() => tidy(async () => ones([2])), /returned a Promise/);
    await new Promise((r) => setImmediate(r));
    assert.equal(live(), before);
  });

  it('a long loop inside tidy does not grow the handle count', () => {
    const x = ones([16]);
    const before = live();
    for (let i = 0; i < 200; i++) tidy(() => x.mul(2).add(1).relu().sum().item());
    assert.equal(live(), before);
  });

  it('grad handles created in a scope are released; the grad itself stays', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    tidy(() => w.mul(w).sum().backward());
    const before = live();
    tidy(() => { assert.deepEqual(w.grad!.toArray(), [2, 4]); });
    assert.equal(live(), before);
    assert.deepEqual(w.grad!.toArray(), [2, 4]);
  });
});

describe('dispose', () => {
  it('disposes tensors nested in arrays, objects and maps', () => {
    const before = live();
    const a = ones([1]);
    const b = ones([1]);
    const c = ones([1]);
    const d = ones([1]);
    dispose({ x: [a, { y: b }], m: new Map([['k', c]]), s: 'text', n: null, arr: new Float32Array(2) });
    assert.ok(a.isDisposed && b.isDisposed && c.isDisposed);
    assert.equal(d.isDisposed, false);
    assert.equal(live(), before + 1);
    d.dispose();
    d.dispose(); // twice is harmless
    assert.equal(live(), before);
  });

  it('a disposed tensor refuses every use with "Tensor is disposed"', () => {
    const t = tensor([1, 2]);
    const u = tensor([3, 4]);
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.throws(() => t.add(1), /Tensor is disposed/);
    assert.throws(() => u.add(t), /Tensor is disposed/);
    assert.throws(() => t.toArray(), /Tensor is disposed/);
    assert.throws(() => t.item(), /Tensor is disposed/);
    assert.throws(() => t.dtype, /Tensor is disposed/);
    assert.throws(() => t.backward(), /Tensor is disposed/);
    assert.throws(() => u.copy_(t), /Tensor is disposed/);
    assert.equal(String(t), 'Tensor(disposed)');
    assert.deepEqual(u.toArray(), [3, 4]);
  });

  it('disposing a view leaves its base intact and vice versa', () => {
    const base = tensor([1, 2, 3, 4]);
    const view = base.reshape([2, 2]);
    view.dispose();
    assert.deepEqual(base.toArray(), [1, 2, 3, 4]);
    const v2 = base.narrow(0, 1, 2);
    base.dispose();
    assert.deepEqual(v2.toArray(), [2, 3]); // the view keeps the storage alive
  });
});

describe('native memory seen by the GC', () => {
  const MB = 1 << 20;

  it('memory().numBytes counts uniquely owned storage once', () => {
    const before = memory().numBytes;
    const t = zeros([MB / 4]); // 1 MiB of float32
    assert.equal(memory().numBytes, before + MB);
    const view = t.narrow(0, 0, 16);
    assert.equal(memory().numBytes, before + MB); // shares t's storage
    view.dispose();
    t.dispose();
    assert.equal(memory().numBytes, before);
  });

  it('tensors allocated and freed within a pass are not reported to V8 one by one', () => {
    const before = native.externalMemoryStats().reports;
    for (let i = 0; i < 20; i++) zeros([25 * MB]).dispose(); // 100 MB activations, freed at once
    assert.equal(native.externalMemoryStats().reports, before);
  });

  it('undisposed tensors are still collected under native memory pressure', async () => {
    const before = memory().numTensors;
    // 2 GiB of 32 MiB tensors dropped without dispose(): V8 must learn of them and let the leak guard free
    // them (it hears of them in 512 MiB steps, so about 16 stay alive at a time).
    for (let i = 0; i < 64; i++) {
      zeros([8 * MB]);
      await new Promise((r) => setImmediate(r));
    }
    const left = memory().numTensors - before;
    assert.ok(left < 32, `${left} of 64 leaked tensors still alive`);
  });
});
