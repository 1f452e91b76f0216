// Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// a big-endian header [0, 0, type, rank] followed by `rank` uint32 dims, then the row-major payload.
import { constants as zconst, gunzipSync } from 'node:zlib';
import { CatkitError } from '../errors.js';
import { readFileBounded } from '../io/safe-files.js';
import { DataError } from './errors.js';

/** The only element type the image datasets use; IDX also defines int8/int16/int32/float/double. */
const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** The payload (a copy, owned by the caller). */
  data: Uint8Array;
}

/** Gzip streams start with 1f 8b; sniff the content rather than trust the file name. */
const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * The most an IDX file may hold once inflated (and the most read from disk): 2 GiB, far above
 * MNIST-style data (Fashion-MNIST's training images are 47 MB) and below what a decompression bomb
 * needs to hurt. Within it, a gzipped file is inflated to at most the size its own header declares.
 */
export const MAX_IDX_BYTES = 2 * 1024 ** 3;

/** Output allowed past an IDX header's declared size (reported as trailing bytes rather than as a bomb). */
const TRAILING_ROOM = 64 * 1024;

/** Compressed bytes inflated to read the header first: at most ~1 KB each, so the probe stays small whatever the input. */
const HEADER_PROBE_BYTES = 256;

const gunzipError = (source: string, err: unknown): DataError =>
  new DataError(`${source}: corrupt or truncated gzip data (${(err as Error).message})`, { code: 'gzip_invalid', file: source });

/**
 * Undoes gzip when present, never producing more than `maxOutput` bytes: zlib stops (and this
 * throws) as soon as the output would pass the bound, so a small file that inflates to gigabytes
 * costs no more memory than the bound. `source` names the file in errors.
 */
export function maybeGunzip(bytes: Uint8Array, source: string, maxOutput = MAX_IDX_BYTES): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, maxOutput) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError(`${source}: gzip data inflates to more than ${maxOutput} bytes, the most its IDX header allows; refusing it (a decompression bomb or a corrupt file)`,
        { code: 'gzip_too_large', file: source });
    }
    throw gunzipError(source, err);
  }
}

/** The first bytes of a gzip stream's output (up to `want`), from a short prefix of its input. */
function inflatedPrefix(bytes: Uint8Array, want: number, source: string): Uint8Array {
  try {
    // Z_SYNC_FLUSH lets a truncated input give what it holds instead of failing.
    const head = gunzipSync(bytes.subarray(0, Math.min(bytes.length, HEADER_PROBE_BYTES)), { finishFlush: zconst.Z_SYNC_FLUSH });
    return head.subarray(0, want);
  } catch (err) { throw gunzipError(source, err); }
}

/** Bytes an IDX file must inflate to, from the header at the start of `head` (null: header incomplete). */
function declaredIdxBytes(head: Uint8Array): number | null {
  if (head.length < 4) return null;
  const rank = head[3]!;
  if (head.length < 4 + 4 * rank) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let n = 1;
  for (let i = 0; i < rank; i++) n *= view.getUint32(4 + 4 * i);
  return 4 + 4 * rank + n;
}

/**
 * Parses an IDX buffer (raw or gzipped) of unsigned bytes with the expected rank
 * (3 for images, magic 0x00000803; 1 for labels, magic 0x00000801).
 */
export function parseIdx(bytes: Uint8Array, source: string, expectedRank: number): IdxArray {
  let bound = MAX_IDX_BYTES;
  if (isGzip(bytes)) {
    // Header first (from a small prefix of the stream), then inflate to at most what it declares.
    const declared = declaredIdxBytes(inflatedPrefix(bytes, 4 + 4 * 255, source));
    if (declared !== null && declared > MAX_IDX_BYTES) {
      throw new DataError(`${source}: its header declares ${declared} bytes, above the ${MAX_IDX_BYTES}-byte limit for IDX files`, { code: 'file_too_large', file: source });
    }
    // A little room past the declared size, so trailing garbage is reported as such (below) with its size.
    if (declared !== null) bound = declared + TRAILING_ROOM;
  }
  const buf = maybeGunzip(bytes, source, bound);
  const expectedMagic = hex((UBYTE << 8) | expectedRank);
  if (buf.length < 4) throw new DataError(`${source}: file is ${buf.length} bytes, too short for an IDX header (expected magic ${expectedMagic})`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0);
  const type = buf[2]!;
  const rank = buf[3]!;
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new DataError(`${source}: bad magic number ${hex(magic)}, expected ${expectedMagic}; not an IDX file`);
  }
  if (type !== UBYTE) {
    throw new DataError(`${source}: bad magic number ${hex(magic)}: element type ${TYPE_NAMES[type] ?? `0x${type.toString(16)}`} is not supported, expected uint8 (magic ${expectedMagic})`);
  }
  if (rank !== expectedRank) {
    const hint = rank === 1 ? ' (a labels file?)' : rank === 3 ? ' (an images file?)' : '';
    throw new DataError(`${source}: bad magic number ${hex(magic)}: wrong number of dims ${rank}${hint}, expected ${expectedRank} (magic ${expectedMagic})`);
  }
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) throw new DataError(`${source}: truncated header: ${buf.length} bytes, the ${rank} dims need ${headerBytes}`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const zero = dims.indexOf(0);
  if (zero >= 0) throw new DataError(`${source}: wrong dims [${dims.join(', ')}]: dim ${zero} is zero`);
  // Doubles stay exact far beyond any file size, so an absurd header fails this check instead of overflowing.
  const payload = dims.reduce((a, b) => a * b, 1);
  const present = buf.length - headerBytes;
  if (present < payload) {
    throw new DataError(`${source}: truncated: dims [${dims.join(', ')}] declare ${payload} bytes of data but only ${present} are present`);
  }
  if (present > payload) {
    throw new DataError(`${source}: ${present - payload} unexpected trailing bytes after the ${payload} declared by dims [${dims.join(', ')}]`);
  }
  return { dims, data: new Uint8Array(buf.subarray(headerBytes)) };
}

export interface IdxImages {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  height: number;
  width: number;
}

/** Parses an images file and its labels file and checks that they agree (and that labels < numClasses). */
export function parseIdxPair(
  imageBytes: Uint8Array, imageSource: string, labelBytes: Uint8Array, labelSource: string, numClasses: number,
): IdxImages {
  const img = parseIdx(imageBytes, imageSource, 3);
  const lab = parseIdx(labelBytes, labelSource, 1);
  const [n, height, width] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) {
    throw new DataError(`count mismatch: ${imageSource} holds ${n} images but ${labelSource} holds ${lab.dims[0]} labels`);
  }
  const labels = lab.data;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= numClasses) {
      throw new DataError(`${labelSource}: label ${labels[i]} at index ${i} is out of range; expected 0..${numClasses - 1}`);
    }
  }
  return { images: img.data, labels, n, height, width };
}

/** Reads one IDX file from disk (gzipped or raw). */
export function readIdxFile(file: string, expectedRank: number): IdxArray {
  return parseIdx(readBytes(file), file, expectedRank);
}

/** Reads an images/labels pair of IDX files from disk. */
export function readIdxPair(imagesFile: string, labelsFile: string, numClasses: number): IdxImages {
  return parseIdxPair(readBytes(imagesFile), imagesFile, readBytes(labelsFile), labelsFile, numClasses);
}

function readBytes(file: string): Uint8Array {
  try {
    return readFileBounded(file, { maxBytes: MAX_IDX_BYTES });
  } catch (err) {
    if (err instanceof CatkitError) throw new DataError(err.message, { code: err.code, file });
    throw new DataError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file });
  }
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
