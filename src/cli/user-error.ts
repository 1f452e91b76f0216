/** An error caused by what the user asked for (bad option, missing file): printed without a stack trace. */
export class UserError extends Error {
  override readonly name = 'UserError';
}
