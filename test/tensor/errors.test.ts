// Bad input gives a thrown JavaScript Error with a clear message — never a crash of the process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, ones, full, arange, rand, scalar, setNumThreads, type Tensor } from '../../src/tensor/index.js';
import * as F from '../../src/tensor/functional.js';
import { aten } from '../../src/tensor/ops.js';
import { native } from '../../src/tensor/native.js';

const i64 = (v: number[], shape?: number[]): Tensor => tensor(v, shape, { dtype: 'int64' });
/** Asserts fn throws an Error (of the given class, if any) whose message matches re. */
function fails(fn: () => unknown, re: RegExp, cls: ErrorConstructor = Error): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.constructor?.name}: ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

describe('shape errors', () => {
  it('broadcasting mismatch', () => {
    fails(() => zeros([2, 3]).add(zeros([4, 3])), /aten::add\.Tensor: The size of tensor a \(2\) must match the size of tensor b \(4\) at non-singleton dimension 0/);
    fails(() => zeros([2, 1, 3]).mul(zeros([4, 2])), /size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton dimension 2/);
    fails(() => zeros([3]).where(tensor([true, false]), 0), /must match the size/);
  });
  it('matmul / bmm / linear mismatch', () => {
    fails(() => zeros([2, 3]).matmul(zeros([4, 5])), /aten::matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)/);
    fails(() => zeros([3]).matmul(zeros([4])), /inconsistent tensor size, expected tensor \[3\] and src \[4\] to have the same number of elements/);
    fails(() => zeros([2, 3, 4]).bmm(zeros([3, 4, 5])), /aten::bmm: Expected size for first two dimensions of batch2 tensor to be: \[2, 4\] but got: \[3, 4\]/);
    fails(() => F.linear(zeros([2, 3]), zeros([4, 5])), /linear: input's last dim is 3, weight \[4, 5\] expects 5/, RangeError);
    fails(() => F.linear(zeros([2, 3]), zeros([3])), /linear: weight must be rank 2, got shape \[3\]/, RangeError);
  });
  it('conv2d mismatch', () => {
    fails(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])), /conv2d: input has 3 channels, weight \[4, 2, 3, 3\] expects 2 \(groups=1\)/, RangeError);
    fails(() => F.conv2d(zeros([1, 4, 8, 8]), zeros([3, 2, 3, 3]), null, { groups: 2 }), /conv2d: 3 output channels are not divisible by groups=2/, RangeError);
    fails(() => F.conv2d(zeros([3, 8, 8]), zeros([4, 3, 3, 3])), /conv2d: input must be rank 4, got shape \[3, 8, 8\]/, RangeError);
    fails(() => F.conv2d(zeros([1, 3, 2, 2]), zeros([4, 3, 3, 3])), /Kernel size can't be greater than actual input size/);
    fails(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 3, 3, 3]), zeros([3])), /expected bias to be 1-dimensional with 4 elements, but got bias of size \[3\]/);
    fails(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 3, 3, 3]), null, { stride: 0 }), /non-positive stride is not supported/);
    fails(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 3, 3, 3]), null, { padding: -1 }), /conv2d: padding must be a non-negative integer or a pair, got -1/, RangeError);
    fails(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 3, 3, 3]), null, { groups: 0 }), /conv2d: groups must be a positive integer, got 0/, RangeError);
  });
  it('pooling and normalisation', () => {
    fails(() => F.maxPool2d(zeros([1, 1, 2, 2]), 3), /Output size is too small/);
    fails(() => F.maxPool2d(zeros([1, 1, 4, 4]), 2, { padding: 2 }), /pad should be at most half of kernel size/);
    fails(() => F.maxPool2d(zeros([4, 4]), 2), /maxPool2d: input must be rank 3 or 4, got shape \[4, 4\]/, RangeError);
    fails(() => F.layerNorm(zeros([2, 3]), [3], ones([2])), /Expected weight to be of same shape as normalized_shape, but got weight of shape \[2\]/);
    fails(() => F.batchNorm(zeros([3]), { training: true }), /batchNorm: input must have a channel dim, got shape \[3\]/, RangeError);
  });
  it('view, reshape, indexing', () => {
    fails(() => zeros([6]).reshape([4, 2]), /aten::reshape: shape '\[4, 2\]' is invalid for input of size 6/);
    fails(() => zeros([4]).reshape([-1, -1]), /only one dimension can be inferred/);
    fails(() => zeros([3]).view([1.5]), /aten::view argument 'size': expected an integer, got 1\.5/, TypeError);
    fails(() => zeros([3]).expand([-2, 3]), /expand: sizes \[-2, 3\] must be non-negative integers or -1/, RangeError);
    fails(() => zeros([2, 3]).permute([1, 1]), /permute: dims \[1, 1\] are not a permutation of the 2 dims of shape \[2, 3\]/, RangeError);
    fails(() => zeros([2, 3]).transpose(0, 2), /Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)/);
    fails(() => zeros([2, 3]).sum(5), /Dimension out of range/);
    fails(() => zeros([3]).narrow(0, 2, 2), /start \(2\) \+ length \(2\) exceeds dimension size \(3\)/);
    fails(() => zeros([3]).gather(0, i64([3])), /index 3 is out of bounds for dimension 0 with size 3/);
  });
});

