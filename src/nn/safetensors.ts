// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?},
// then the raw little-endian tensor bytes, offsets relative to the end of the header.
// Every header field is distrusted: a bad file gives a SafetensorsError naming the problem, never a crash.
import { constants as bufferConstants } from 'node:buffer';
import os from 'node:os';
import { Tensor, elementBytes, type DType } from '../tensor/index.js';
import { native } from '../tensor/native.js';
import { dtypeCode } from '../tensor/dtype.js';
import { CatkitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { findDuplicateKey } from '../io/json-keys.js';
import { readFileBounded } from '../io/safe-files.js';

const BUFFER_MAX = bufferConstants.MAX_LENGTH;

/** A safetensors file that breaks the format (user-facing: the file is the problem). */
export class SafetensorsError extends CatkitError {
  override name = 'SafetensorsError';
  constructor(message: string, file?: string) { super('safetensors_invalid', message, { file }); }
}

/** Header limit of the reference implementation; anything bigger is corruption, not a header. */
export const MAX_HEADER_BYTES = 100_000_000;

const TO_FILE: Partial<Record<DType, string>> = {
  float32: 'F32', float64: 'F64', float16: 'F16', int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const FROM_FILE: Record<string, { dtype: DType; bytes: number }> = {
  F32: { dtype: 'float32', bytes: 4 }, F64: { dtype: 'float64', bytes: 8 }, F16: { dtype: 'float16', bytes: 2 },
  BF16: { dtype: 'float32', bytes: 2 }, // no bfloat16 in catkit: widened to float32 on load (exact)
  I64: { dtype: 'int64', bytes: 8 }, I32: { dtype: 'int32', bytes: 4 }, I16: { dtype: 'int16', bytes: 2 },
  I8: { dtype: 'int8', bytes: 1 }, U8: { dtype: 'uint8', bytes: 1 }, BOOL: { dtype: 'bool', bytes: 1 },
};

function requireLittleEndian(): void {
  // Typed arrays use host byte order; the format is little-endian.
  if (os.endianness() !== 'LE') throw new SafetensorsError('safetensors: big-endian hosts are not supported');
}

/** Serialises tensors (in map order) plus optional string metadata. The tensors are not consumed. */
export function encodeSafetensors(tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  requireLittleEndian();
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new SafetensorsError("safetensors: '__metadata__' is reserved and cannot name a tensor");
    const fileType = TO_FILE[t.dtype];
    if (!fileType) throw new SafetensorsError(`safetensors: tensor '${name}' has dtype ${t.dtype}, which has no safetensors code`);
    const data = t.dataSync(); // contiguous row-major copy, whatever the tensor's strides
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: fileType, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // pad so the data starts 8-byte aligned, as the reference writer does
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

interface Entry { name: string; dtype: string; shape: number[]; begin: number; end: number }

/** Parses and validates a safetensors byte buffer; the caller owns (and disposes) the returned tensors. */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  requireLittleEndian();
  const { entries, metadata, dataStart } = parseHeader(bytes);
  const tensors = new Map<string, Tensor>();
  try {
    for (const e of entries) tensors.set(e.name, toTensor(e, bytes.subarray(dataStart + e.begin, dataStart + e.end)));
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

function fail(msg: string): never { throw new SafetensorsError(`safetensors: ${msg}`); }

function parseHeader(bytes: Uint8Array): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length (truncated?)`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) fail(`header length ${declared} exceeds the ${bytes.length - 8} bytes after the length field (truncated?)`);
  if (declared > BigInt(MAX_HEADER_BYTES)) fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(declared);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header must be a JSON object');
  // JSON.parse would keep the last of two entries with one name; the format has one entry per tensor.
  const dup = findDuplicateKey(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  if (dup !== null) fail(`header names ${dup} twice; refusing an ambiguous file`);

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') { metadata = parseMetadata(raw); continue; }
    entries.push(parseEntry(name, raw, dataLen));
  }
  // The data region must be covered exactly: no overlaps, no holes, nothing trailing.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev = '';
  for (const e of byOffset) {
    if (e.begin < expected) fail(`tensor '${e.name}' data [${e.begin}, ${e.end}) overlaps tensor '${prev}' (ends at ${expected})`);
    if (e.begin > expected) fail(`tensor '${e.name}' data starts at ${e.begin}, leaving a hole after byte ${expected}`);
    expected = e.end;
    prev = e.name;
  }
  if (expected !== dataLen) fail(`tensor data covers ${expected} bytes but the file holds ${dataLen} after the header`);
  return { entries, metadata, dataStart };
}

function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`__metadata__ '${k}' must be a string, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, raw: unknown, dataLen: number): Entry {
  const where = `tensor '${name}'`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`${where}: entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`${where}: dtype must be a string, got ${JSON.stringify(dtype)}`);
  const info = FROM_FILE[dtype];
  if (!info) fail(`${where}: unsupported dtype '${dtype}' (supported: ${Object.keys(FROM_FILE).join(', ')})`);
  if (!Array.isArray(shape)) fail(`${where}: shape must be an array, got ${JSON.stringify(shape)}`);
  let numel = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`${where}: shape ${JSON.stringify(shape)} must hold non-negative integers`);
    numel *= d;
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) fail(`${where}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
  const [begin, end] = offsets as unknown[];
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < (begin as number)) {
    fail(`${where}: data_offsets ${JSON.stringify(offsets)} must be integers with 0 <= begin <= end`);
  }
  const b = begin as number, e = end as number;
  if (e > dataLen) fail(`${where}: data_offsets [${b}, ${e}] run past the ${dataLen} data bytes in the file (truncated?)`);
  if (numel * info.bytes !== e - b) {
    fail(`${where}: shape [${shape.join(', ')}] as ${dtype} needs ${numel * info.bytes} bytes but data_offsets span ${e - b}`);
  }
  return { name, dtype, shape: shape as number[], begin: b, end: e };
}

function toTensor(e: Entry, raw: Uint8Array): Tensor {
  if (e.dtype === 'BF16') {
    // bfloat16 is the top half of a float32: shift the 16 bits up.
    const out = new Uint32Array(raw.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = (raw[2 * i]! | (raw[2 * i + 1]! << 8)) << 16;
    return fromBytes(new Uint8Array(out.buffer), e.shape, 'float32');
  }
  if (e.dtype === 'BOOL') {
    const bad = raw.findIndex((v) => v > 1);
    if (bad >= 0) fail(`tensor '${e.name}': BOOL element ${bad} holds ${raw[bad]}, expected 0 or 1`);
  }
  return fromBytes(raw, e.shape, FROM_FILE[e.dtype]!.dtype);
}

/** Copies raw little-endian bytes into a new tensor (any dtype, any alignment of `raw`). */
function fromBytes(raw: Uint8Array, shape: number[], dtype: DType): Tensor {
  if (raw.length !== shape.reduce((a, b) => a * b, 1) * elementBytes(dtype)) throw new Error('internal: byte count mismatch');
  return new Tensor(native.fromBuffer(raw, shape, dtypeCode(dtype)));
}

/** Writes atomically (src/io/atomic-write.ts): a crash never leaves a half-written file under `file`. */
export function saveSafetensors(file: string, tensors: ReadonlyMap<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** Reads and validates a safetensors file; errors name the file. The caller owns the tensors. */
export function loadSafetensors(file: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  let bytes: Buffer;
  try {
    // A regular file only (not a device or pipe), read at the size it has when opened.
    bytes = readFileBounded(file, { maxBytes: BUFFER_MAX });
  } catch (err) {
    if (err instanceof CatkitError) throw new SafetensorsError(err.message, file);
    throw err;
  }
  try {
    return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    if (err instanceof SafetensorsError) throw new SafetensorsError(`${file}: ${err.message}`, file);
    throw err;
  }
}
