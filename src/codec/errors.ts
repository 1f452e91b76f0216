// Typed errors for everything the codecs reject. Codes are stable names (as in zstd's error enum) so callers
// and tests can branch on `err.code`; the message names the function, the rule and the offending value.

import { CatkitError } from '../errors.js';

export type CodecErrorCode =
  | 'corruption_detected'   // the stream contradicts itself (bad code, wrong final state, non-zero padding…)
  | 'srcSize_wrong'         // the stream is shorter/longer than its header says, or ends early
  | 'checksum_wrong'        // CRC-32 mismatch
  | 'magic_wrong'           // not a catkit container
  | 'version_unsupported'
  | 'codec_unknown'
  | 'count_tooLarge'        // declared element count above the decoder's limit (checked before allocating)
  | 'alphabet_invalid'      // alphabet size outside 1…65536
  | 'table_invalid'         // a serialized table breaks its rules (Kraft, frequency sum, lengths…)
  | 'table_mismatch'        // a static table that is not the one the stream was coded with
  | 'table_missing'         // the stream needs an external (static) table that was not supplied
  | 'symbol_outOfRange'     // encoding a symbol outside the alphabet or absent from a static table
  | 'parameter_invalid';    // a caller-supplied option outside its range

/** A stream or option the codecs refuse: user-facing (exit code 2), with one of the stable codes above. */
export class CodecError extends CatkitError {
  override name = 'CodecError';
  declare readonly code: CodecErrorCode;
  constructor(code: CodecErrorCode, message: string, readonly offset = -1) {
    super(code, offset >= 0 ? `${message} (at byte ${offset})` : message);
  }
}

/** Throws a CodecError; typed `never` so it can end expressions and narrow control flow. */
export function fail(code: CodecErrorCode, message: string, offset = -1): never {
  throw new CodecError(code, message, offset);
}
