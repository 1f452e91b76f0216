// `catkit codec bench` and `npm run bench:codec` share this: synthetic CAT-like sources, every codec's
// bits/value against the empirical entropy, encode/decode speed (median of several runs, wall clock), and
// Node's zlib (Huffman-only and default deflate) in the same process for comparison. Node-only (zlib).
import { constants as zc, deflateRawSync, inflateRawSync } from 'node:zlib';
import { CODEC_NAMES, type CodecName } from './codecs.js';
import { decodeContainer, encodeContainer } from './container.js';
import { histogram, shannonEntropy, type SymbolArray } from './entropy.js';
import { geometricSymbols, mulberry32, uniformSymbols } from './synthetic.js';

export interface BenchOptions {
  /** Symbols per source (default 2^21 ≈ 2.1 M). */
  size?: number;
  /** Timed repetitions per measurement; the median is reported (default 7). */
  reps?: number;
  seed?: number;
  /**
   * 'wall' (default): elapsed time. 'cpu': this process's CPU time, which a shared, busy machine inflates
   * far less (time slices lost to other processes are not counted).
   */
  clock?: 'wall' | 'cpu';
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface BenchRow {
  source: string;
  symbols: number;
  entropy: number;
  huffman: number;
  rans: number;
  zerorun: number;
  zlib_huffman: number;
  zlib_deflate: number;
  huffman_enc_msym_s: number;
  huffman_dec_msym_s: number;
  rans_enc_msym_s: number;
  rans_dec_msym_s: number;
  zerorun_enc_msym_s: number;
  zerorun_dec_msym_s: number;
  zlib_huffman_enc_msym_s: number;
  zlib_huffman_dec_msym_s: number;
}

export interface BenchSource { name: string; alphabetSize: number; make: (n: number, rand: () => number) => SymbolArray }

/** 5-bit one-sided geometric sources (post-ReLU-like) and uniform 8-bit data. */
export const BENCH_SOURCES: readonly BenchSource[] = [
  ...[0.5, 0.6, 0.7, 0.8, 0.9].map((p0) => ({
    name: `geo5-p0=${p0.toFixed(1)}`, alphabetSize: 32, make: (n: number, r: () => number) => geometricSymbols(n, p0, 5, r),
  })),
  { name: 'uniform8', alphabetSize: 256, make: (n: number, r: () => number) => uniformSymbols(n, 256, r) },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const clocks = {
  wall: () => performance.now(),
  cpu: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; },
};

/** Median milliseconds of `fn` over `reps` runs after one warm-up run; returns the last result too. */
function time<T>(fn: () => T, reps: number, now: () => number): { ms: number; result: T } {
  let result = fn();
  const ms: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = now();
    result = fn();
    ms.push(now() - t0);
  }
  return { ms: median(ms), result };
}

function sameSymbols(a: SymbolArray, b: SymbolArray): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function runCodecBench(options: BenchOptions = {}): BenchRow[] {
  const n = options.size ?? 2 ** 21, reps = options.reps ?? 7, log = options.log ?? (() => {});
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bench: size must be a positive integer, got ${n}`);
  if (!Number.isInteger(reps) || reps < 1) throw new RangeError(`bench: reps must be a positive integer, got ${reps}`);
  const rand = mulberry32(options.seed ?? 1);
  const now = clocks[options.clock ?? 'wall'];
  const msyms = (ms: number) => n / ms / 1000;
  const rows: BenchRow[] = [];
  for (const src of BENCH_SOURCES) {
    const symbols = src.make(n, rand);
    const entropy = shannonEntropy(histogram(symbols, src.alphabetSize));
    const bits: Partial<Record<CodecName, number>> = {}, enc: Partial<Record<CodecName, number>> = {}, dec: Partial<Record<CodecName, number>> = {};
    for (const codec of CODEC_NAMES) {
      const e = time(() => encodeContainer(symbols, { codec, alphabetSize: src.alphabetSize }), reps, now);
      const d = time(() => decodeContainer(e.result), reps, now);
      if (!sameSymbols(d.result, symbols)) throw new Error(`bench: ${codec} round trip failed on ${src.name}`);
      bits[codec] = (e.result.length * 8) / n;
      enc[codec] = msyms(e.ms);
      dec[codec] = msyms(d.ms);
      log(`${src.name} ${codec}: ${bits[codec]!.toFixed(4)} bits/value, enc ${enc[codec]!.toFixed(0)} / dec ${dec[codec]!.toFixed(0)} Msym/s`);
    }
    const bytes = symbols instanceof Uint8Array ? symbols : new Uint8Array(symbols.buffer, symbols.byteOffset, symbols.byteLength);
    const zh = time(() => deflateRawSync(bytes, { strategy: zc.Z_HUFFMAN_ONLY }), reps, now);
    const zhd = time(() => inflateRawSync(zh.result), reps, now);
    const zd = deflateRawSync(bytes);
    rows.push({
      source: src.name, symbols: n, entropy,
      huffman: bits.huffman!, rans: bits.rans!, zerorun: bits.zerorun!,
      zlib_huffman: (zh.result.length * 8) / n, zlib_deflate: (zd.length * 8) / n,
      huffman_enc_msym_s: enc.huffman!, huffman_dec_msym_s: dec.huffman!,
      rans_enc_msym_s: enc.rans!, rans_dec_msym_s: dec.rans!,
      zerorun_enc_msym_s: enc.zerorun!, zerorun_dec_msym_s: dec.zerorun!,
      zlib_huffman_enc_msym_s: msyms(zh.ms), zlib_huffman_dec_msym_s: msyms(zhd.ms),
    });
  }
  return rows;
}

/** The JSON line the issue asks for: bits per value and speeds in Msym/s. */
export function benchJSON(rows: readonly BenchRow[]): string {
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4, r1 = (x: number) => Math.round(x * 10) / 10;
  return JSON.stringify({
    rows: rows.map((r) => ({
      source: r.source, entropy: r4(r.entropy), huffman: r4(r.huffman), rans: r4(r.rans), zerorun: r4(r.zerorun),
      zlib_huffman: r4(r.zlib_huffman), zlib_deflate: r4(r.zlib_deflate),
      huffman_dec_msym_s: r1(r.huffman_dec_msym_s), rans_dec_msym_s: r1(r.rans_dec_msym_s),
      huffman_enc_msym_s: r1(r.huffman_enc_msym_s), rans_enc_msym_s: r1(r.rans_enc_msym_s),
      zerorun_enc_msym_s: r1(r.zerorun_enc_msym_s), zerorun_dec_msym_s: r1(r.zerorun_dec_msym_s),
      zlib_huffman_enc_msym_s: r1(r.zlib_huffman_enc_msym_s), zlib_huffman_dec_msym_s: r1(r.zlib_huffman_dec_msym_s),
    })),
  });
}
