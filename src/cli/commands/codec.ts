// `catkit codec …`: the benchmark and file encode/decode. Commander declarations only; the work is in the
// exported *Action functions (testable without commander) and in the codec library.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { benchJSON, formatBenchTable, runCodecBench } from '../../codec/bench.js';
import { CODEC_NAMES, type CodecName } from '../../codec/codecs.js';
import { decodeContainer, encodeContainerParts, readContainerHeader } from '../../codec/container.js';
import { histogram, shannonEntropy, type SymbolArray } from '../../codec/entropy.js';
import { UserError } from '../user-error.js';

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}…${max}, got '${value}'`);
    return n;
  };
}

function readFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UserError(`cannot read '${path}': ${(e as Error).message}`);
  }
}

function writeFile(path: string, data: Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new UserError(`cannot write '${path}': ${(e as Error).message}`);
  }
}

/** Raw symbol files: one byte per symbol (width 8) or little-endian 16-bit words (width 16). */
export function parseRawSymbols(bytes: Uint8Array, width: 8 | 16, path = 'input'): SymbolArray {
  if (width === 8) return bytes;
  if (bytes.length % 2 !== 0) throw new UserError(`'${path}' has ${bytes.length} bytes: not a whole number of 16-bit symbols`);
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
  const symbols = parseRawSymbols(readFile(input), o.width, input);
  const alphabetSize = o.bits !== undefined ? 2 ** o.bits : 2 ** o.width;
  const parts = encodeContainerParts(symbols, {
    codec: o.codec, alphabetSize, maxCodeLength: o.maxCodeLength, scaleBits: o.scaleBits, zeroRunInner: o.zeroRunInner,
  });
  const back = decodeContainer(parts.bytes, { maxElements: Math.max(1, symbols.length) });
  if (back.length !== symbols.length || back.some((v, i) => v !== symbols[i])) {
    throw new Error(`codec encode: round trip of '${input}' failed with mode ${parts.mode} (a codec bug; please report it)`);
  }
  writeFile(output, parts.bytes);
  const n = symbols.length, per = (bytes: number) => (n > 0 ? (bytes * 8) / n : 0).toFixed(4);
  const h = shannonEntropy(histogram(symbols, alphabetSize));
  return `${input}: ${n} symbols, mode ${parts.mode}, ${parts.bytes.length} bytes (header ${parts.headerBytes}, table ${parts.tableBytes}, payload ${parts.payloadBytes}, crc 4); `
    + `${per(parts.bytes.length)} bits/value, payload ${per(parts.payloadBytes)}, entropy ${h.toFixed(4)}; round trip ok → ${output}`;
}

/** Decodes a container (checksum and exact end-of-stream verified) and writes raw symbols. */
export function decodeFileAction(input: string, output: string, o: { maxElements?: number }): string {
  const bytes = readFile(input);
  const header = readContainerHeader(bytes, { maxElements: o.maxElements });
  const symbols = decodeContainer(bytes, { maxElements: o.maxElements });
  writeFile(output, serializeRawSymbols(symbols));
  return `${input}: mode ${header.mode}, ${header.count} symbols over an alphabet of ${header.alphabetSize}, CRC ok → ${output} (${symbols instanceof Uint8Array ? 'u8' : 'u16le'})`;
}

export function registerCodecCommands(program: Command): void {
  const codec = program.command('codec').description('entropy codecs: benchmark, encode and decode symbol files');

  codec.command('bench')
    .description('bits/value vs entropy and speed of Huffman, rANS and zero-run (and zlib) on synthetic CAT-like sources; last line is JSON')
    .option('--size <n>', 'symbols per source', integer('--size', 1, 2 ** 27), 2 ** 21)
    .option('--reps <n>', 'timed repetitions (median reported)', integer('--reps', 1, 1000), 7)
    .option('--seed <n>', 'PRNG seed', integer('--seed', 0, 2 ** 32 - 1), 1)
    .addOption(new Option('--clock <kind>', 'wall: elapsed time; cpu: process CPU time (steadier on a shared machine)').choices(['wall', 'cpu']).default('wall'))
    .option('--quiet', 'no progress lines on stderr')
    .action((opts: { size: number; reps: number; seed: number; clock: 'wall' | 'cpu'; quiet?: boolean }) => {
      const rows = runCodecBench({ ...opts, log: opts.quiet ? undefined : (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`${formatBenchTable(rows)}\n${benchJSON(rows)}\n`);
    });

  codec.command('encode')
    .description('encode a raw symbol file (u8, or u16 little-endian with --width 16) into a catkit container; the round trip is checked before writing')
    .argument('<input>', 'raw symbol file')
    .argument('<output>', 'container file to write')
    .addOption(new Option('--codec <name>', 'coder').choices([...CODEC_NAMES, 'raw', 'auto']).default('auto'))
    .addOption(new Option('--width <bits>', 'bits per symbol in the input file').choices(['8', '16']).default('8'))
    .option('--bits <b>', 'alphabet is 2^b symbols (default: the file width)', integer('--bits', 1, 16))
    .option('--max-code-length <n>', 'Huffman code-length limit', integer('--max-code-length', 1, 16))
    .option('--scale-bits <n>', 'rANS probability resolution (1…16, default auto)', integer('--scale-bits', 1, 16))
    .addOption(new Option('--zero-run-inner <coder>', 'coder for zero-run runs and literals').choices(['huffman', 'rans']))
    .action((input: string, output: string, opts: { codec: CodecName | 'raw' | 'auto'; width: string; bits?: number; maxCodeLength?: number; scaleBits?: number; zeroRunInner?: 'huffman' | 'rans' }) => {
      const width = opts.width === '16' ? 16 : 8;
      if (opts.bits !== undefined && opts.bits > width) throw new UserError(`--bits ${opts.bits} exceeds --width ${width}`);
      process.stdout.write(`${encodeFileAction(input, output, { ...opts, width })}\n`);
    });

  codec.command('decode')
    .description('decode a catkit container into a raw symbol file (u8 for alphabets ≤ 256, else u16 little-endian)')
    .argument('<input>', 'container file')
    .argument('<output>', 'raw symbol file to write')
    .option('--max-elements <n>', 'refuse streams declaring more symbols (default 2^27)', integer('--max-elements', 0, 2 ** 32 - 1))
    .action((input: string, output: string, opts: { maxElements?: number }) => {
      process.stdout.write(`${decodeFileAction(input, output, opts)}\n`);
    });
}