describe('dtype errors', () => {
  it('crossEntropy with a float target', () => {
    fails(() => F.crossEntropy(zeros([2, 3]), zeros([2])), /crossEntropy: target must hold int64 class indices, got float32/, TypeError);
  });
  it('embedding with float indices', () => {
    fails(() => F.embedding(tensor([0, 1]), zeros([3, 2])), /embedding: indices must be int64 or int32, got float32/, TypeError);
  });
  it('conv2d with integer tensors or mixed float types', () => {
    fails(() => F.conv2d(zeros([1, 3, 4, 4], { dtype: 'int64' }), zeros([2, 3, 3, 3], { dtype: 'int64' })), /conv2d: input must be floating point, got int64/, TypeError);
    fails(() => F.conv2d(zeros([1, 3, 4, 4]), zeros([2, 3, 3, 3], { dtype: 'int32' })), /conv2d: weight must be floating point, got int32/, TypeError);
    fails(() => F.conv2d(zeros([1, 3, 4, 4], { dtype: 'float64' }), zeros([2, 3, 3, 3])), /conv2d: weight is float32 but input is float64/, TypeError);
  });
  it('mismatched float types, integer-only and float-only ops', () => {
    fails(() => zeros([2, 2], { dtype: 'float64' }).matmul(zeros([2, 2])), /aten::matmul: expected scalar type Double but found Float/);
    fails(() => arange(3).mean(), /mean\(\): could not infer output dtype/);
    fails(() => F.softmax(arange(3)), /"softmax_lastdim_kernel_impl" not implemented for 'Long'/);
    fails(() => arange(3).add_(0.5), /result type Float can't be cast to the desired output type Long/);
    fails(() => zeros([2]).maskedFill(zeros([2]), 1), /maskedFill: mask must be a bool tensor, got float32/, TypeError);
    fails(() => arange(3).requiresGrad_(), /Only Tensors of floating point and complex dtype can require gradients/);
  });
  it('unknown dtype names', () => {
    fails(() => zeros([2], { dtype: 'float8' as never }), /unknown dtype 'float8'; expected one of uint8, int8, int16, int32, int64, float16, float32, float64, bool/, TypeError);
    fails(() => tensor([1], [1], { dtype: 'double' as never }), /unknown dtype 'double'/, TypeError);
    fails(() => ones([1]).to('f32' as never), /unknown dtype 'f32'/, TypeError);
    fails(() => full([1], 0, { dtype: 'complex64' as never }), /unknown dtype 'complex64'/, TypeError);
  });
});

describe('creation and access errors', () => {
  it('tensor() with data length not matching the shape', () => {
    fails(() => tensor([1, 2, 3], [2, 2]), /tensor: 3 values given for shape \[2, 2\] \(4 elements\)/, RangeError);
    fails(() => tensor(new Float32Array(5), [2, 3]), /tensor: 5 values given for shape \[2, 3\] \(6 elements\)/, RangeError);
    fails(() => tensor([[1, 2], [3]]), /ragged nested array/, RangeError);
  });
  it('negative or fractional shapes', () => {
    fails(() => zeros([2, -1]), /zeros: shape \[2, -1\] must hold non-negative integers/, RangeError);
    fails(() => ones([-3]), /ones: shape \[-3\] must hold non-negative integers/, RangeError);
    fails(() => rand([1.5]), /rand: shape \[1.5\] must hold non-negative integers/, RangeError);
    fails(() => tensor([], [-1]), /tensor: shape \[-1\] must hold non-negative integers/, RangeError);
    fails(() => full([NaN], 1), /full: shape \[NaN\] must hold non-negative integers/, RangeError);
  });
  it('item() on a multi-element or empty tensor', () => {
    fails(() => tensor([1, 2]).item(), /item: tensor has 2 elements, expected exactly 1/);
    fails(() => zeros([0]).item(), /item: tensor has 0 elements, expected exactly 1/);
    assert.equal(tensor([[5]]).item(), 5);
  });
  it('using a disposed tensor', () => {
    const t = ones([2]);
    t.dispose();
    fails(() => t.mul(2), /Tensor is disposed/);
    fails(() => ones([2]).mul(t), /Tensor is disposed/);
    fails(() => F.relu(t), /Tensor is disposed/);
    fails(() => F.crossEntropy(t, i64([0, 1])), /Tensor is disposed/);
  });
  it('backward misuse', () => {
    fails(() => ones([3], { requiresGrad: true }).mul(2).backward(), /backward: a gradient must be given for a non-scalar tensor of 3 elements/);
    fails(() => ones([1]).mul(2).sum().backward(), /backward: tensor does not require grad and has no grad_fn/);
    fails(() => scalar(1).backward(), /tensor does not require grad/);
  });
  it('wrong JS argument types reach the binding as TypeErrors, not crashes', () => {
    fails(() => ones([2]).add('1' as never), /aten::add\.Scalar argument 'other': expected a number/, TypeError);
    fails(() => ones([2]).reshape(2 as never), /shape is not iterable/, TypeError);
    fails(() => ones([2]).sum([0, 'a'] as never), /aten::sum\.dim_IntList argument 'dim': expected an integer/, TypeError);
    fails(() => ones([2]).add({} as never), /expected a number/, TypeError);
    fails(() => ones([2]).matmul(undefined as never), /Cannot read properties of undefined|expected a tensor/, TypeError);
    fails(() => ones([2]).sum(0.5), /expected an integer, got 0\.5/, TypeError);
    fails(() => setNumThreads(0), /setNumThreads: expected a positive integer, got 0/, RangeError);
  });
  it('the binding turns libtorch errors raised while converting arguments into JS errors', () => {
    // before the fix, an invalid device string aborted the process from inside the argument conversion
    fails(() => aten('empty', 'memory_format').call([[2], null, null, 'bogus']), /aten::empty\.memory_format argument 'device': Expected one of cpu, cuda/);
    fails(() => native.fromBuffer(new Float32Array(1), [1], 99), /fromBuffer: Unknown ScalarType/);
    fails(() => native.fromBuffer(new Float32Array(3), [2], 6), /fromBuffer: 12 bytes given, shape needs 8/, RangeError);
    fails(() => aten('no_such_op').call([]), /resolveOp: libtorch has no operator aten::no_such_op/);
    fails(() => aten('add', 'Tensor').call([ones([1]).handle, ones([1]).handle, 1, 2]), /aten::add\.Tensor: 4 arguments given, schema takes 3/, TypeError);
    fails(() => aten('add', 'Tensor').call([ones([1]).handle]), /aten::add\.Tensor: missing argument 'other'/, TypeError);
  });
  it('the process survives all of the above: a normal op still works', () => {
    assert.deepEqual(ones([2]).add(1).toArray(), [2, 2]);
  });
});
