// Byte and bit I/O. Bits are packed LSB-first into little-endian 32-bit words (the deflate convention), so a
// reader can take 32 fresh bits from any position with two aligned word loads. JavaScript bit operators are
// 32-bit, so the containers are 32-bit too; every read is bounds-checked against the stream's true length.
import { fail } from './errors.js';

/** True on every platform we know of; big-endian hosts byte-swap on the way in and out. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function byteSwapWords(w: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = w[i];
    w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
  }
}

/** The little-endian byte image of `words[0, ⌈byteLength/4⌉)`, truncated to `byteLength` (no copy on LE hosts). */
export function wordsToBytes(words: Uint32Array, byteLength: number): Uint8Array {
  if (!LITTLE_ENDIAN) byteSwapWords(words, (byteLength + 3) >>> 2);
  return new Uint8Array(words.buffer, words.byteOffset, byteLength);
}

/**
 * Copies `src[start, end)` into fresh aligned words plus two zero words of padding, so that hot loops can
 * read 32 bits at any bit position inside the stream without a bounds check per read.
 */
export function bytesToPaddedWords(src: Uint8Array, start = 0, end = src.length): Uint32Array {
  const n = end - start;
  const words = new Uint32Array(((n + 3) >>> 2) + 2);
  new Uint8Array(words.buffer).set(src.subarray(start, end));
  if (!LITTLE_ENDIAN) byteSwapWords(words, words.length);
  return words;
}

/** Appends bits LSB-first through a 32-bit accumulator; grows as needed. */
export class BitWriter {
  private words: Uint32Array;
  private wordCount = 0;
  private acc = 0;
  private accBits = 0;

  constructor(initialBytes = 64) {
    this.words = new Uint32Array(Math.max(2, (initialBytes + 3) >>> 2));
  }

  get bitLength(): number {
    return this.wordCount * 32 + this.accBits;
  }

  /** Writes the low `nbits` (0…32) bits of `value`. */
  write(value: number, nbits: number): void {
    if (nbits === 0) return;
    const v = nbits === 32 ? value >>> 0 : value & ((1 << nbits) - 1);
    this.acc |= v << this.accBits;
    this.accBits += nbits;
    if (this.accBits >= 32) {
      if (this.wordCount === this.words.length) this.grow();
      this.words[this.wordCount++] = this.acc;
      this.accBits -= 32;
      this.acc = this.accBits === 0 ? 0 : v >>> (nbits - this.accBits);
    }
  }

  /** Exp-Golomb order-0 code of v ≥ 0 (v < 2^31): small values in few bits, any value representable. */
  writeExpGolomb(v: number): void {
    const x = v + 1;
    const zeros = 31 - Math.clz32(x);
    this.write(0, zeros);
    this.write(1, 1);          // the terminator is read first (LSB-first), then the bits below x's leading one
    this.write(x, zeros);
  }

  private grow(): void {
    const bigger = new Uint32Array(this.words.length * 2);
    bigger.set(this.words);
    this.words = bigger;
  }

  /** The stream as bytes; the last byte is zero-padded (readers check that the padding is zero). */
  finish(): Uint8Array {
    const byteLength = (this.bitLength + 7) >>> 3;
    if (this.accBits > 0) {
      if (this.wordCount === this.words.length) this.grow();
      this.words[this.wordCount] = this.acc;
    }
    return wordsToBytes(this.words, byteLength).slice();
  }
}

/** Reads bits LSB-first from `src[start, end)` with explicit end-of-stream checks. */
export class BitReader {
  private readonly words: Uint32Array;
  private pos = 0;
  readonly totalBits: number;

  constructor(src: Uint8Array, start = 0, end = src.length, private readonly what = 'bit stream', private readonly baseOffset = start) {
    this.words = bytesToPaddedWords(src, start, end);
    this.totalBits = (end - start) * 8;
  }

  get bitPosition(): number { return this.pos; }
  get bitsLeft(): number { return this.totalBits - this.pos; }

  /** Reads `nbits` (0…32) bits; throws `srcSize_wrong` rather than invent bits past the end. */
  read(nbits: number): number {
    if (nbits === 0) return 0;
    if (this.pos + nbits > this.totalBits) {
      fail('srcSize_wrong', `${this.what}: needs ${nbits} more bits, ${this.totalBits - this.pos} left`, this.baseOffset + (this.pos >>> 3));
    }
    const wi = this.pos >>> 5, sh = this.pos & 31;
    const w = (this.words[wi] >>> sh) | ((this.words[wi + 1] << 1) << (31 - sh));
    this.pos += nbits;
    return nbits === 32 ? w >>> 0 : w & ((1 << nbits) - 1);
  }

