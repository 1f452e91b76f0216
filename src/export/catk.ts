// The .catk model file: everything needed to run a CAT-trained network without the trainer.
//
//   "CATM"  magic      u8 version (1)   3 zero bytes
//   u32le header bytes   u32le CRC-32 of the header
//   header: UTF-8 JSON { format, version, graph, tensors[], meta, dataBytes }
//   data:   the tensors' blobs back to back, in header order
//
// A quantized tensor's blob is a catkit codec container (src/codec/container.ts: rANS with the
// tensor's own static table, or raw b-bit packing when coding does not pay, or constant) holding
// its b-bit codes; the header gives its grid (scale, inv, min per tensor or per output channel;
// values are codes/inv + min, src/export/weights.ts). Other
// tensors (batch-norm parameters, biases, unquantized layers) are raw float32 little-endian with a
// CRC-32 in their header entry. Reading trusts nothing: the file length must be exactly what the
// header declares, every size is bounded before allocation, and every blob is checksummed, so a
// truncated, corrupted or foreign file is refused with a message naming the part that is wrong.
import { CatkitError } from '../errors.js';
import { crc32 } from '../codec/crc32.js';
import { decodeContainer, encodeContainerParts, readContainerHeader, type ContainerMode } from '../codec/container.js';
import { CodecError } from '../codec/errors.js';
import type { SymbolArray } from '../codec/entropy.js';
import { checkGraph, GraphError, nodeTensors, type Graph, type ValueShape } from './graph.js';
import { dequantize, type QuantizedTensor } from './weights.js';

export const CATK_MAGIC = 'CATM';
export const CATK_VERSION = 1;
const PRELUDE_BYTES = 16;
/** Limits checked before anything is allocated. */
export const CATK_LIMITS = { headerBytes: 64 << 20, tensors: 100_000, tensorElements: 2 ** 27, totalElements: 2 ** 29 } as const;

export type CatkErrorCode = 'catk_magic' | 'catk_version' | 'catk_truncated' | 'catk_crc' | 'catk_header' | 'catk_tensor';
export class CatkError extends CatkitError {
  override name = 'CatkError';
  constructor(code: CatkErrorCode, message: string, file?: string) { super(code, file ? `${file}: ${message}` : message, { file }); }
}

/** Run metadata stored with the model (free-form JSON besides the fields the runtime reads). */
export interface CatkMeta {
  /** Registry name and builder spec, so the native engine can rebuild the same modules. */
  model: string;
  spec: { inChannels: number; numClasses: number; widthMultiplier: number };
  dataset: string;
  classNames: string[];
  /** Input normalisation: x = (pixel / 255 − mean[c]) / std[c]. */
  normalization: { mean: number[]; std: number[] };
  /** Zero padding of inputs to a square side (0: none) and bilinear resize (0: none), as the run's loader did. */
  preprocess: { padTo: number; resize: number };
  accuracy: { top1: number; n: number } | null;
  actBits: number | null;
  weightBits: number | null;
  [k: string]: unknown;
}

export type TensorInput = { name: string; shape: number[] } & ({ values: Float32Array } | { quantized: QuantizedTensor });

/** Header entry of one tensor. */
export interface TensorEntry {
  name: string;
  shape: number[];
  /** 'f32': raw float32; 'q': codes in a codec container. */
  kind: 'f32' | 'q';
  bits?: number;
  axis?: 0 | null;
  scale?: number[];
  /** (2^b − 1)/span per group as float32: values are codes/inv + min. */
  inv?: number[];
  min?: number[];
  /** Container mode of a quantized tensor (raw, constant, rans). */
  encoding: 'f32' | ContainerMode;
  offset: number;
  length: number;
  /** CRC-32 of an f32 blob (containers carry their own). */
  crc?: number;
}

interface Header { format: 'catkit-model'; version: number; graph: Graph; tensors: TensorEntry[]; meta: CatkMeta; dataBytes: number }

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Encodes the codes of one tensor: rANS with its own table, or raw packing, whichever is smaller. */
function encodeCodes(codes: SymbolArray, bits: number): { bytes: Uint8Array; mode: ContainerMode } {
  const alphabetSize = 2 ** bits;
  const raw = encodeContainerParts(codes, { codec: 'raw', alphabetSize });
  const rans = encodeContainerParts(codes, { codec: 'rans', alphabetSize });
  const best = rans.bytes.length < raw.bytes.length ? rans : raw;
  return { bytes: best.bytes, mode: best.mode };
}

function f32Bytes(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) dv.setFloat32(4 * i, v[i]!, true);
  return out;
}

