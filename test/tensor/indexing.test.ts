// Indexing, selection, sorting and counting: hand-computed cases, torch on random data, gradients.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, arange, type Tensor } from '../../src/tensor/index.js';
import { histc, bincount } from '../../src/tensor/functional.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F64 } from '../helpers/assert-close.js';
import { gradcheck, leaf } from '../helpers/gradcheck.js';
import { data, seq } from '../helpers/tensor-data.js';

const i64 = (v: number[] | number[][], shape?: number[]): Tensor => tensor(v, shape, { dtype: 'int64' });
const r = data([4, 6], { lo: -5, hi: 5, seed: 201 });
const h = data([200], { lo: -3, hi: 3, seed: 202 });
const counts = tensor(seq(50, 0, 9, 203).map(Math.floor), [50], { dtype: 'int64' });
const cwts = data([50], { lo: 0, hi: 1, seed: 204 });

let ref: Record<string, OracleArray>;
before(() => {
  ref = torchOracle(`
r, h, cwts = inp['r'], inp['h'], inp['cwts']
counts = inp['counts'].long()
out['topk'] = list(r.topk(3, 1)); out['topk_small0'] = list(r.topk(2, 0, largest=False))
out['sort'] = list(r.sort(1)); out['sort_desc0'] = list(r.sort(0, descending=True))
out['histc'] = torch.histc(h, 7, -2, 2.5); out['histc_auto'] = torch.histc(h, 10); out['histc32'] = torch.histc(h.float(), 13, -3, 3)
out['bincount'] = torch.bincount(counts); out['bincount_min'] = torch.bincount(counts, minlength=12); out['bincount_w'] = torch.bincount(counts, cwts)
rr = r.clone().requires_grad_()
y = rr.topk(3, 1).values.sum() + (rr.sort(0).values * torch.arange(4, dtype=torch.float64).reshape(4, 1)).sum()
y.backward(); out['sel_grad'] = rr.grad
`, { r, h, counts, cwts });
});

describe('gather / indexSelect / index / masks', () => {
  const x = arange(12).float().reshape([3, 4]);
  it('gather along each dim', () => {
    assert.deepEqual(x.gather(1, i64([[3, 0], [1, 1], [2, 0]])).toArray(), [3, 0, 5, 5, 10, 8]);
    assert.deepEqual(x.gather(0, i64([[2, 0, 1, 2]])).toArray(), [8, 1, 6, 11]);
    assert.throws(() => x.gather(1, i64([[4]])), /aten::gather: index 4 is out of bounds for dimension 1 with size 4/);
    assert.throws(() => x.gather(1, tensor([[1]], undefined, { dtype: 'int32' })), /gather\(\): Expected dtype int64 for index/);
  });
  it('indexSelect with repeats', () => {
    assert.deepEqual(x.indexSelect(0, i64([2, 0, 2])).toArray(), [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11]);
    assert.deepEqual(x.indexSelect(1, i64([3, 1])).toArray(), [3, 1, 7, 5, 11, 9]);
    assert.throws(() => x.indexSelect(0, i64([3])), /aten::index_select: index out of range in self/);
  });
  it('index: advanced indexing with tensors, skipping dims with null, bool masks', () => {
    assert.deepEqual(x.index([i64([0, 2]), i64([1, 3])]).toArray(), [1, 11]);
    assert.deepEqual(x.index([null, i64([3, 0])]).toArray(), [3, 0, 7, 4, 11, 8]);
    assert.deepEqual(x.index([i64([[0], [2]]), i64([1, 2])]).toArray(), [1, 2, 9, 10]); // broadcast index shapes
    assert.deepEqual(x.index([tensor([true, false, true])]).toArray(), [0, 1, 2, 3, 8, 9, 10, 11]);
    assert.throws(() => x.index([i64([3])]), /index 3 is out of bounds for dimension 0 with size 3/);
  });
  it('maskedFill and maskedSelect with broadcast masks', () => {
    const m = tensor([true, false, false, true]);
    assert.deepEqual(x.maskedFill(m, -1).toArray(), [-1, 1, 2, -1, -1, 5, 6, -1, -1, 9, 10, -1]);
    assert.deepEqual(x.maskedSelect(x.gt(8)).toArray(), [9, 10, 11]);
    assert.deepEqual(x.maskedSelect(m).toArray(), [0, 3, 4, 7, 8, 11]);
    assert.throws(() => x.maskedFill(tensor([1, 0, 0, 1]), 0), /maskedFill: mask must be a bool tensor, got float32/);
    assert.throws(() => x.maskedSelect(i64([1, 0, 0, 1])), /maskedSelect: mask must be a bool tensor, got int64/);
  });
  it('gradients scatter back to the selected positions', () => {
    const s = leaf(seq(12, -1, 1, 210), [3, 4]);
    gradcheck((t) => t.gather(1, i64([[3, 0, 3], [1, 1, 2], [2, 0, 0]])), [s]);
    gradcheck((t) => t.indexSelect(0, i64([2, 0, 2])), [s]);
    gradcheck((t) => t.index([i64([0, 2, 0]), i64([1, 3, 1])]), [s]);
    gradcheck((t) => t.maskedFill(t.gt(0), 0.5), [s]);
    gradcheck((t) => t.maskedSelect(t.lt(0)), [s]);
    const g = leaf([1, 2, 3, 4], [4]);
    g.indexSelect(0, i64([1, 1, 3])).sum().backward();
    assert.deepEqual(g.grad!.toArray(), [0, 2, 0, 1]);
  });
});

