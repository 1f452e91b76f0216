// One error base for the whole package. The CLI maps errors to exit codes by `userFacing`
// (2: the user's input or options, one line; 1: a bug, with its stack), and callers branch on
// the stable `code`, never on a class name or a message. Depends on nothing, so the engine-free
// layers (codec, ledger, export/runtime) can use it.

export interface CatkitErrorOptions {
  /** True (the default) when the user can fix it: bad option, bad file, bad data, refused by a limit. */
  userFacing?: boolean;
  /** One short sentence on what to do, printed after the message. */
  hint?: string;
  /** The file the problem is in, when there is one (already part of the message). */
  file?: string;
  cause?: unknown;
}

export class CatkitError extends Error {
  override name = 'CatkitError';
  readonly userFacing: boolean;
  readonly hint: string | undefined;
  readonly file: string | undefined;

  constructor(readonly code: string, message: string, o: CatkitErrorOptions = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.userFacing = o.userFacing ?? true;
    this.hint = o.hint;
    this.file = o.file;
  }
}

/** An internal failure (a bug or a broken invariant): reported with its stack, exit code 1. */
export class InternalError extends CatkitError {
  override name = 'InternalError';
  constructor(message: string, o: Omit<CatkitErrorOptions, 'userFacing'> = {}) {
    super('internal', message, { ...o, userFacing: false });
  }
}

export function isCatkitError(e: unknown): e is CatkitError {
  return e instanceof CatkitError;
}

/** True for errors the user caused and can fix (exit code 2, one line). */
export function isUserFacing(e: unknown): boolean {
  return e instanceof CatkitError && e.userFacing;
}