/** Writes a .catk file's bytes. The graph is checked against the tensors first. */
export function writeCatk(graph: Graph, tensors: readonly TensorInput[], meta: CatkMeta): Uint8Array {
  const shapes = new Map(tensors.map((t) => [t.name, t.shape]));
  checkGraph(JSON.parse(JSON.stringify(graph)), shapes);
  const entries: TensorEntry[] = [];
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    let blob: Uint8Array, entry: TensorEntry;
    if ('values' in t) {
      if (t.values.length !== numel(t.shape)) throw new RangeError(`writeCatk: tensor '${t.name}' has ${t.values.length} values for shape [${t.shape}]`);
      blob = f32Bytes(t.values);
      entry = { name: t.name, shape: [...t.shape], kind: 'f32', encoding: 'f32', offset, length: blob.length, crc: crc32(blob) };
    } else {
      const q = t.quantized;
      if (q.codes.length !== numel(t.shape)) throw new RangeError(`writeCatk: tensor '${t.name}' has ${q.codes.length} codes for shape [${t.shape}]`);
      const { bytes, mode } = encodeCodes(q.codes, q.bits);
      blob = bytes;
      entry = { name: t.name, shape: [...t.shape], kind: 'q', bits: q.bits, axis: q.axis, scale: q.scale.map(Math.fround), inv: q.inv.map(Math.fround), min: q.min.map(Math.fround), encoding: mode, offset, length: blob.length };
    }
    entries.push(entry);
    blobs.push(blob);
    offset += blob.length;
  }
  const header: Header = { format: 'catkit-model', version: CATK_VERSION, graph, tensors: entries, meta, dataBytes: offset };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(PRELUDE_BYTES + json.length + offset);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = CATK_MAGIC.charCodeAt(i);
  out[4] = CATK_VERSION;
  dv.setUint32(8, json.length, true);
  dv.setUint32(12, crc32(json), true);
  out.set(json, PRELUDE_BYTES);
  let at = PRELUDE_BYTES + json.length;
  for (const b of blobs) { out.set(b, at); at += b.length; }
  return out;
}

/** A decoded tensor: float32 values, and the codes and grid when it was stored quantized. */
export interface LoadedTensor { entry: TensorEntry; values: Float32Array; quantized: QuantizedTensor | null }

export interface CatkModel {
  graph: Graph;
  /** Shape of every graph value without the batch dimension. */
  shapes: Map<string, ValueShape>;
  tensors: Map<string, LoadedTensor>;
  meta: CatkMeta;
  /** Byte counts: prelude + header JSON, and tensor data. */
  sizes: { file: number; header: number; data: number };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one header tensor entry (types, bounds, layout) without touching its blob. */
function checkEntry(v: unknown, i: number, expectOffset: number, dataBytes: number, file?: string): TensorEntry {
  const bad = (msg: string): never => { throw new CatkError('catk_header', msg, file); };
  if (!isObj(v) || typeof v.name !== 'string' || v.name.length === 0 || v.name.length > 512) return bad(`tensor entry ${i} has no valid name`);
  const what = `tensor '${v.name}'`;
  if (!Array.isArray(v.shape) || v.shape.length > 8 || !v.shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 1 << 24)) return bad(`${what}: invalid shape ${JSON.stringify(v.shape)}`);
  const n = numel(v.shape as number[]);
  if (n > CATK_LIMITS.tensorElements) return bad(`${what}: ${n} elements exceed the limit of ${CATK_LIMITS.tensorElements}`);
  if (!Number.isInteger(v.offset) || v.offset !== expectOffset) return bad(`${what}: offset ${JSON.stringify(v.offset)}, expected ${expectOffset} (blobs are stored back to back)`);
  if (!Number.isInteger(v.length) || (v.length as number) < 0 || expectOffset + (v.length as number) > dataBytes) return bad(`${what}: length ${JSON.stringify(v.length)} runs past the ${dataBytes} data bytes`);
  const base = { name: v.name, shape: v.shape as number[], offset: v.offset as number, length: v.length as number };
  if (v.kind === 'f32') {
    if (base.length !== 4 * n) return bad(`${what}: float32 blob of ${base.length} bytes for ${n} elements`);
    if (!Number.isInteger(v.crc) || (v.crc as number) < 0 || (v.crc as number) > 0xffffffff) return bad(`${what}: missing CRC-32`);
    return { ...base, kind: 'f32', encoding: 'f32', crc: v.crc as number };
  }
  if (v.kind !== 'q') return bad(`${what}: kind must be f32 or q, got ${JSON.stringify(v.kind)}`);
  if (!Number.isInteger(v.bits) || (v.bits as number) < 1 || (v.bits as number) > 16) return bad(`${what}: bits must be 1…16, got ${JSON.stringify(v.bits)}`);
  if (v.axis !== null && v.axis !== 0) return bad(`${what}: axis must be null or 0`);
  const groups = v.axis === null ? 1 : (v.shape as number[])[0]!;
  for (const key of ['scale', 'inv', 'min'] as const) {
    const a = v[key];
    if (!Array.isArray(a) || a.length !== groups || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) return bad(`${what}: ${key} must list ${groups} finite number(s)`);
  }
  if (!(v.scale as number[]).every((s) => s >= 0)) return bad(`${what}: negative scale`);
  if (!(v.inv as number[]).every((s) => s > 0)) return bad(`${what}: inv must be positive`);
  if (!['raw', 'constant', 'rans', 'huffman', 'zerorun'].includes(v.encoding as string)) return bad(`${what}: unknown encoding ${JSON.stringify(v.encoding)}`);
  return { ...base, kind: 'q', bits: v.bits as number, axis: v.axis as 0 | null, scale: v.scale as number[], inv: v.inv as number[], min: v.min as number[], encoding: v.encoding as ContainerMode };
}

