// The one error type for failures inside libtorch: every call into the addon is wrapped (see
// native.ts), so a C++ exception arrives as a TorchError naming the operator, never a plain Error.
import { CatkitError } from '../errors.js';

/**
 * A libtorch failure (shape mismatch inside an operator, allocation failure, disposed handle…).
 * Not user-facing: what reaches libtorch has passed catkit's own checks, so a failure there is a
 * bug to report (exit code 1, with the stack). Limits that refuse a request up front throw a
 * user-facing CatkitError before anything is allocated.
 */
export class TorchError extends CatkitError {
  override name = 'TorchError';
  constructor(readonly op: string, readonly torchMessage: string, o: { cause?: unknown } = {}) {
    // The addon already prefixes most messages with the operator name; do not repeat it.
    super(/^out of memory|can't allocate memory/i.test(torchMessage) ? 'torch_alloc' : 'torch',
      torchMessage.startsWith(`${op}:`) || torchMessage.startsWith(`${op} `) ? torchMessage : `${op}: ${torchMessage}`,
      { userFacing: false, cause: o.cause });
  }
}
