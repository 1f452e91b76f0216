/** A problem with the user's data or data options (missing file, corrupt IDX, bad split): the CLI prints just the message. */
export class DataError extends Error {
  override readonly name = 'DataError';
}