  readExpGolomb(): number {
    let zeros = 0;
    while (this.read(1) === 0) {
      if (++zeros > 31) fail('corruption_detected', `${this.what}: Exp-Golomb prefix longer than 31 bits`, this.baseOffset + (this.pos >>> 3));
    }
    return (zeros === 0 ? 1 : ((1 << zeros) | this.read(zeros)) >>> 0) - 1;
  }

  /** Skips to the next byte boundary (the skipped bits must be zero) and returns the bytes consumed so far. */
  alignToByte(): number {
    const pad = (8 - (this.pos & 7)) & 7;
    if (pad > 0 && this.read(pad) !== 0) fail('corruption_detected', `${this.what}: non-zero padding bits`, this.baseOffset + ((this.pos - 1) >>> 3));
    return this.pos >>> 3;
  }

  /** The stream must end here: fewer than 8 bits left, all of them zero padding. */
  assertEnd(): void {
    assertStreamEnd(this.what, this.pos, this.totalBits, this.words, this.baseOffset);
  }
}

/**
 * Shared exact end-of-stream rule for LSB-first streams: the decoder consumed `pos` bits of a `totalBits`
 * stream; the stream must be exactly ⌈pos/8⌉ bytes long and its unused high bits in the last byte zero.
 */
export function assertStreamEnd(what: string, pos: number, totalBits: number, words: Uint32Array, baseOffset: number): void {
  if (pos > totalBits) fail('srcSize_wrong', `${what}: stream ends ${pos - totalBits} bits early`, baseOffset + (totalBits >>> 3));
  if (totalBits - pos >= 8) fail('srcSize_wrong', `${what}: ${(totalBits - pos) >>> 3} unread bytes after the last symbol`, baseOffset + ((pos + 7) >>> 3));
  const left = totalBits - pos;
  if (left > 0) {
    const wi = pos >>> 5, sh = pos & 31;
    const w = (words[wi] >>> sh) | ((words[wi + 1] << 1) << (31 - sh));
    if ((w & ((1 << left) - 1)) !== 0) fail('corruption_detected', `${what}: non-zero padding bits after the last symbol`, baseOffset + (pos >>> 3));
  }
}

/** Growable byte buffer for headers and tables. */
export class ByteWriter {
  private buf: Uint8Array;
  private n = 0;
  constructor(initial = 64) { this.buf = new Uint8Array(initial); }
  get length(): number { return this.n; }

  private reserve(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.n + extra));
    bigger.set(this.buf.subarray(0, this.n));
    this.buf = bigger;
  }
  u8(v: number): this { this.reserve(1); this.buf[this.n++] = v; return this; }
  u32le(v: number): this {
    this.reserve(4);
    this.buf[this.n++] = v; this.buf[this.n++] = v >>> 8; this.buf[this.n++] = v >>> 16; this.buf[this.n++] = v >>> 24;
    return this;
  }
  /** LEB128 unsigned varint, 0 ≤ v ≤ 2^32 − 1 (at most 5 bytes). */
  varint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) fail('parameter_invalid', `varint: ${v} is not an integer in [0, 2^32)`);
    this.reserve(5);
    while (v >= 0x80) { this.buf[this.n++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128); }
    this.buf[this.n++] = v;
    return this;
  }
  bytes(b: Uint8Array): this { this.reserve(b.length); this.buf.set(b, this.n); this.n += b.length; return this; }
  finish(): Uint8Array { return this.buf.slice(0, this.n); }
}

/** Bounds-checked cursor over bytes; every failure names `what` and the absolute offset. */
export class ByteReader {
  pos: number;
  constructor(readonly src: Uint8Array, start = 0, readonly end = src.length, readonly what = 'stream') { this.pos = start; }
  get left(): number { return this.end - this.pos; }

  private need(n: number, field: string): void {
    if (this.pos + n > this.end) fail('srcSize_wrong', `${this.what}: truncated while reading ${field} (${n} bytes needed, ${this.end - this.pos} left)`, this.pos);
  }
  u8(field: string): number { this.need(1, field); return this.src[this.pos++]; }
  u32le(field: string): number {
    this.need(4, field);
    const s = this.src, p = this.pos;
    this.pos += 4;
    return (s[p] | (s[p + 1] << 8) | (s[p + 2] << 16) | (s[p + 3] << 24)) >>> 0;
  }
  varint(field: string): number {
    const at = this.pos;
    let v = 0, scale = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.u8(field);
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (v > 0xffffffff) fail('corruption_detected', `${this.what}: ${field} varint exceeds 2^32 − 1`, at);
        if (i > 0 && b === 0) fail('corruption_detected', `${this.what}: ${field} varint is not minimally encoded`, at);
        return v;
      }
      scale *= 128;
    }
    return fail('corruption_detected', `${this.what}: ${field} varint longer than 5 bytes`, at);
  }
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.src.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
