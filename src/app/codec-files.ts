// Encoding and decoding raw symbol files with the codec library (`catkit codec encode|decode`).
// Engine-free: only the codecs and node:fs.
import { constants as bufferConstants } from 'node:buffer';
import { writeFileAtomic } from '../io/atomic-write.js';
import { readFileBounded } from '../io/safe-files.js';
import { refuseOutputIsInput } from '../io/same-path.js';
import type { CodecName } from '../codec/codecs.js';
import { decodeContainer, encodeContainerParts, readContainerHeader } from '../codec/container.js';
import { histogram, shannonEntropy, type SymbolArray } from '../codec/entropy.js';
import { CatkitError, InternalError } from '../errors.js';

function readFile(path: string): Uint8Array {
  try {
    // A regular file only: a device such as /dev/zero is refused instead of read until memory runs out.
    return new Uint8Array(readFileBounded(path, { maxBytes: bufferConstants.MAX_LENGTH }));
  } catch (e) {
    throw new CatkitError('bad_input', e instanceof CatkitError ? e.message : `cannot read '${path}': ${(e as Error).message}`, { file: path });
  }
}

function writeFile(path: string, data: Uint8Array): void {
  try {
    writeFileAtomic(path, data);
  } catch (e) {
    throw new CatkitError('bad_input', `cannot write '${path}': ${(e as Error).message}`);
  }
}

/** Raw symbol files: one byte per symbol (width 8) or little-endian 16-bit words (width 16). */
export function parseRawSymbols(bytes: Uint8Array, width: 8 | 16, path = 'input'): SymbolArray {
  if (width === 8) return bytes;
  if (bytes.length % 2 !== 0) throw new CatkitError('bad_input', `'${path}' has ${bytes.length} bytes: not a whole number of 16-bit symbols`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(2 * i, true);
  return out;
}

export function serializeRawSymbols(symbols: SymbolArray): Uint8Array {
  if (symbols instanceof Uint8Array) return symbols;
  const out = new Uint8Array(symbols.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < symbols.length; i++) view.setUint16(2 * i, symbols[i], true);
  return out;
}

export interface EncodeFileOptions {
  codec: CodecName | 'raw' | 'auto';
  width: 8 | 16;
  bits?: number;
  maxCodeLength?: number;
  scaleBits?: number | 'auto';
  zeroRunInner?: 'huffman' | 'rans';
}

/** Encodes a raw symbol file, checks the round trip in memory, writes the container; returns a summary line. */
export function encodeFileAction(input: string, output: string, o: EncodeFileOptions): string {
  refuseOutputIsInput([['<output>', output]], [['<input>', input]]);
  const symbols = parseRawSymbols(readFile(input), o.width, input);
  const alphabetSize = o.bits !== undefined ? 2 ** o.bits : 2 ** o.width;
  const parts = encodeContainerParts(symbols, {
    codec: o.codec, alphabetSize, maxCodeLength: o.maxCodeLength, scaleBits: o.scaleBits, zeroRunInner: o.zeroRunInner,
  });
  const back = decodeContainer(parts.bytes, { maxElements: Math.max(1, symbols.length) });
  if (back.length !== symbols.length || back.some((v, i) => v !== symbols[i])) {
    throw new InternalError(`codec encode: round trip of '${input}' failed with mode ${parts.mode} (a codec bug; please report it)`);
  }
  writeFile(output, parts.bytes);
  const n = symbols.length, per = (bytes: number) => (n > 0 ? (bytes * 8) / n : 0).toFixed(4);
  const h = shannonEntropy(histogram(symbols, alphabetSize));
  return `${input}: ${n} symbols, mode ${parts.mode}, ${parts.bytes.length} bytes (header ${parts.headerBytes}, table ${parts.tableBytes}, payload ${parts.payloadBytes}, crc 4); `
    + `${per(parts.bytes.length)} bits/value, payload ${per(parts.payloadBytes)}, entropy ${h.toFixed(4)}; round trip ok → ${output}`;
}

/** Decodes a container (checksum and exact end-of-stream verified) and writes raw symbols. */
export function decodeFileAction(input: string, output: string, o: { maxElements?: number }): string {
  refuseOutputIsInput([['<output>', output]], [['<input>', input]]);
  const bytes = readFile(input);
  const header = readContainerHeader(bytes, { maxElements: o.maxElements });
  const symbols = decodeContainer(bytes, { maxElements: o.maxElements });
  writeFile(output, serializeRawSymbols(symbols));
  return `${input}: mode ${header.mode}, ${header.count} symbols over an alphabet of ${header.alphabetSize}, CRC ok → ${output} (${symbols instanceof Uint8Array ? 'u8' : 'u16le'})`;
}
