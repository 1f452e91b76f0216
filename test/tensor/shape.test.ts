// Shape and layout operators against index arithmetic written out in JS.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, arange, zeros, cat, stack, noGrad, type Tensor } from '../../src/tensor/index.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** Row-major strides of a shape. */
const stridesOf = (shape: readonly number[]): number[] => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
/** Reference permute: element at output index i reads input index i permuted back. */
function permuteRef(data: number[], shape: number[], dims: number[]): number[] {
  const outShape = dims.map((d) => shape[d]!);
  const inStrides = stridesOf(shape);
  const out: number[] = [];
  const n = data.length;
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let src = 0;
    for (let k = 0; k < outShape.length; k++) {
      const size = outShape.slice(k + 1).reduce((a, b) => a * b, 1);
      const idx = Math.floor(rem / size);
      rem %= size;
      src += idx * inStrides[dims[k]!]!;
    }
    out.push(data[src]!);
  }
  return out;
}
const f32 = (shape: number[]): Tensor => arange(shape.reduce((a, b) => a * b, 1)).float().reshape(shape);

describe('reshape / view / flatten', () => {
  it('reshape keeps row-major order and shares storage when contiguous', () => {
    const x = f32([2, 3, 4]);
    const y = x.reshape([4, -1]);
    assert.deepEqual([...y.shape], [4, 6]);
    assert.deepEqual(y.toArray(), range(24));
    assert.ok(y.sharesStorageWith(x));
    const v = x.view([6, 4]);
    assert.deepEqual(v.strides, [4, 1]);
    assert.ok(v.sharesStorageWith(x));
    assert.deepEqual([...x.flatten(1).shape], [2, 12]);
    assert.deepEqual([...x.flatten().shape], [24]);
  });

  it('reshape of a transposed tensor copies in logical order; view refuses', () => {
    const t = f32([2, 3]).T;
    const r = t.reshape([6]);
    assert.deepEqual(r.toArray(), [0, 3, 1, 4, 2, 5]);
    assert.ok(!r.sharesStorageWith(t));
    assert.throws(() => t.view([6]), /view size is not compatible with input tensor's size and stride/);
    assert.throws(() => f32([6]).reshape([4]), /shape '\[4\]' is invalid for input of size 6/);
  });
});

describe('permute / transpose / contiguous', () => {
  it('permute matches the index-arithmetic reference', () => {
    const x = f32([2, 3, 4]);
    for (const dims of [[2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0]]) {
      const p = x.permute(dims);
      assert.deepEqual([...p.shape], dims.map((d) => [2, 3, 4][d]));
      assert.deepEqual(p.toArray(), permuteRef(range(24), [2, 3, 4], dims), `permute ${dims}`);
      assert.ok(p.sharesStorageWith(x));
    }
    assert.throws(() => x.permute([0, 1]), /permute: dims \[0, 1\] are not a permutation of the 3 dims of shape \[2, 3, 4\]/);
    assert.throws(() => x.permute([0, 1, 1]), /not a permutation/);
    assert.deepEqual(x.permute([-1, 0, 1]).toArray(), permuteRef(range(24), [2, 3, 4], [2, 0, 1]));
  });

  it('transpose and T swap two dims as views with swapped strides', () => {
    const x = f32([2, 3, 4]);
    const t = x.transpose(0, 2);
    assert.deepEqual([...t.shape], [4, 3, 2]);
    assert.deepEqual(t.strides, [1, 4, 12]);
    assert.deepEqual(t.toArray(), permuteRef(range(24), [2, 3, 4], [2, 1, 0]));
    assert.deepEqual(x.transpose(-1, -2).toArray(), permuteRef(range(24), [2, 3, 4], [0, 2, 1]));
    assert.deepEqual(f32([2, 3]).T.toArray(), [0, 3, 1, 4, 2, 5]);
  });

  it('contiguous makes a row-major copy of a permuted view', () => {
    const p = f32([2, 3, 4]).permute([2, 0, 1]);
    assert.equal(p.isContiguous(), false);
    const c = p.contiguous();
    assert.equal(c.isContiguous(), true);
    assert.deepEqual(c.strides, stridesOf([4, 2, 3]));
    assert.deepEqual(c.toArray(), p.toArray());
    assert.ok(!c.sharesStorageWith(p));
    const already = f32([3, 3]);
    assert.ok(already.contiguous().sharesStorageWith(already));
  });

  it('channels-last: NHWC strides, values unchanged, round trip back', () => {
    const x = f32([2, 3, 4, 5]);
    const cl = x.toChannelsLast();
    assert.deepEqual([...cl.shape], [2, 3, 4, 5]);
    assert.deepEqual(cl.strides, [60, 1, 15, 3]);
    assert.equal(cl.isContiguous('channelsLast'), true);
    assert.equal(cl.isContiguous(), false);
    assert.deepEqual(cl.toArray(), range(120));
    const back = cl.contiguous();
    assert.deepEqual(back.strides, [60, 20, 5, 1]);
    assert.deepEqual(back.toArray(), range(120));
    // clone and elementwise ops preserve the layout (what conv layers rely on)
    assert.deepEqual(cl.clone().strides, [60, 1, 15, 3]);
    assert.deepEqual(cl.mul(2).strides, [60, 1, 15, 3]);
    assert.deepEqual(cl.mul(2).toArray(), range(120).map((v) => 2 * v));
    assert.equal(cl.isContiguous('preserve'), false);
  });
});

describe('narrow / slice / select / chunk / split', () => {
  it('narrow, slice with step and negative indices, select', () => {
    const x = f32([4, 5]);
    assert.deepEqual(x.narrow(1, 1, 3).toArray(), [1, 2, 3, 6, 7, 8, 11, 12, 13, 16, 17, 18]);
    assert.deepEqual(x.slice(0, 1, 4, 2).toArray(), [5, 6, 7, 8, 9, 15, 16, 17, 18, 19]);
    assert.deepEqual(x.slice(1, -2).toArray(), [3, 4, 8, 9, 13, 14, 18, 19]);
    assert.deepEqual(x.slice(1, 0, undefined, 3).toArray(), [0, 3, 5, 8, 10, 13, 15, 18]);
    const row = x.select(0, 2);
    assert.deepEqual([...row.shape], [5]);
    assert.deepEqual(row.toArray(), [10, 11, 12, 13, 14]);
    assert.deepEqual(x.select(1, -1).toArray(), [4, 9, 14, 19]);
    assert.throws(() => x.narrow(0, 3, 2), /start \(3\) \+ length \(2\) exceeds dimension size \(4\)/);
    assert.throws(() => x.select(0, 4), /index 4 out of range for tensor of size \[4, 5\] at dimension 0/);
  });

  it('views alias their base: writes through a slice show in the base', () => {
    const x = zeros([3, 4]);
    const col = x.select(1, 2);
    const mid = x.narrow(0, 1, 1);
    assert.ok(col.sharesStorageWith(x) && mid.sharesStorageWith(x));
    noGrad(() => { col.add_(1); mid.fill_(5); });
    assert.deepEqual(x.toArray(), [0, 0, 1, 0, 5, 5, 5, 5, 0, 0, 1, 0]);
  });

  it('chunk and split', () => {
    const x = arange(7);
    assert.deepEqual(x.chunk(3).map((t) => t.toArray()), [[0, 1, 2], [3, 4, 5], [6]]);
    assert.deepEqual(x.split(3).map((t) => t.toArray()), [[0, 1, 2], [3, 4, 5], [6]]);
    const m = f32([2, 4]);
    assert.deepEqual(m.chunk(2, 1).map((t) => t.toArray()), [[0, 1, 4, 5], [2, 3, 6, 7]]);
  });
});

describe('cat / stack / expand / repeat / squeeze / unsqueeze', () => {
  it('cat along each dim', () => {
    const a = f32([2, 2]);
    const b = f32([2, 2]).add(10);
    assert.deepEqual(cat([a, b]).toArray(), [0, 1, 2, 3, 10, 11, 12, 13]);
    assert.deepEqual([...cat([a, b], 1).shape], [2, 4]);
    assert.deepEqual(cat([a, b], -1).toArray(), [0, 1, 10, 11, 2, 3, 12, 13]);
    assert.deepEqual(cat([a, f32([1, 2])]).toArray(), [0, 1, 2, 3, 0, 1]);
    assert.throws(() => cat([a, f32([2, 3])]), /Sizes of tensors must match except in dimension 0/);
    assert.throws(() => cat([]), /cat: needs at least one tensor/);
  });

  it('stack adds a dim', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([4, 5, 6]);
    const s0 = stack([a, b]);
    assert.deepEqual([...s0.shape], [2, 3]);
    assert.deepEqual(s0.toArray(), [1, 2, 3, 4, 5, 6]);
    const s1 = stack([a, b], 1);
    assert.deepEqual([...s1.shape], [3, 2]);
    assert.deepEqual(s1.toArray(), [1, 4, 2, 5, 3, 6]);
    assert.throws(() => stack([a, tensor([1, 2])]), /stack expects each tensor to be equal size/);
  });

  it('expand broadcasts with zero strides; repeat copies', () => {
    const c = tensor([1, 2, 3], [3, 1]);
    const e = c.expand([3, 4]);
    assert.deepEqual(e.strides, [1, 0]);
    assert.deepEqual(e.toArray(), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    assert.deepEqual([...c.expand([2, -1, 2]).shape], [2, 3, 2]);
    assert.deepEqual([...c.expandAs(zeros([5, 3, 2])).shape], [5, 3, 2]);
    assert.throws(() => c.expand([2, 2]), /The expanded size of the tensor \(2\) must match the existing size \(3\)/);
    const r = tensor([1, 2]).repeat([2, 2]);
    assert.deepEqual([...r.shape], [2, 4]);
    assert.deepEqual(r.toArray(), [1, 2, 1, 2, 1, 2, 1, 2]);
  });

  it('squeeze / unsqueeze', () => {
    const x = zeros([1, 3, 1, 2]);
    assert.deepEqual([...x.squeeze().shape], [3, 2]);
    assert.deepEqual([...x.squeeze(2).shape], [1, 3, 2]);
    assert.deepEqual([...x.squeeze(1).shape], [1, 3, 1, 2]);
    assert.deepEqual([...x.unsqueeze(0).shape], [1, 1, 3, 1, 2]);
    assert.deepEqual([...x.unsqueeze(-1).shape], [1, 3, 1, 2, 1]);
    assert.throws(() => x.unsqueeze(6), /Dimension out of range/);
  });
});

describe('dtype casts and clone', () => {
  it('to / float / double / long', () => {
    const x = tensor([1.7, -1.7, 0.5]);
    assert.deepEqual(x.long().toArray(), [1, -1, 0]);
    assert.equal(x.long().dtype, 'int64');
    assert.equal(x.double().dtype, 'float64');
    assert.deepEqual(x.to('bool').toArray(), [1, 1, 1]);
    assert.deepEqual(x.to('int32').toArray(), [1, -1, 0]);
    assert.equal(arange(3).float().dtype, 'float32');
    assert.throws(() => x.to('float8' as never), /unknown dtype 'float8'; expected one of uint8/);
  });

  it('clone is an independent copy', () => {
    const x = tensor([1, 2]);
    const c = x.clone();
    assert.ok(!c.sharesStorageWith(x));
    c.add_(1);
    assert.deepEqual(x.toArray(), [1, 2]);
    assert.deepEqual(c.toArray(), [2, 3]);
  });
});
