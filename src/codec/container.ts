// The catkit container: a versioned header, the code table (or the fingerprint of an external static
// table), the payload and a CRC-32. Every header field is distrusted: sizes must fit the bytes present, the
// element count must be under the caller's limit before anything is allocated, and the checksum is verified
// before the payload is decoded.
//
//   "CATK"  magic                     u8  version (1)        u8  mode (0 raw, 1 constant, 2 Huffman, 3 rANS, 4 zero-run)
//   u8  flags (bit 0: external table) varint alphabet − 1   varint element count
//   varint table bytes, table         varint payload bytes, payload
//   u32le CRC-32 of every preceding byte (header, table and payload)
import { BitWriter, BitReader, ByteReader, ByteWriter } from './bitio.js';
import { CODECS, codecFor, type CodecName, type CodecOptions, type EntropyTable } from './codecs.js';
import { crc32 } from './crc32.js';
import { fail } from './errors.js';
import { checkAlphabetSize, histogram, MAX_ALPHABET, type SymbolArray } from './entropy.js';
import { allocSymbols } from './huffman.js';

export const MAGIC = [0x43, 0x41, 0x54, 0x4b];  // "CATK"
export const FORMAT_VERSION = 1;
/** Default decoder limit on declared elements (2^27 ≈ 134 M: a ResNet stem activation at batch 128 fits). */
export const DEFAULT_MAX_ELEMENTS = 2 ** 27;

export type ContainerMode = 'raw' | 'constant' | CodecName;
const MODE_IDS: Record<ContainerMode, number> = { raw: 0, constant: 1, huffman: 2, rans: 3, zerorun: 4 };
const MODES: readonly ContainerMode[] = ['raw', 'constant', 'huffman', 'rans', 'zerorun'];
const FLAG_EXTERNAL_TABLE = 1;

export interface EncodeOptions extends CodecOptions {
  /** Coder to use; 'auto' tries every one (and raw) and keeps the smallest. Default 'auto'. */
  codec?: CodecName | 'raw' | 'auto';
  /** Alphabet size (default 256 for Uint8Array, 65536 for Uint16Array). Symbols must be below it. */
  alphabetSize?: number;
  /** Code with this (static, calibration-fitted) table instead of the data's own; it is not stored. */
  staticTable?: EntropyTable;
  /**
   * The symbols' histogram over the alphabet, when the caller already has it (the ledger counts once
   * for every coder). Trusted: it must come from `histogram(symbols, alphabetSize)`, which checks the range.
   */
  counts?: Uint32Array;
}

export interface DecodeOptions {
  /** The static table the stream was coded with, if its header says the table is external. */
  staticTable?: EntropyTable;
  /** Refuse streams that declare more elements than this (default 2^27), before allocating. */
  maxElements?: number;
}

/** Sizes of each part of an encoded container, for bandwidth accounting. */
export interface ContainerParts {
  readonly bytes: Uint8Array;
  readonly mode: ContainerMode;
  readonly externalTable: boolean;
  readonly alphabetSize: number;
  readonly count: number;
  readonly headerBytes: number;   // magic … element count, plus the two length varints
  readonly tableBytes: number;    // serialized table, or the 4-byte fingerprint of an external table
  readonly payloadBytes: number;
  readonly checksumBytes: number;
}