function checkMeta(v: unknown, file?: string): CatkMeta {
  const bad = (msg: string): never => { throw new CatkError('catk_header', `meta: ${msg}`, file); };
  if (!isObj(v)) return bad('missing');
  if (typeof v.model !== 'string') bad('model name missing');
  const spec = v.spec;
  if (!isObj(spec) || ![spec.inChannels, spec.numClasses].every((x) => Number.isInteger(x) && (x as number) >= 1) || typeof spec.widthMultiplier !== 'number') bad('spec must hold inChannels, numClasses, widthMultiplier');
  if (!Array.isArray(v.classNames) || !v.classNames.every((c) => typeof c === 'string')) bad('classNames must be a list of strings');
  const norm = v.normalization;
  if (!isObj(norm) || !Array.isArray(norm.mean) || !Array.isArray(norm.std) || norm.mean.length !== norm.std.length
    || ![...norm.mean, ...norm.std].every((x) => typeof x === 'number' && Number.isFinite(x)) || !(norm.std as number[]).every((s) => s > 0)) bad('normalization must hold mean and std lists of equal length (std > 0)');
  const pre = v.preprocess;
  if (!isObj(pre) || !Number.isInteger(pre.padTo) || !Number.isInteger(pre.resize) || (pre.padTo as number) < 0 || (pre.resize as number) < 0) bad('preprocess must hold padTo and resize (non-negative integers)');
  return v as unknown as CatkMeta;
}

/** Parses and validates the prelude and header (no tensor decoding). */
export function readCatkHeader(bytes: Uint8Array, file?: string): { header: Header; dataStart: number } {
  if (bytes.length < PRELUDE_BYTES) throw new CatkError('catk_truncated', `truncated: ${bytes.length} bytes, shorter than the ${PRELUDE_BYTES}-byte prelude of a .catk file`, file);
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (magic !== CATK_MAGIC) throw new CatkError('catk_magic', `not a .catk model file (magic ${JSON.stringify(magic)}, expected "${CATK_MAGIC}")`, file);
  if (bytes[4] !== CATK_VERSION) throw new CatkError('catk_version', `format version ${bytes[4]} is not supported (this catkit reads version ${CATK_VERSION})`, file);
  if (bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) throw new CatkError('catk_header', 'reserved prelude bytes are not zero', file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = dv.getUint32(8, true);
  if (headerBytes > CATK_LIMITS.headerBytes) throw new CatkError('catk_header', `header of ${headerBytes} bytes exceeds the limit of ${CATK_LIMITS.headerBytes}`, file);
  if (PRELUDE_BYTES + headerBytes > bytes.length) throw new CatkError('catk_truncated', `truncated: the header needs ${headerBytes} bytes, the file has ${bytes.length - PRELUDE_BYTES} after the prelude`, file);
  const json = bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headerBytes);
  const crc = crc32(json);
  if (crc !== dv.getUint32(12, true)) throw new CatkError('catk_crc', `header CRC-32 mismatch (computed ${crc.toString(16).padStart(8, '0')}, stored ${dv.getUint32(12, true).toString(16).padStart(8, '0')}): the file is corrupted`, file);
  let h: unknown;
  try { h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json)); } catch (e) {
    throw new CatkError('catk_header', `header is not valid UTF-8 JSON: ${(e as Error).message}`, file);
  }
  if (!isObj(h) || h.format !== 'catkit-model') throw new CatkError('catk_header', 'header does not describe a catkit model', file);
  if (h.version !== CATK_VERSION) throw new CatkError('catk_version', `header version ${JSON.stringify(h.version)} is not supported (this catkit reads version ${CATK_VERSION})`, file);
  const dataStart = PRELUDE_BYTES + headerBytes;
  if (!Number.isInteger(h.dataBytes) || (h.dataBytes as number) < 0) throw new CatkError('catk_header', 'dataBytes missing', file);
  const dataBytes = h.dataBytes as number;
  if (dataStart + dataBytes > bytes.length) throw new CatkError('catk_truncated', `truncated: ${dataBytes} bytes of tensor data declared, ${bytes.length - dataStart} present`, file);
  if (dataStart + dataBytes < bytes.length) throw new CatkError('catk_header', `${bytes.length - dataStart - dataBytes} unexpected bytes after the tensor data`, file);
  if (!Array.isArray(h.tensors) || h.tensors.length > CATK_LIMITS.tensors) throw new CatkError('catk_header', 'tensor list missing or too long', file);
  let offset = 0, total = 0;
  const names = new Set<string>();
  const tensors = h.tensors.map((v, i) => {
    const e = checkEntry(v, i, offset, dataBytes, file);
    if (names.has(e.name)) throw new CatkError('catk_header', `tensor '${e.name}' is listed twice`, file);
    names.add(e.name);
    offset += e.length;
    total += numel(e.shape);
    if (total > CATK_LIMITS.totalElements) throw new CatkError('catk_header', `more than ${CATK_LIMITS.totalElements} tensor elements in total`, file);
    return e;
  });
  if (offset !== dataBytes) throw new CatkError('catk_header', `tensor blobs cover ${offset} of the ${dataBytes} data bytes`, file);
  return { header: { format: 'catkit-model', version: CATK_VERSION, graph: h.graph as Graph, tensors, meta: checkMeta(h.meta, file), dataBytes }, dataStart };
}

