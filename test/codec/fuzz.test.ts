// Mutated, truncated and extended streams must decode to the exact original or throw a CodecError —
// never crash with another error, hang, or return wrong symbols. Deterministic (seeded), small streams.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODEC_NAMES, CODECS } from '../../src/codec/codecs.js';
import { decodeContainer, encodeContainer, type EncodeOptions } from '../../src/codec/container.js';
import { crc32 } from '../../src/codec/crc32.js';
import { CodecError } from '../../src/codec/errors.js';
import type { SymbolArray } from '../../src/codec/entropy.js';
import { geometricSymbols, uniformSymbols } from '../../src/codec/synthetic.js';
import { assertSameSymbols, mulberry32, randInt } from './helpers.js';

const PER_CODEC = 10000;

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const kind = randInt(r, 0, 5);
  const b = src.slice();
  switch (kind) {
    case 0: { const i = randInt(r, 0, b.length - 1); b[i] ^= 1 << randInt(r, 0, 7); return b; }            // bit flip
    case 1: { for (let k = randInt(r, 1, 4); k > 0; k--) b[randInt(r, 0, b.length - 1)] = randInt(r, 0, 255); return b; }
    case 2: return src.slice(0, randInt(r, 0, src.length - 1));                                              // truncation
    case 3: { const e = new Uint8Array(src.length + randInt(r, 1, 8)); e.set(src); for (let i = src.length; i < e.length; i++) e[i] = randInt(r, 0, 255); return e; }
    case 4: { const i = randInt(r, 0, b.length - 1); return Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]); }  // deletion
    default: { const i = randInt(r, 0, b.length); return Uint8Array.from([...b.subarray(0, i), randInt(r, 0, 255), ...b.subarray(i)]); }
  }
}

/** Recomputes the trailing CRC so that mutations reach the table and payload parsers (a hostile stream). */
function refreshCrc(b: Uint8Array): Uint8Array {
  if (b.length < 4) return b;
  const out = b.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

function sources(r: () => number): [SymbolArray, number][] {
  return [
    [geometricSymbols(randInt(r, 1, 300), 0.5 + r() * 0.45, 5, r), 32],
    [geometricSymbols(randInt(r, 256, 700), 0.9, 5, r), 32],
    [uniformSymbols(randInt(r, 1, 200), 256, r), 256],
    [uniformSymbols(randInt(r, 1, 100), 65536, r), 65536],
  ];
}

for (const codec of [...CODEC_NAMES, 'raw'] as const) {
  test(`${codec}: ${PER_CODEC} mutated streams decode exactly or throw CodecError (CRC catches payload damage)`, () => {
    const r = mulberry32(1000 + codec.length);
    const inputs = sources(r).map(([a, alphabetSize]) => {
      const opts: EncodeOptions = { codec, alphabetSize, zeroRunInner: r() < 0.5 ? 'huffman' : 'rans' };
      return { a, bytes: encodeContainer(a, opts) };
    });
    let errors = 0, exact = 0;
    for (let k = 0; k < PER_CODEC; k++) {
      const { a, bytes } = inputs[k % inputs.length];
      const bad = mutate(bytes, r);
      try {
        const out = decodeContainer(bad);
        assertSameSymbols(out, a, `mutation ${k} decoded to different symbols`);
        exact++;
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        errors++;
      }
    }
    assert.equal(errors + exact, PER_CODEC);
    assert.ok(errors > PER_CODEC * 0.9, `most mutations must be detected (${errors})`);
  });

  test(`${codec}: ${PER_CODEC / 2} hostile streams (CRC recomputed) never crash, hang or over-allocate`, () => {
    const r = mulberry32(2000 + codec.length);
    const inputs = sources(r).map(([a, alphabetSize]) => encodeContainer(a, { codec, alphabetSize, zeroRunInner: r() < 0.5 ? 'huffman' : 'rans' }));
    for (let k = 0; k < PER_CODEC / 2; k++) {
      const bad = refreshCrc(mutate(inputs[k % inputs.length], r));
      try {
        const out = decodeContainer(bad, { maxElements: 4096 });
        assert.ok(out.length <= 4096);
      } catch (e) {
        if (!(e instanceof CodecError)) throw new Error(`mutation ${k}: ${(e as Error).stack}`);
      }
    }
  });
}

test('table readers reject random bytes with CodecError only', () => {
  const r = mulberry32(77);
  for (const name of CODEC_NAMES) {
    for (let k = 0; k < 3000; k++) {
      const junk = Uint8Array.from({ length: randInt(r, 0, 24) }, () => randInt(r, 0, 255));
      try { CODECS[name].readTable(junk, [2, 32, 256, 65536][k % 4], 0, junk.length); } catch (e) { if (!(e instanceof CodecError)) throw e; }
    }
  }
});
