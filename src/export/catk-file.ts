// A .catk model file read from disk: size-bounded, a regular file only, then fully validated. Node
// only; catk.ts works on bytes and also runs in the browser.
import { readFileBounded } from '../io/safe-files.js';
import { readCatk, type CatkModel } from './catk.js';

export const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;

/** A .catk file's bytes (a missing file, folder, pipe or device, or one above the limit, is a one-line refusal). */
export function readModelFileBytes(file: string): Uint8Array {
  return new Uint8Array(readFileBounded(file, { maxBytes: MAX_MODEL_FILE_BYTES, what: `model file ${file}` }));
}

/** Reads a .catk file and validates all of it. */
export function loadModelFile(file: string): CatkModel {
  return readCatk(readModelFileBytes(file), file);
}
