// Coded evaluation off the main thread: the ledger built by worker threads, or by the native coders
// (main thread or libuv pool), is the one the TypeScript coders build on the main thread, bit for bit; a sampled coding states an interval that holds the full coding's value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, memory, noGrad, tidy } from '../../src/tensor/index.js';
import { DataLoader, makeDataset } from '../../src/data/index.js';
import { CifarResNet } from '../../src/models/resnet-cifar.js';
import { attachCat, toCodeArray } from '../../src/method/index.js';
import { LedgerAccumulator, ledgerToJSON } from '../../src/ledger/index.js';
import { histogram, shannonEntropy } from '../../src/codec/entropy.js';
import { CodecError } from '../../src/codec/errors.js';
import { codedEvaluation, confidenceIntervals, fitBandwidthTables, sampledImages } from '../../src/train/bandwidth.js';
import { CodingPool } from '../../src/train/coding-pool.js';
import { mulberry32 } from '../../src/data/random.js';

/** 80 smooth-ish random 1×16×16 images in 10 classes (batches of 32: the last one is short). */
function loader(seed: number): DataLoader {
  const r = mulberry32(seed), n = 80, images = new Uint8Array(n * 256);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(128 + 100 * Math.sin(i * 0.05 + 3 * r()) * r());
  const labels = Uint8Array.from({ length: n }, () => Math.floor(r() * 10));
  const ds = makeDataset({ name: `rand${seed}`, images, labels, height: 16, width: 16, numClasses: 10, classNames: [...'abcdefghij'] });
  return new DataLoader(ds, { batchSize: 32, normalize: { mean: [0.5], std: [0.25] } });
}

test('the worker-coded ledger equals the main-thread ledger bit for bit (adaptive and static tables, zero counts, accuracy)', async () => {
  const before = memory().numTensors;
  manualSeed(3);
  const model = new CifarResNet({ depth: 8, inChannels: 1, numClasses: 10 });
  const cat = attachCat(model, { defaults: { bits: 4 }, weights: { bits: 8 } });
  const test = loader(1), calib = loader(2);
  try {
    await cat.calibrate((function* () { for (const b of calib.batches()) { yield b.x; b.y.dispose(); } })());
    const tables = await fitBandwidthTables(cat, calib, 2);
    // The reference: every site's codes of every batch through LedgerAccumulator.add, in order, on this thread.
    const ref = new LedgerAccumulator();
    const entropy = new Map<string, number>();  // per layer, summed over batches, as the ledger does
    model.eval();
    for (const b of test.batches()) {
      noGrad(() => tidy(() => {
        for (const s of cat.forward(b.x, { codes: true, terms: false }).rate.sites) {
          if (!s.codes) continue;
          const codes = toCodeArray(s.codes, s.bits);
          ref.add(s.site, s.bits, codes, tables.get(s.site));
          entropy.set(s.site, (entropy.get(s.site) ?? 0) + codes.length * shannonEntropy(histogram(codes, 16)));
        }
      }));
      b.x.dispose(); b.y.dispose();
    }
    const expected = ledgerToJSON(ref.finish());
    const inline = await codedEvaluation(cat, test, tables, { codingWorkers: 0, codingBackend: 'typescript' });
    // A tiny bound forces the forwards to wait for the coders after every batch (the backpressure path).
    const workers = await codedEvaluation(cat, test, tables, { codingWorkers: 2, maxPendingBytes: 1, codingBackend: 'typescript' });
    // The native coders (the default): on the main thread, and on the libuv pool with and without backpressure.
    const nativeInline = await codedEvaluation(cat, test, tables, { codingWorkers: 0 });
    const nativeAsync = await codedEvaluation(cat, test, tables, { codingWorkers: 3 });
    const nativeBound = await codedEvaluation(cat, test, tables, { codingWorkers: 1, maxPendingBytes: 1, codingBackend: 'native' });
    assert.equal(ledgerToJSON(inline.ledger), expected);
    assert.equal(ledgerToJSON(workers.ledger), expected);
    assert.deepEqual(workers, inline);
    for (const r of [nativeInline, nativeAsync, nativeBound]) {
      assert.equal(ledgerToJSON(r.ledger), expected, 'native ledger = TypeScript ledger, bit for bit');
      assert.deepEqual(r, inline);
    }
    assert.equal(workers.ledger.layers.length, 7, 'ResNet-8: stem + 2 sites × 3 blocks');
    assert.ok(workers.ledger.total.static, 'static tables were used');
    assert.equal(workers.ledger.total.entropyBits, [...entropy.values()].reduce((a, b) => a + b), 'entropy summed per layer in batch order, then over layers');
    assert.equal(workers.accuracy.n, 80);
    assert.equal(workers.sampling, null);
  } finally {
    model.dispose();
  }
  assert.equal(memory().numTensors, before, 'no tensor left behind');
});