export interface ContainerHeader {
  readonly version: number;
  readonly mode: ContainerMode;
  readonly externalTable: boolean;
  readonly alphabetSize: number;
  readonly count: number;
  readonly tableStart: number;
  readonly tableEnd: number;
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

function defaultAlphabet(symbols: SymbolArray): number {
  return symbols instanceof Uint8Array ? 256 : MAX_ALPHABET;
}

/** Bits per symbol of raw packing: ⌈log2 alphabetSize⌉. */
export function rawWidth(alphabetSize: number): number {
  return alphabetSize <= 1 ? 0 : 32 - Math.clz32(alphabetSize - 1);
}

function rawEncode(symbols: SymbolArray, width: number): Uint8Array {
  if (width === 8 && symbols instanceof Uint8Array) return symbols.slice();
  const bw = new BitWriter(Math.ceil((symbols.length * width) / 8) + 8);
  for (let i = 0; i < symbols.length; i++) bw.write(symbols[i], width);
  return bw.finish();
}

function rawDecode(src: Uint8Array, count: number, alphabetSize: number, start: number, end: number): SymbolArray {
  const width = rawWidth(alphabetSize);
  const need = Math.ceil((count * width) / 8);
  if (end - start !== need) fail('srcSize_wrong', `raw: ${count} symbols of ${width} bits need ${need} bytes, payload has ${end - start}`, start);
  const out = allocSymbols(alphabetSize, count);
  if (width === 8 && out instanceof Uint8Array) { out.set(src.subarray(start, end)); return out; }
  const br = new BitReader(src, start, end, 'raw payload');
  for (let i = 0; i < count; i++) {
    const s = br.read(width);
    if (s >= alphabetSize) fail('corruption_detected', `raw: symbol ${s} at index ${i} outside the alphabet of ${alphabetSize}`, start + ((i * width) >>> 3));
    out[i] = s;
  }
  br.assertEnd();
  return out;
}

const tableFingerprints = new WeakMap<EntropyTable, { bytes: Uint8Array; crc: number }>();
/** CRC-32 of a table's serialized form: what a container coded with it as an external table refers to. */
export function tableFingerprint(t: EntropyTable): number { return serializedTable(t).crc; }
function serializedTable(t: EntropyTable): { bytes: Uint8Array; crc: number } {
  let v = tableFingerprints.get(t);
  if (!v) {
    const bytes = CODECS[t.kind].writeTable(t);
    v = { bytes, crc: crc32(bytes) };
    tableFingerprints.set(t, v);
  }
  return v;
}

/**
 * The container's bytes before the payload-length varint: header, table length and the table (or an
 * external table's 4-byte fingerprint). Exported for coding backends that write the rest themselves.
 */
export function containerHead(mode: ContainerMode, external: boolean, alphabetSize: number, count: number, tableLength: number): Uint8Array {
  const head = new ByteWriter(32);
  for (const b of MAGIC) head.u8(b);
  head.u8(FORMAT_VERSION).u8(MODE_IDS[mode]).u8(external ? FLAG_EXTERNAL_TABLE : 0).varint(alphabetSize - 1).varint(count).varint(tableLength);
  return head.finish();
}

function assemble(mode: ContainerMode, external: boolean, alphabetSize: number, count: number, table: Uint8Array, payload: Uint8Array): ContainerParts {
  const headBytes = containerHead(mode, external, alphabetSize, count, table.length), payloadLength = new ByteWriter(8).varint(payload.length).finish();
  // One allocation at the final size: the payload can be most of the container.
  const bytes = new Uint8Array(headBytes.length + table.length + payloadLength.length + payload.length + 4);
  let at = 0;
  for (const part of [headBytes, table, payloadLength, payload]) { bytes.set(part, at); at += part.length; }
  const crc = crc32(bytes, 0, at);
  bytes[at] = crc; bytes[at + 1] = crc >>> 8; bytes[at + 2] = crc >>> 16; bytes[at + 3] = crc >>> 24;
  return {
    bytes, mode, externalTable: external, alphabetSize, count,
    headerBytes: headBytes.length + payloadLength.length, tableBytes: table.length, payloadBytes: payload.length, checksumBytes: 4,
  };
}

/** Encodes with one specific mode and reports the size of every part. */
export function encodeContainerParts(symbols: SymbolArray, options: EncodeOptions = {}): ContainerParts {
  const alphabetSize = options.alphabetSize ?? options.staticTable?.alphabetSize ?? defaultAlphabet(symbols);
  checkAlphabetSize(alphabetSize, 'encodeContainer');
  if (symbols.length > 0xffffffff) fail('count_tooLarge', `encodeContainer: ${symbols.length} symbols exceed the format's 2^32 − 1`);
  if (options.counts && options.counts.length !== alphabetSize) fail('parameter_invalid', `encodeContainer: ${options.counts.length} counts for an alphabet of ${alphabetSize}`);
  const counts = options.counts ?? histogram(symbols, alphabetSize);  // also rejects symbols outside the alphabet
  const choice = options.codec ?? (options.staticTable ? options.staticTable.kind : 'auto');
  if (choice !== 'auto' && choice !== 'raw') codecFor(choice);  // reject unknown names even for degenerate input
  const n = symbols.length;

  if (options.staticTable) {
    const t = options.staticTable;
    if (choice !== t.kind) fail('parameter_invalid', `encodeContainer: codec '${choice}' does not match the static ${t.kind} table`);
    if (t.alphabetSize !== alphabetSize) fail('table_mismatch', `encodeContainer: static table alphabet ${t.alphabetSize} ≠ alphabet ${alphabetSize}`);
    const fp = serializedTable(t).crc;
    const ref = new Uint8Array([fp, fp >>> 8, fp >>> 16, fp >>> 24]);
    return assemble(t.kind, true, alphabetSize, n, ref, CODECS[t.kind].encode(symbols, t, counts));
  }
  if (choice === 'raw') return assemble('raw', false, alphabetSize, n, new Uint8Array(0), rawEncode(symbols, rawWidth(alphabetSize)));
  // Degenerate inputs (zstd's RLE block): one distinct symbol costs no payload whatever the coder.
  let distinct = 0, only = 0;
  for (let s = 0; s < alphabetSize && distinct < 2; s++) if (counts[s] > 0) { distinct++; only = s; }
  if (distinct === 1 || n === 0) {
    return assemble('constant', false, alphabetSize, n, new ByteWriter(4).varint(only).finish(), new Uint8Array(0));
  }
  const coded = (name: CodecName): ContainerParts => {
    const codec = CODECS[name];
    const { table, payload } = codec.fitAndEncode(symbols, counts, alphabetSize, options);
    return assemble(name, false, alphabetSize, n, codec.writeTable(table), payload);
  };
  if (choice !== 'auto') return coded(choice);
  let best = assemble('raw', false, alphabetSize, n, new Uint8Array(0), rawEncode(symbols, rawWidth(alphabetSize)));
  for (const name of ['huffman', 'rans', 'zerorun'] as const) {
    const c = coded(name);
    if (c.bytes.length < best.bytes.length) best = c;
  }
  return best;
}

/** Encodes `symbols` into a self-checking container (see the file header for the layout). */
export function encodeContainer(symbols: SymbolArray, options: EncodeOptions = {}): Uint8Array {
  return encodeContainerParts(symbols, options).bytes;
}

/** Parses and validates the header and the checksum without decoding the payload. */
export function readContainerHeader(src: Uint8Array, options: DecodeOptions = {}): ContainerHeader {
  const r = new ByteReader(src, 0, src.length, 'container');
  for (let k = 0; k < 4; k++) {
    if (r.u8('magic') !== MAGIC[k]) fail('magic_wrong', 'container: not a catkit stream (magic "CATK" missing)', k);
  }
  const version = r.u8('version');
  if (version !== FORMAT_VERSION) fail('version_unsupported', `container: format version ${version}, this decoder reads ${FORMAT_VERSION}`, 4);
  const modeId = r.u8('mode');
  if (modeId >= MODES.length) fail('codec_unknown', `container: unknown mode ${modeId}`, 5);
  const flags = r.u8('flags');
  if ((flags & ~FLAG_EXTERNAL_TABLE) !== 0) fail('corruption_detected', `container: unknown flag bits 0x${flags.toString(16)}`, 6);
  const alphabetSize = r.varint('alphabet size') + 1;
  if (alphabetSize > MAX_ALPHABET) fail('alphabet_invalid', `container: alphabet of ${alphabetSize} symbols exceeds ${MAX_ALPHABET}`, 7);
  const countAt = r.pos;
  const count = r.varint('element count');
  const maxElements = options.maxElements ?? DEFAULT_MAX_ELEMENTS;
  if (count > maxElements) fail('count_tooLarge', `container: ${count} elements declared, the decoder's limit is ${maxElements} (DecodeOptions.maxElements)`, countAt);
  const tableLen = r.varint('table length');
  const tableStart = r.pos;
  r.bytes(tableLen, 'table');
  const payloadLen = r.varint('payload length');
  const payloadStart = r.pos;
  r.bytes(payloadLen, 'payload');
  const payloadEnd = r.pos;
  const stored = r.u32le('checksum');
  if (r.left !== 0) fail('srcSize_wrong', `container: ${r.left} bytes after the checksum`, r.pos);
  const actual = crc32(src, 0, payloadEnd);
  if (stored !== actual) fail('checksum_wrong', `container: CRC-32 is ${actual.toString(16).padStart(8, '0')}, header says ${stored.toString(16).padStart(8, '0')}`, payloadEnd);
  return {
    version, mode: MODES[modeId], externalTable: (flags & FLAG_EXTERNAL_TABLE) !== 0, alphabetSize, count,
    tableStart, tableEnd: tableStart + tableLen, payloadStart, payloadEnd,
  };
}

/**
 * Decodes a container. Anything malformed throws a CodecError; accidental damage is caught by the CRC-32,
 * and a deliberately forged stream still decodes within the element limit and time linear in its size.
 */
export function decodeContainer(src: Uint8Array, options: DecodeOptions = {}): SymbolArray {
  const h = readContainerHeader(src, options);
  const { mode, alphabetSize, count, tableStart, tableEnd, payloadStart, payloadEnd } = h;
  if (mode === 'raw' || mode === 'constant') {
    if (h.externalTable) fail('corruption_detected', `container: ${mode} mode cannot use an external table`, 6);
    if (mode === 'raw') {
      if (tableEnd !== tableStart) fail('corruption_detected', 'container: raw mode has no table', tableStart);
      return rawDecode(src, count, alphabetSize, payloadStart, payloadEnd);
    }
    const tr = new ByteReader(src, tableStart, tableEnd, 'constant table');
    const symbol = tr.varint('symbol');
    if (tr.left !== 0 || payloadEnd !== payloadStart) fail('corruption_detected', 'container: constant mode carries one varint symbol and no payload', tableStart);
    if (symbol >= alphabetSize) fail('corruption_detected', `container: constant symbol ${symbol} outside the alphabet of ${alphabetSize}`, tableStart);
    const out = allocSymbols(alphabetSize, count);
    if (symbol !== 0) out.fill(symbol);
    return out;
  }
  const codec = CODECS[mode];
  let table: EntropyTable;
  if (h.externalTable) {
    const t = options.staticTable;
    if (!t) fail('table_missing', `container: stream was coded with an external ${mode} table; pass it as DecodeOptions.staticTable`, tableStart);
    if (t.kind !== mode || t.alphabetSize !== alphabetSize) fail('table_mismatch', `container: needs a ${mode} table over ${alphabetSize} symbols, got ${t.kind} over ${t.alphabetSize}`, tableStart);
    const tr = new ByteReader(src, tableStart, tableEnd, 'table fingerprint');
    const fp = tr.u32le('table fingerprint');
    if (tr.left !== 0) fail('corruption_detected', 'container: external table reference must be 4 bytes', tableStart);
    if (fp !== serializedTable(t).crc) fail('table_mismatch', 'container: the static table supplied is not the one the stream was coded with', tableStart);
    table = t;
  } else {
    const parsed = codec.readTable(src, alphabetSize, tableStart, tableEnd);
    if (tableStart + parsed.bytes !== tableEnd) fail('corruption_detected', `container: table uses ${parsed.bytes} of its ${tableEnd - tableStart} bytes`, tableStart + parsed.bytes);
    table = parsed.table;
  }
  return codec.decode(src, count, table, payloadStart, payloadEnd);
}
