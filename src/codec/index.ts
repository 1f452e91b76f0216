// Public API of catkit's entropy codecs. Pure TypeScript with no engine or Node dependency (the benchmark,
// which uses node:zlib, lives in bench.ts and is not re-exported here), so this also runs in a browser.
export { CodecError, type CodecErrorCode } from './errors.js';
export { crc32 } from './crc32.js';
export { BitReader, BitWriter, ByteReader, ByteWriter } from './bitio.js';
export {
  histogram, shannonEntropy, crossEntropy, codeLengthCost, MAX_ALPHABET, type SymbolArray,
} from './entropy.js';
export {
  huffmanCodeLengths, huffmanTableFromLengths, fitHuffmanTable, writeHuffmanTable, readHuffmanTable,
  huffmanEncode, huffmanDecode, MAX_CODE_LENGTH, DEFAULT_MAX_CODE_LENGTH, type HuffmanTable, type HuffmanFitOptions,
} from './huffman.js';
export {
  quantizeFrequencies, ransTableFromFrequencies, fitRansTable, writeRansTable, readRansTable, ransEncode, ransDecode,
  RANS_L, RANS_STATES, MAX_SCALE_BITS, type RansTable, type RansFitOptions,
} from './rans.js';
export {
  zeroRunTokens, fitZeroRunTable, zeroRunTableFromCounts, zeroRunEncode, zeroRunDecode, writeZeroRunTable,
  readZeroRunTable, runSymbol, runValue, runExtraBits, RUN_ALPHABET, RUN_DIRECT,
  type ZeroRunTable, type ZeroRunTokens, type InnerCoder,
} from './zerorun.js';
export {
  CODECS, CODEC_NAMES, codecFor, type Codec, type CodecName, type CodecOptions, type EntropyTable,
} from './codecs.js';
export {
  encodeContainer, encodeContainerParts, decodeContainer, readContainerHeader, rawWidth,
  MAGIC, FORMAT_VERSION, DEFAULT_MAX_ELEMENTS,
  type EncodeOptions, type DecodeOptions, type ContainerParts, type ContainerHeader, type ContainerMode,
} from './container.js';