test('a sampled coding codes ⌈f·B⌉ images per batch and its interval holds the full coding\'s bits/value', async () => {
  manualSeed(4);
  const model = new CifarResNet({ depth: 8, inChannels: 1, numClasses: 10 });
  const cat = attachCat(model, { defaults: { bits: 4 } });
  const test = loader(5);
  try {
    const full = await codedEvaluation(cat, test, new Map(), { codingWorkers: 1 });
    const half = await codedEvaluation(cat, test, new Map(), { codingWorkers: 1, codeFraction: 0.5, sampleSeed: 9 });
    assert.ok(half.sampling);
    assert.equal(half.sampling.ofImages, 80);
    assert.equal(half.sampling.images, 16 + 16 + 8, 'half of 32, 32 and 16 images');
    assert.equal(half.ledger.total.elements * 80, full.ledger.total.elements * 40);
    assert.deepEqual(half.accuracy, full.accuracy, 'accuracy always counts every image');
    for (const k of ['entropy', 'huffman', 'rans', 'zerorun'] as const) {
      const [lo, hi] = half.sampling.ci95[k];
      assert.ok(lo <= half.bitsPerValue[k] && half.bitsPerValue[k] <= hi, `${k}: estimate inside its own interval`);
      assert.ok(lo <= full.bitsPerValue[k] && full.bitsPerValue[k] <= hi, `${k}: full ${full.bitsPerValue[k]} in [${lo}, ${hi}]`);
    }
  } finally {
    model.dispose();
  }
});

test('sampledImages strides through the batch from a random offset', () => {
  const rng = mulberry32(1);
  assert.deepEqual(sampledImages(5, 1, rng), [0, 1, 2, 3, 4]);
  for (let t = 0; t < 50; t++) {
    const picked = sampledImages(32, 0.25, rng);
    assert.equal(picked.length, 8);
    for (let j = 1; j < 8; j++) assert.equal(picked[j]! - picked[j - 1]!, 4, 'stride 32/8');
    assert.ok(picked[0]! >= 0 && picked[7]! <= 31);
  }
  assert.equal(sampledImages(3, 0.01, rng).length, 1, 'at least one image');
});

test('confidenceIntervals: ratio estimate with the cluster standard error, by hand', () => {
  // Batches of 100 values with 150 and 250 bits: R = 2, residuals −50 and 50 over n̄ = 100 → SE = √((0.25+0.25)/2) = 0.5.
  const bits = (v: number) => ({ entropy: v, huffman: v, rans: v, zerorun: v });
  const ci = confidenceIntervals([{ elements: 100, bits: bits(150) }, { elements: 100, bits: bits(250) }]);
  assert.ok(Math.abs(ci.rans[0] - (2 - 1.96 * 0.5)) < 1e-12 && Math.abs(ci.rans[1] - (2 + 1.96 * 0.5)) < 1e-12, String(ci.rans));
});

test('a coder failure in a worker or a native job reaches the caller as the same CodecError', async () => {
  for (const backend of ['typescript', 'native'] as const) {
    const pool = new CodingPool({ workers: 1, backend }, () => assert.fail('nothing to record'));
    try {
      pool.submit('layer', 2, Uint8Array.of(0, 1, 7));
      await assert.rejects(pool.drain(), (e: unknown) => e instanceof CodecError && e.code === 'symbol_outOfRange' && /symbol 7 at index 2/.test(e.message), backend);
    } finally { await pool.close(); }
  }
});
