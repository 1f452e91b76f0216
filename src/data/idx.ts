// Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
// a big-endian header [0, 0, type, rank] followed by `rank` uint32 dims, then the row-major payload.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
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

/** Undoes gzip when present; `source` names the file in errors. */
export function maybeGunzip(bytes: Uint8Array, source: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataError(`${source}: corrupt or truncated gzip data (${(err as Error).message})`);
  }
}

/**
 * Parses an IDX buffer (raw or gzipped) of unsigned bytes with the expected rank
 * (3 for images, magic 0x00000803; 1 for labels, magic 0x00000801).
 */
export function parseIdx(bytes: Uint8Array, source: string, expectedRank: number): IdxArray {
  const buf = maybeGunzip(bytes, source);
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
    return readFileSync(file);
  } catch (err) {
    throw new DataError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
