// Failures inside libtorch arrive as TorchError naming the operator (not user-facing: exit code 1);
// the binding's own argument checks keep their TypeError/RangeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeros, TorchError } from '../../src/tensor/index.js';
import { isUserFacing } from '../../src/errors.js';

test('a libtorch failure is a TorchError with the operator, its message and code, and is not user-facing', () => {
  assert.throws(() => zeros([2, 3]).add(zeros([4, 3])), (e: unknown) => {
    assert.ok(e instanceof TorchError, String(e));
    assert.equal(e.op, 'aten::add.Tensor');
    assert.equal(e.code, 'torch');
    assert.match(e.message, /^aten::add\.Tensor: The size of tensor a \(2\) must match the size of tensor b \(4\)/);
    assert.ok(!e.message.startsWith('aten::add.Tensor: aten::add.Tensor'), 'operator named once');
    assert.equal(isUserFacing(e), false);
    return true;
  });
  const t = zeros([2]);
  t.dispose();
  assert.throws(() => t.add(1), (e: unknown) => e instanceof Error && /disposed/.test((e as Error).message));
  // An allocation libtorch refuses gets its own code.
  assert.equal(new TorchError('aten::empty', "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes").code, 'torch_alloc');
});
