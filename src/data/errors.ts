import { CatkitError } from '../errors.js';

/** A problem with the user's data or data options (missing file, corrupt IDX, bad split): user-facing, exit code 2. */
export class DataError extends CatkitError {
  override name = 'DataError';
  constructor(message: string, o: { code?: string; file?: string; hint?: string } = {}) {
    super(o.code ?? 'data_invalid', message, { file: o.file, hint: o.hint });
  }
}
