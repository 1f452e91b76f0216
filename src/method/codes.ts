// Integer codes of a quantized tensor as the smallest unsigned array that holds b-bit symbols, in the
// tensor's logical (row-major) order whatever its memory layout: one native pass converts and, for
// channels-last codes, transposes.
import type { Tensor } from '../tensor/index.js';
import { native } from '../tensor/native.js';

export function toCodeArray(codes: Tensor, bits: number): Uint8Array | Uint16Array {
  return native.codesToArray(codes.handle, bits > 8);
}
