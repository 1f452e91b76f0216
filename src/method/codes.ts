// Integer codes of a quantized tensor as the smallest unsigned array that holds b-bit symbols.
import { tidy, type Tensor } from '../tensor/index.js';

export function toCodeArray(codes: Tensor, bits: number): Uint8Array | Uint16Array {
  return tidy(() => {
    if (bits <= 8) return codes.to('uint8').dataSync() as Uint8Array;
    return Uint16Array.from(codes.to('int32').dataSync() as Int32Array);
  });
}