/** Decodes one tensor's blob (CRC-checked), naming the tensor in any error. */
function decodeEntry(bytes: Uint8Array, dataStart: number, e: TensorEntry, file?: string): LoadedTensor {
  const blob = bytes.subarray(dataStart + e.offset, dataStart + e.offset + e.length);
  const n = numel(e.shape);
  if (e.kind === 'f32') {
    const crc = crc32(blob);
    if (crc !== e.crc) throw new CatkError('catk_crc', `tensor '${e.name}': CRC-32 mismatch (computed ${crc.toString(16).padStart(8, '0')}, stored ${e.crc!.toString(16).padStart(8, '0')}): the file is corrupted`, file);
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = dv.getFloat32(4 * i, true);
    return { entry: e, values, quantized: null };
  }
  let codes: SymbolArray;
  try {
    const h = readContainerHeader(blob, { maxElements: n });
    if (h.count !== n) throw new CatkError('catk_tensor', `tensor '${e.name}': ${h.count} codes stored for shape [${e.shape.join(', ')}] (${n} elements)`, file);
    if (h.alphabetSize !== 2 ** e.bits!) throw new CatkError('catk_tensor', `tensor '${e.name}': codes over ${h.alphabetSize} symbols, header says ${e.bits} bits`, file);
    if (h.mode !== e.encoding) throw new CatkError('catk_tensor', `tensor '${e.name}': stored as ${h.mode}, header says ${e.encoding}`, file);
    codes = decodeContainer(blob, { maxElements: n });
  } catch (err) {
    if (err instanceof CodecError) {
      const code = err.code === 'checksum_wrong' ? 'catk_crc' : err.code === 'srcSize_wrong' ? 'catk_truncated' : 'catk_tensor';
      throw new CatkError(code, `tensor '${e.name}': ${err.message}`, file);
    }
    throw err;
  }
  const quantized: QuantizedTensor = { bits: e.bits!, axis: e.axis ?? null, scale: e.scale!, inv: e.inv!, min: e.min!, codes };
  return { entry: e, values: dequantize(quantized, e.shape), quantized };
}

/** Reads and fully validates a .catk file: header, graph against the tensors, and every tensor. */
export function readCatk(bytes: Uint8Array, file?: string): CatkModel {
  const { header, dataStart } = readCatkHeader(bytes, file);
  const shapes = new Map(header.tensors.map((e) => [e.name, e.shape]));
  let checked: ReturnType<typeof checkGraph>;
  try { checked = checkGraph(header.graph, shapes); } catch (e) {
    if (e instanceof GraphError) throw new CatkError('catk_header', `graph: ${e.message}`, file);
    throw e;
  }
  const used = new Set(checked.graph.nodes.flatMap((n) => nodeTensors(n).map((t) => t.key)));
  const unused = header.tensors.find((e) => !used.has(e.name));
  if (unused) throw new CatkError('catk_header', `tensor '${unused.name}' is not used by the graph`, file);
  const tensors = new Map(header.tensors.map((e) => [e.name, decodeEntry(bytes, dataStart, e, file)]));
  return { graph: checked.graph, shapes: checked.shapes, tensors, meta: header.meta, sizes: { file: bytes.length, header: dataStart, data: header.dataBytes } };
}
