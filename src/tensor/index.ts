// Public tensor API: import * as ck from 'catkit/tensor'.
export { Tensor, MemoryFormat, type Scalar, type TensorOrScalar, type Dims } from './tensor.js';
export * from './creation.js';
export * from './runtime.js';
export { tidy, keep, release, dispose, memory } from './scope.js';
export { type DType, DTYPE_CODES, isFloating, elementBytes } from './dtype.js';
export * as F from './functional.js';
export { TorchError } from './errors.js';
