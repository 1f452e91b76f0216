// The native coders (native/src/codec.cc) against the TypeScript coders they must reproduce: the same
// container bytes for every stream the ledger codes (adaptive and static tables, all three coders and
// their options), containers the TypeScript decoder reads back to the input, and the same batch
// measurement — on random, skewed, sparse, all-zero, one-symbol, empty, 16-bit and real feature-map codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, tidy } from '../../src/tensor/index.js';
import { CifarResNet } from '../../src/models/resnet-cifar.js';
import { attachCat, toCodeArray } from '../../src/method/index.js';
import { fitStaticTables, measureLayerBatch, type LedgerOptions } from '../../src/ledger/index.js';
import { decodeContainer, encodeContainerParts } from '../../src/codec/container.js';
import { histogram, type SymbolArray } from '../../src/codec/entropy.js';
import { CodecError } from '../../src/codec/errors.js';
import { measureLayerBatchNative, measureLayerBatchNativeAsync, nativeContainers } from '../../src/train/native-coding.js';
import { mulberry32 } from '../../src/data/random.js';
import { tensor } from '../../src/tensor/index.js';

type Kind = 'uniform' | 'skewed' | 'sparse' | 'zero' | 'single';
function codes(kind: Kind, n: number, bits: number, seed: number): SymbolArray {
  const r = mulberry32(seed), a = 2 ** bits, out = bits <= 8 ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    if (kind === 'uniform') out[i] = Math.floor(r() * a);
    else if (kind === 'skewed') out[i] = r() < 0.55 ? 0 : Math.min(a - 1, Math.floor(-Math.log(r()) * 1.5));
    else if (kind === 'sparse') out[i] = r() < 0.997 ? 0 : 1 + Math.floor(r() * (a - 1));
    else if (kind === 'single') out[i] = a - 1;
  }
  return out;
}

const OPTIONS: LedgerOptions[] = [{}, { zeroRunInner: 'rans' }, { maxCodeLength: 16, scaleBits: 12 }, { maxCodeLength: 5, scaleBits: 'auto' }];

/** Every stream of one batch: native bytes = TypeScript bytes, TypeScript decodes them to the input; same measurement. */
function checkBatch(what: string, symbols: SymbolArray, bits: number, calibration: SymbolArray[], o: LedgerOptions): number {
  const st = fitStaticTables(calibration, bits, o);
  const alphabetSize = 2 ** bits, counts = histogram(symbols, alphabetSize);
  const streams = nativeContainers('layer', bits, symbols, st, o);
  for (const s of streams) {
    const ts = encodeContainerParts(symbols, { ...o, codec: s.name, alphabetSize, counts, staticTable: s.isStatic ? st.tables[s.name] : undefined });
    assert.deepEqual(s.bytes, ts.bytes, `${what}: ${s.isStatic ? 'static' : 'adaptive'} ${s.name} container`);
    assert.deepEqual(decodeContainer(s.bytes, { staticTable: s.isStatic ? st.tables[s.name] : undefined, maxElements: Math.max(1, symbols.length) }), symbols, `${what}: round trip`);
  }
  assert.deepEqual(measureLayerBatchNative('layer', bits, symbols, st, o), measureLayerBatch('layer', bits, symbols, st, o), `${what}: measurement`);
  return streams.length;
}

test('native streams are byte-identical to the TypeScript coders and decode back (synthetic codes)', () => {
  let streams = 0, seed = 1;
  for (const bits of [1, 2, 4, 8, 10]) {
    const calibration = [codes('skewed', 4000, bits, 99)];
    for (const kind of ['uniform', 'skewed', 'sparse', 'zero', 'single'] as Kind[]) {
      for (const n of [0, 1, 7, 255, 256, 5003]) {
        // Every option set on 4- and 8-bit codes, the defaults on the others (keeps the test lean).
        for (const o of bits === 4 || bits === 8 ? OPTIONS : OPTIONS.slice(0, 1)) streams += checkBatch(`${bits}-bit ${kind} × ${n} ${JSON.stringify(o)}`, codes(kind, n, bits, seed++), bits, calibration, o);
      }
    }
  }
  // Non-degenerate batches code 6 streams (3 adaptive + 3 static); one-symbol batches only the 3 static ones.
  assert.ok(streams > 1200, `${streams} streams compared`);
});

