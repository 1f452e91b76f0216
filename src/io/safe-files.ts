// Reading files that a user's file names: every path is resolved, real-pathed and kept inside its
// folder (symbolic links included), only regular files are read, and a read never goes past a
// size known before reading. This is the one place formats that name other files (tfjs weight
// manifests, ImageNet label files, VOC ImageSets, …) go through.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { CatkitError } from '../errors.js';

/** Default bound for a metadata file (model.json, a labels list…): far above any real one. */
export const MAX_METADATA_BYTES = 256 * 1024 * 1024;

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/**
 * The real path of `name` (a path written in a file under `root`), refused unless it stays inside
 * `root` both as written (no `..` escape, not absolute) and after following symbolic links.
 * `source` is the file that named it (for messages).
 */
export function resolveInside(root: string, name: string, source: string, o: { what?: string; listedIn?: string } = {}): string {
  const what = o.what ?? 'file', listedIn = o.listedIn ?? 'it';
  if (typeof name !== 'string' || name === '' || name.includes('\0')) {
    throw new CatkitError('path_invalid', `${source}: names an invalid path ${JSON.stringify(name)}`, { file: source });
  }
  if (path.isAbsolute(name) || /^[A-Za-z]:[\\/]/.test(name)) {
    throw new CatkitError('path_outside', `${source}: ${what} '${name}' is an absolute path; files it names must be inside ${root}`, { file: source });
  }
  const rootAbs = path.resolve(root);
  const joined = path.resolve(rootAbs, name);
  if (!inside(rootAbs, joined)) {
    throw new CatkitError('path_outside', `${source}: ${what} '${name}' is outside its folder ${root}; refusing to read it`, { file: source });
  }
  let real: string, rootReal: string;
  try {
    rootReal = realpathSync(rootAbs);
    real = realpathSync(joined);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CatkitError('file_missing', `${source}: ${what} ${name} listed in ${listedIn} ${code === 'ENOENT' ? 'is missing' : `cannot be opened (${code})`}`, { file: source });
  }
  if (!inside(rootReal, real)) {
    throw new CatkitError('path_outside', `${source}: ${what} '${name}' is a link to a file outside its folder ${root}; refusing to read it`, { file: source });
  }
  return real;
}

export interface BoundedReadOptions {
  /** Refuse files larger than this (checked on the open file before reading). */
  maxBytes: number;
  /** When set, the file must hold exactly this many bytes. */
  exactBytes?: number;
  /** What the file is, for messages (default: its path). */
  what?: string;
}

/**
 * Reads a regular file whose size is checked first and never reads more than `maxBytes`
 * (a device such as /dev/zero or a FIFO is refused, not read until memory runs out).
 */
export function readFileBounded(file: string, o: BoundedReadOptions): Buffer {
  const what = o.what ?? file;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a regular file.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CatkitError(code === 'ENOENT' ? 'file_missing' : 'file_unreadable', `${what}: cannot read (${code})`, { file });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CatkitError('not_regular_file', `${what}: not a regular file (${kind(st)}); refusing to read it`, { file });
    if (o.exactBytes !== undefined && st.size !== o.exactBytes) {
      throw new CatkitError('file_size_wrong', `${what}: holds ${st.size} bytes, expected exactly ${o.exactBytes}`, { file });
    }
    if (st.size > o.maxBytes) throw new CatkitError('file_too_large', `${what}: ${st.size} bytes, more than the ${o.maxBytes} allowed`, { file });
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    if (off !== st.size) throw new CatkitError('file_changed', `${what}: shrank from ${st.size} to ${off} bytes while being read`, { file });
    return buf;
  } finally { closeSync(fd); }
}

/** Size of a regular file, refusing anything else (devices, FIFOs, folders). */
export function regularFileSize(file: string, what = file): number {
  const st = statSync(file);
  if (!st.isFile()) throw new CatkitError('not_regular_file', `${what}: not a regular file (${kind(st)}); refusing to read it`, { file });
  return st.size;
}

function kind(st: import('node:fs').Stats): string {
  return st.isDirectory() ? 'a folder' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device'
    : st.isFIFO() ? 'a pipe' : st.isSocket() ? 'a socket' : 'not a file';
}