describe('topk / sort', () => {
  it('hand-computed', () => {
    const t = tensor([1, 5, 3, 2]);
    const k = t.topk(2);
    assert.deepEqual(k.values.toArray(), [5, 3]);
    assert.deepEqual(k.indices.toArray(), [1, 2]);
    assert.equal(k.indices.dtype, 'int64');
    assert.deepEqual(t.topk(2, -1, false).values.toArray(), [1, 2]);
    const s = t.sort();
    assert.deepEqual(s.values.toArray(), [1, 2, 3, 5]);
    assert.deepEqual(s.indices.toArray(), [0, 3, 2, 1]);
    assert.deepEqual(t.sort(0, true).values.toArray(), [5, 3, 2, 1]);
    assert.throws(() => t.topk(5), /aten::topk: selected index k out of range/);
  });
  it('along dims vs torch, with gradients', () => {
    const pairs: [string, { values: Tensor; indices: Tensor }][] = [
      ['topk', r.topk(3, 1)], ['topk_small0', r.topk(2, 0, false)], ['sort', r.sort(1)], ['sort_desc0', r.sort(0, true)],
    ];
    for (const [key, got] of pairs) {
      const [v, i] = ref[key] as unknown as OracleArray[];
      assertClose(got.values, v!, F64, `${key} values`);
      assert.deepEqual(got.indices.toArray(), i!.data, `${key} indices`);
    }
    const rr = r.clone().requiresGrad_();
    rr.topk(3, 1).values.sum().add(rr.sort(0).values.mul(arange(4).double().reshape([4, 1])).sum()).backward();
    assertClose(rr.grad!, ref.sel_grad!, F64);
  });
});

describe('histc / bincount', () => {
  it('histc: explicit and data ranges vs torch; hand-computed edges', () => {
    assertClose(histc(h, 7, -2, 2.5), ref.histc!, F64);
    assertClose(histc(h, 10), ref.histc_auto!, F64);
    assertClose(histc(h.float(), 13, -3, 3), ref.histc32!, F64);
    // the max edge goes into the last bin; values outside [min, max] are dropped
    assert.deepEqual(histc(tensor([0, 1, 1.5, 2, 2.5, -1]), 4, 0, 2).toArray(), [1, 0, 1, 2]);
    assert.equal(histc(h, 7, -2, 2.5).sum().item(), h.toArray().filter((v) => v >= -2 && v <= 2.5).length);
    assert.throws(() => histc(i64([1, 2])), /"histogram_cpu" not implemented for 'Long'/);
  });
  it('bincount: counts, minlength, weights vs torch; hand-computed', () => {
    assert.deepEqual(bincount(counts).toArray(), ref.bincount!.data);
    assert.deepEqual(bincount(counts, 12).toArray(), ref.bincount_min!.data);
    assertClose(bincount(counts, 0, cwts), ref.bincount_w!, F64);
    assert.deepEqual(bincount(i64([1, 2, 1, 5])).toArray(), [0, 2, 1, 0, 0, 1]);
    assert.equal(bincount(i64([1])).dtype, 'int64');
    assert.throws(() => bincount(i64([1, -1])), /bincount only supports 1-d non-negative integral inputs/);
    assert.throws(() => bincount(i64([[1]])), /bincount: input must be 1-D, got shape \[1, 1\]/);
    assert.throws(() => bincount(tensor([1.5])), /"bincount_cpu" not implemented for 'Float'/);
  });
});