test('native streams are byte-identical on real feature-map codes of a CAT ResNet-8', () => {
  manualSeed(7);
  const model = new CifarResNet({ depth: 8, inChannels: 1, numClasses: 10 });
  try {
    const cat = attachCat(model, { defaults: { bits: 4 } });
    const r = mulberry32(5), px = new Float32Array(16 * 28 * 28);
    for (let i = 0; i < px.length; i++) px[i] = Math.sin(i * 0.03) + 0.5 * r();
    const maps = new Map<string, SymbolArray[]>();
    const x = tensor(px, [16, 1, 28, 28]);
    model.eval();
    for (let round = 0; round < 2; round++) {
      noGrad(() => tidy(() => {
        for (const s of cat.forward(x.mul(round + 1), { codes: true, terms: false }).rate.sites) if (s.codes) maps.set(s.site, [...(maps.get(s.site) ?? []), toCodeArray(s.codes, s.bits)]);
      }));
    }
    x.dispose();
    assert.equal(maps.size, 7);
    for (const [site, [calib, batch]] of maps) for (const o of OPTIONS.slice(0, 2)) checkBatch(`${site} ${JSON.stringify(o)}`, batch!, 4, [calib!], o);
  } finally { model.dispose(); }
});

test('native coding rejects out-of-range symbols with the TypeScript coders\' error, also asynchronously', async () => {
  const bad = Uint8Array.of(0, 1, 7);
  const expect = (e: unknown) => e instanceof CodecError && e.code === 'symbol_outOfRange' && /symbol 7 at index 2/.test(e.message);
  assert.throws(() => measureLayerBatch('layer', 2, bad, undefined), expect);
  assert.throws(() => measureLayerBatchNative('layer', 2, bad, undefined), expect);
  await assert.rejects(measureLayerBatchNativeAsync('layer', 2, bad, undefined), expect);
  // A static table that cannot code a present symbol (no smoothing in a hand-made Huffman table).
  const st = fitStaticTables([Uint8Array.of(0, 1, 2, 3)], 2);
  const lopsided = { ...st, tables: { huffman: (await import('../../src/codec/huffman.js')).fitHuffmanTable([5, 3, 0, 0]) } };
  assert.throws(() => measureLayerBatch('layer', 2, Uint8Array.of(0, 1, 2), lopsided, { codecs: ['huffman'] }), /symbol 2 occurs 1 times/);
  assert.throws(() => measureLayerBatchNative('layer', 2, Uint8Array.of(0, 1, 2), lopsided, { codecs: ['huffman'] }), /symbol 2 occurs 1 times/);
});

test('the async native measurement equals the synchronous one', async () => {
  const calibration = [codes('skewed', 5000, 4, 3)];
  const st = fitStaticTables(calibration, 4);
  const batch = codes('skewed', 200_003, 4, 4);
  assert.deepEqual(await measureLayerBatchNativeAsync('l', 4, batch, st), measureLayerBatch('l', 4, batch, st));
});

test('toCodeArray gives the codes in logical order from channels-last and contiguous tensors, 8 and 16 bits', () => {
  const r = mulberry32(11);
  for (const [shape, bits] of [[[3, 70, 5, 7], 4], [[2, 3, 33, 9], 10], [[5, 9], 8], [[2, 130, 1, 1], 2]] as [number[], number][]) {
    const n = shape.reduce((a, b) => a * b), v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = Math.floor(r() * 2 ** bits);
    const expected = bits <= 8 ? Uint8Array.from(v) : Uint16Array.from(v);
    const t = tensor(v, shape);
    const views = shape.length === 4 ? [t, t.toChannelsLast()] : [t];
    for (const x of views) assert.deepEqual(toCodeArray(x, bits), expected, `${shape} ${bits} bits`);
    for (const x of views) x.dispose();
  }
});
