// Tensor creation: typed-array and plain-array round trips for every dtype, constants, ranges and
// seeded random factories (compared with python torch, which shares libtorch's generator).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, scalar, zeros, ones, full, zerosLike, onesLike, arange, rand, randn, randint, randperm, uniform, manualSeed, type DType,
} from '../../src/tensor/index.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose, F32, F64 } from '../helpers/assert-close.js';

let ref: Record<string, OracleArray>;
before(() => {
  ref = torchOracle(`
torch.manual_seed(42)
out['rand'] = torch.rand(5)
out['randn_small'] = torch.randn(7)
out['randn_big'] = torch.randn(40)
out['randperm'] = torch.randperm(10)
out['rand64'] = torch.rand(4, dtype=torch.float64)
out['randint'] = torch.randint(3, 9, (6,))
out['arange_f'] = torch.arange(0, 1, 0.1)
out['arange_neg'] = torch.arange(1.5, -1.0, -0.3)
out['arange_f64'] = torch.arange(-2.0, 2.0, 0.3, dtype=torch.float64)
`);
});

describe('tensor() round trips', () => {
  const cases: [string, ArrayBufferView, DType, number[]][] = [
    ['Float32Array', new Float32Array([1.5, -2.25, 3e-8]), 'float32', [1.5, -2.25, Math.fround(3e-8)]],
    ['Float64Array', new Float64Array([0.1, -1e300, 1 / 3]), 'float64', [0.1, -1e300, 1 / 3]],
    ['BigInt64Array', new BigInt64Array([-5n, 0n, 9007199254740991n]), 'int64', [-5, 0, 9007199254740991]],
    ['Int32Array', new Int32Array([-2147483648, 0, 2147483647]), 'int32', [-2147483648, 0, 2147483647]],
    ['Uint8Array', new Uint8Array([0, 128, 255]), 'uint8', [0, 128, 255]],
    ['Int8Array', new Int8Array([-128, 0, 127]), 'int8', [-128, 0, 127]],
  ];
  for (const [name, data, dtype, expected] of cases) {
    it(`${name} keeps dtype ${dtype} and values`, () => {
      const t = tensor(data);
      assert.equal(t.dtype, dtype);
      assert.deepEqual([...t.shape], [3]);
      assert.deepEqual(t.toArray(), expected);
      const back = t.dataSync();
      assert.equal(back.constructor, data.constructor);
      assert.deepEqual(Array.from(back as ArrayLike<number | bigint>), Array.from(data as unknown as ArrayLike<number | bigint>));
    });
  }

  it('plain arrays convert to every dtype', () => {
    const src = [0, 1, 2, 3];
    for (const dtype of ['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool', 'float16'] as const) {
      const t = tensor(src, [2, 2], { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual([...t.shape], [2, 2]);
      assert.deepEqual(t.toArray(), dtype === 'bool' ? [0, 1, 1, 1] : src, dtype);
    }
  });

  it('bool tensors from booleans and from 0/1, back as 0/1 bytes', () => {
    const b = tensor([true, false, true]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.toArray(), [1, 0, 1]);
    assert.ok(b.dataSync() instanceof Uint8Array);
    assert.deepEqual(tensor([0, 2, -1], [3], { dtype: 'bool' }).toArray(), [0, 1, 1]);
    assert.deepEqual(tensor(new Uint8Array([0, 7]), [2], { dtype: 'bool' }).toArray(), [0, 1]);
  });

  it('typed arrays convert like Tensor.to when a dtype is given', () => {
    assert.deepEqual(tensor(new BigInt64Array([3n, -4n]), [2], { dtype: 'float64' }).toArray(), [3, -4]);
    assert.deepEqual(tensor(new BigInt64Array([3n, -4n]), [2], { dtype: 'int32' }).toArray(), [3, -4]);
    assert.deepEqual(tensor(new Float32Array([1.75, -1.75]), [2], { dtype: 'int64' }).toArray(), [1, -1]);
    assert.deepEqual(tensor(new Float64Array([0.1]), [1], { dtype: 'float32' }).toArray(), [Math.fround(0.1)]);
    const h = tensor(new Float32Array([0.5, -2, 65504]), [3], { dtype: 'float16' });
    assert.equal(h.dtype, 'float16');
    assert.deepEqual(h.toArray(), [0.5, -2, 65504]);
    assert.deepEqual(Array.from(h.dataSync() as Uint16Array), [0x3800, 0xc000, 0x7bff]);
  });

  it('typed-array views (subarray) copy only their own window', () => {
    const big = new Float32Array([1, 2, 3, 4, 5]);
    assert.deepEqual(tensor(big.subarray(1, 3)).toArray(), [2, 3]);
    assert.deepEqual(tensor(new BigInt64Array([7n, 8n, 9n]).subarray(2)).toArray(), [9]);
    const t = tensor(big);
    big[0] = 100;                                        // tensor() copies
    assert.equal(t.toArray()[0], 1);
  });

  it('float64 keeps full precision, float32 rounds', () => {
    assert.equal(tensor([0.1], [1], { dtype: 'float64' }).toArray()[0], 0.1);
    assert.equal(tensor([0.1]).toArray()[0], Math.fround(0.1));
  });

  it('nested arrays infer their shape', () => {
    const t = tensor([[[1, 2, 3], [4, 5, 6]]]);
    assert.deepEqual([...t.shape], [1, 2, 3]);
    assert.deepEqual(t.toArray(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...tensor([[1, 2], [3, 4]], [4]).shape], [4]);
    assert.throws(() => tensor([[1, 2], [3]]), /ragged nested array: element \[1\] has length 1, expected 2/);
    assert.throws(() => tensor([[1, 2], 3] as never), /ragged/);
  });

  it('scalars: rank 0, item()', () => {
    const s = scalar(2.5);
    assert.deepEqual([...s.shape], []);
    assert.equal(s.rank, 0);
    assert.equal(s.size, 1);
    assert.equal(s.item(), 2.5);
    assert.equal(tensor(7, [], { dtype: 'int64' }).item(), 7);
    assert.equal(scalar(true).dtype, 'bool');
  });

  it('empty tensors', () => {
    const e = tensor([], [0, 3]);
    assert.deepEqual([...e.shape], [0, 3]);
    assert.equal(e.size, 0);
    assert.deepEqual(e.toArray(), []);
  });

  it('integer conversion from plain numbers truncates and range-checks', () => {
    assert.deepEqual(tensor([1.9, -1.9], [2], { dtype: 'int32' }).toArray(), [1, -1]);
    assert.throws(() => tensor([256], [1], { dtype: 'uint8' }), /element 0 \(256\) is out of range for uint8/);
    assert.throws(() => tensor([NaN], [1], { dtype: 'int64' }), /element 0 \(NaN\) cannot be stored as int64/);
    assert.throws(() => tensor([1, 'x' as unknown as number]), /element 1 is string, expected a number/);
  });

  it('requiresGrad option', () => {
    assert.equal(tensor([1, 2], [2], { requiresGrad: true }).requiresGrad, true);
    assert.equal(tensor([1, 2]).requiresGrad, false);
  });
});

describe('constant factories', () => {
  it('zeros/ones/full with dtypes', () => {
    const z = zeros([2, 3]);
    assert.equal(z.dtype, 'float32');
    assert.deepEqual([...z.shape], [2, 3]);
    assert.deepEqual(z.toArray(), [0, 0, 0, 0, 0, 0]);
    const o = ones([3], { dtype: 'int64' });
    assert.equal(o.dtype, 'int64');
    assert.deepEqual(o.toArray(), [1, 1, 1]);
    const f = full([2, 2], -1.25, { dtype: 'float64' });
    assert.equal(f.dtype, 'float64');
    assert.deepEqual(f.toArray(), [-1.25, -1.25, -1.25, -1.25]);
    assert.deepEqual(full([2], 7, { dtype: 'int32' }).toArray(), [7, 7]);
    assert.deepEqual(ones([2], { dtype: 'bool' }).toArray(), [1, 1]);
    assert.deepEqual(zeros([]).shape, []);
    assert.equal(zeros([]).item(), 0);
  });

  it('zerosLike/onesLike keep shape and dtype', () => {
    const src = tensor([1, 2, 3, 4, 5, 6], [3, 2], { dtype: 'float64' });
    const z = zerosLike(src);
    const o = onesLike(src);
    assert.deepEqual([...z.shape], [3, 2]);
    assert.equal(z.dtype, 'float64');
    assert.deepEqual(o.toArray(), [1, 1, 1, 1, 1, 1]);
  });

  it('arange: integers give int64, float steps give float32 like torch', () => {
    const a = arange(5);
    assert.equal(a.dtype, 'int64');
    assert.deepEqual(a.toArray(), [0, 1, 2, 3, 4]);
    assert.deepEqual(arange(2, 11, 3).toArray(), [2, 5, 8]);
    assert.deepEqual(arange(5, 0, -2).toArray(), [5, 3, 1]);
    assert.deepEqual(arange(3, 3).toArray(), []);
    const f = arange(0, 1, 0.1);
    assert.equal(f.dtype, 'float32');
    assertClose(f, ref.arange_f!, F32);
    assertClose(arange(1.5, -1.0, -0.3), ref.arange_neg!, F32);
    const d = arange(-2, 2, 0.3, { dtype: 'float64' });
    assert.equal(d.dtype, 'float64');
    assertClose(d, ref.arange_f64!, F64);
    assert.deepEqual(arange(0, 1, 0.25).toArray(), [0, 0.25, 0.5, 0.75]);
    assert.throws(() => arange(0, 1, 0), /step must be non-zero/);
  });
});

describe('seeded random factories', () => {
  it('match python torch draw for draw after manualSeed (same libtorch generator)', () => {
    manualSeed(42);
    const r = rand([5]);
    const nSmall = randn([7]);
    const nBig = randn([40]);
    const p = randperm(10);
    const r64 = rand([4], { dtype: 'float64' });
    const ri = randint(3, 9, [6]);
    assertClose(r, ref.rand!, F32);
    assertClose(nSmall, ref.randn_small!, F32);
    assertClose(nBig, ref.randn_big!, F32);
    assert.deepEqual(p.toArray(), ref.randperm!.data);
    assertClose(r64, ref.rand64!, F64);
    assert.equal(ri.dtype, 'int64');
    assert.deepEqual(ri.toArray(), ref.randint!.data);
  });

  it('are reproducible after manualSeed and differ across seeds', () => {
    manualSeed(7);
    const a = [rand([16]).toArray(), randn([16]).toArray(), randperm(20).toArray()];
    manualSeed(7);
    const b = [rand([16]).toArray(), randn([16]).toArray(), randperm(20).toArray()];
    assert.deepEqual(a, b);
    manualSeed(8);
    assert.notDeepEqual(rand([16]).toArray(), a[0]);
  });

  it('rand: uniform statistics on [0, 1)', () => {
    manualSeed(1);
    const x = rand([20000]).toArray();
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    assert.ok(Math.min(...x) >= 0 && Math.max(...x) < 1);
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);            // sd of the mean ≈ 0.002
    assert.ok(Math.abs(variance - 1 / 12) < 0.004, `variance ${variance}`);
  });

  it('randn: standard normal statistics', () => {
    manualSeed(2);
    const x = randn([20000], { dtype: 'float64' }).toArray();
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    const within1 = x.filter((v) => Math.abs(v) < 1).length / x.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);                 // sd of the mean ≈ 0.007
    assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
    assert.ok(Math.abs(within1 - 0.6827) < 0.02, `P(|x|<1) = ${within1}`);
  });

  it('randperm is a permutation; uniform respects its bounds; randint its range', () => {
    manualSeed(3);
    const p = randperm(100).toArray();
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    assert.notDeepEqual(p, Array.from({ length: 100 }, (_, i) => i));
    const u = uniform([5000], -3, -1).toArray();
    assert.ok(Math.min(...u) >= -3 && Math.max(...u) < -1);
    assert.ok(Math.abs(u.reduce((s, v) => s + v, 0) / u.length + 2) < 0.05);
    const ri = randint(-2, 3, [2000]).toArray();
    assert.deepEqual([...new Set(ri)].sort((a, b) => a - b), [-2, -1, 0, 1, 2]);
    assert.deepEqual(randperm(0).toArray(), []);
  });

  it('random factories reject integer dtypes and bad arguments', () => {
    assert.throws(() => rand([2], { dtype: 'int64' }), /rand: dtype must be floating point, got int64/);
    assert.throws(() => randn([2], { dtype: 'bool' }), /randn: dtype must be floating point/);
    assert.throws(() => randperm(-1), /randperm: n must be a non-negative integer/);
    assert.throws(() => randint(3, 3, [2]), /high \(3\) must exceed low \(3\)/);
    assert.throws(() => manualSeed(-1), /manualSeed: expected a non-negative integer/);
  });
});

describe('display', () => {
  it('toString shows dtype, shape, requiresGrad and small values; never throws', () => {
    assert.equal(String(tensor([[1, 2], [3, 4.5]])), 'Tensor(float32, [2, 2]) [[1, 2], [3, 4.5]]');
    assert.equal(String(tensor([0.1])), 'Tensor(float32, [1]) [0.1]');
    assert.equal(String(scalar(0.1, { dtype: 'float64', requiresGrad: true })), 'Tensor(float64, [], requiresGrad) 0.1');
    assert.equal(String(tensor([true, false])), 'Tensor(bool, [2]) [true, false]');
    assert.equal(`${arange(3)}`, 'Tensor(int64, [3]) [0, 1, 2]');
    assert.equal(String(zeros([2, 0])), 'Tensor(float32, [2, 0]) [[], []]');
    assert.equal(String(zeros([100])), 'Tensor(float32, [100])');
    assert.equal(zeros([100]).toString(100).length > 100, true);
    const d = zeros([1]);
    d.dispose();
    assert.equal(String(d), 'Tensor(disposed)');
  });
});
