// The .catk format without the engine: round trips of a small graph, the float32 arithmetic of the
// weight grid, and refusal of damaged files (every error a CatkError naming what is wrong).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCatk, writeCatk, CatkError, type CatkMeta, type TensorInput } from '../../src/export/catk.js';
import { dequantize, quantize, type QuantizedTensor } from '../../src/export/weights.js';
import { checkGraph, GraphError, type Graph } from '../../src/export/graph.js';
import { mulberry32 } from '../../src/codec/synthetic.js';

const meta: CatkMeta = {
  model: 'tiny', spec: { inChannels: 1, numClasses: 3, widthMultiplier: 1 }, dataset: 'digits', classNames: ['a', 'b', 'c'],
  normalization: { mean: [0.1], std: [0.3] }, preprocess: { padTo: 0, resize: 0 }, accuracy: { top1: 0.5, n: 10 }, actBits: 4, weightBits: 8,
};

function tinyGraph(): Graph {
  return {
    input: { name: 'input', shape: [1, 6, 6] },
    nodes: [
      { op: 'conv', name: 'conv1', inputs: ['input'], weight: 'conv1.weight', bias: null, stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
      { op: 'batchnorm', name: 'bn1', inputs: ['conv1'], weight: 'bn1.weight', bias: 'bn1.bias', mean: 'bn1.running_mean', variance: 'bn1.running_var', eps: 1e-5 },
      { op: 'act', name: 'relu', inputs: ['bn1'], kind: 'relu', site: 'relu' },
      { op: 'globalavgpool', name: 'pool', inputs: ['relu'] },
      { op: 'flatten', name: 'flatten', inputs: ['pool'] },
      { op: 'linear', name: 'fc', inputs: ['flatten'], weight: 'fc.weight', bias: 'fc.bias' },
    ],
    output: 'fc',
    sites: [{ name: 'relu', kind: 'relu', quantize: true, bits: 4, range: 'clip', clip: Math.fround(1.7) }],
  };
}

function randomValues(n: number, seed: number, skew = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => Math.fround((r() - 0.5) * Math.abs(r() - 0.5) ** skew));
}

function tinyTensors(axis: 0 | null = null): TensorInput[] {
  const w = randomValues(4 * 1 * 3 * 3 * 50, 1).subarray(0, 36);
  return [
    { name: 'conv1.weight', shape: [4, 1, 3, 3], quantized: quantize(w, [4, 1, 3, 3], 8, axis) },
    { name: 'bn1.weight', shape: [4], values: Float32Array.of(1, 0.5, 2, 1) },
    { name: 'bn1.bias', shape: [4], values: Float32Array.of(0, 0.1, -0.2, 0) },
    { name: 'bn1.running_mean', shape: [4], values: Float32Array.of(0, 0, 0.1, 0) },
    { name: 'bn1.running_var', shape: [4], values: Float32Array.of(1, 1, 1, 2) },
    { name: 'fc.weight', shape: [3, 4], quantized: quantize(randomValues(12, 2), [3, 4], 4, null) },
    { name: 'fc.bias', shape: [3], values: Float32Array.of(0.1, 0.2, 0.3) },
  ];
}

test('a .catk round trip restores graph, sites, metadata, codes and float tensors exactly', () => {
  for (const axis of [null, 0] as const) {
    const tensors = tinyTensors(axis);
    const bytes = writeCatk(tinyGraph(), tensors, meta);
    const m = readCatk(bytes, 'tiny.catk');
    assert.deepEqual(m.graph, tinyGraph());
    assert.deepEqual(m.meta, meta);
    assert.deepEqual(m.shapes.get('fc'), [3]);
    assert.deepEqual(m.shapes.get('conv1'), [4, 6, 6]);
    for (const t of tensors) {
      const got = m.tensors.get(t.name)!;
      if ('values' in t) assert.deepEqual(got.values, t.values, t.name);
      else {
        assert.deepEqual(Array.from(got.quantized!.codes), Array.from(t.quantized.codes), t.name);
        assert.deepEqual(got.values, dequantize(t.quantized, t.shape), t.name);
      }
    }
    assert.equal(m.sizes.file, bytes.length);
  }
});

test('weight grid: hand-computed codes and float32 dequantization (per tensor and per channel)', () => {
  // min −1, max 2, 2 bits: inv = 3·fround(1/3) rounds to 1 in float32, step 1, codes round(w + 1):
  // −1→0, −0.5→0 (half to even), 0.5→2 (1.5 → 2), 2→3
  const q = quantize(Float32Array.of(-1, -0.5, 0.5, 2), [4], 2, null);
  assert.deepEqual(Array.from(q.codes), [0, 0, 2, 3]);
  assert.deepEqual([q.scale, q.inv, q.min], [[1], [1], [-1]]);
  assert.deepEqual(Array.from(dequantize(q, [4])), [-1, -1, 1, 2]);
  // per channel: rows [0, 1, 2] and [5, 5, 5] (constant: scale 0, dequantizes to 5 exactly)
  const p = quantize(Float32Array.of(0, 1, 2, 5, 5, 5), [2, 3], 1, 0);
  assert.deepEqual(Array.from(p.codes), [0, 0, 1, 0, 0, 0]); // 1·(1/2)=0.5 → 0 (half to even)
  assert.deepEqual([p.scale, p.inv], [[2, 0], [0.5, 1]]); // a constant group: span counts as 1
  assert.deepEqual(Array.from(dequantize(p, [2, 3])), [0, 0, 2, 5, 5, 5]);
  // Values are code/inv + min (the trainer's division), not code·step + min: min 0, max 0.7, 8 bits
  // gives inv = fround(fround(1/0.7)·255), and code 3 dequantizes to fround(3/inv).
  const d = quantize(Float32Array.of(0, 0.7, Math.fround(3 * 0.7 / 255)), [3], 8, null);
  const inv = Math.fround(Math.fround(1 / Math.fround(0.7)) * 255);
  assert.equal(d.inv[0], inv);
  assert.equal(d.codes[2], 3);
  assert.equal(dequantize(d, [3])[2], Math.fround(3 / inv));
  // 8-bit values: dequantization error stays within half a step
  const w = randomValues(5000, 3);
  const q8 = quantize(w, [5000], 8, null);
  const back = dequantize(q8, [5000]);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(back[i]! - w[i]!) <= q8.scale[0]! / 2 + 1e-7, `value ${i}`);
});

test('coded weights: skewed codes are rANS-coded below the raw size; uniform ones fall back to raw', () => {
  const skewed = quantize(randomValues(20000, 4, 3), [20000], 8, null);
  const uniform: QuantizedTensor = { bits: 8, axis: null, scale: [1], inv: [1], min: [0], codes: Uint8Array.from({ length: 20000 }, (_, i) => (i * 7919) & 255) };
  const g: Graph = { input: { name: 'input', shape: [20000, 1, 1] }, output: 'l2', sites: [], nodes: [
    { op: 'flatten', name: 'f', inputs: ['input'] },
    { op: 'linear', name: 'l1', inputs: ['f'], weight: 'a', bias: null },
    { op: 'linear', name: 'l2', inputs: ['l1'], weight: 'b', bias: null },
  ] };
  const m = readCatk(writeCatk(g, [{ name: 'a', shape: [1, 20000], quantized: skewed }, { name: 'b', shape: [20000, 1], quantized: uniform }], meta));
  const a = m.tensors.get('a')!.entry, b = m.tensors.get('b')!.entry;
  assert.equal(a.encoding, 'rans');
  assert.ok(a.length < 20000 * 0.8, `skewed codes took ${a.length} bytes`);
  assert.equal(b.encoding, 'raw');
  assert.ok(b.length <= 20000 + 24, `raw fallback took ${b.length} bytes`);
});

test('damaged files are refused with a CatkError naming the problem, never decoded wrongly', () => {
  const bytes = writeCatk(tinyGraph(), tinyTensors(), meta);
  const expectError = (b: Uint8Array, code: RegExp, msg: RegExp) => {
    assert.throws(() => readCatk(b, 'm.catk'), (e: unknown) => {
      assert.ok(e instanceof CatkError, `expected CatkError, got ${e}`);
      assert.match(e.code, code);
      assert.match(e.message, msg);
      assert.ok(e.message.startsWith('m.catk: '));
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  };
  expectError(bytes.subarray(0, 10), /catk_truncated/, /truncated/);
  expectError(bytes.subarray(0, bytes.length - 1), /catk_truncated/, /truncated/);
  expectError(Uint8Array.from([...bytes, 0]), /catk_header/, /unexpected bytes/);
  const v2 = bytes.slice(); v2[4] = 2;
  expectError(v2, /catk_version/, /version 2/);
  const magic = bytes.slice(); magic[0] = 0x50;
  expectError(magic, /catk_magic/, /not a \.catk/);
  const header = bytes.slice(); header[40] ^= 4;
  expectError(header, /catk_crc/, /header CRC-32/);
  // a flipped bit in the conv weight's container and in the last float tensor
  const conv = bytes.slice(); conv[conv.length - 100] ^= 1;
  assert.throws(() => readCatk(conv, 'm.catk'), (e: unknown) => e instanceof CatkError && /tensor '[^']+'/.test(e.message));
  const fc = bytes.slice(); fc[fc.length - 2] ^= 0x10;
  expectError(fc, /catk_crc/, /tensor 'fc\.bias': CRC-32/);
  // every truncation and many single-byte corruptions: an error or (bytes the format ignores) the same model
  const good = readCatk(bytes);
  const rand = mulberry32(9);
  for (let k = 0; k < 300; k++) {
    const b = k < 100 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes.slice();
    if (k >= 100) b[Math.floor(rand() * b.length)] ^= 1 + Math.floor(rand() * 255);
    try {
      const m = readCatk(b);
      assert.deepEqual(m.graph, good.graph);
      for (const [name, t] of good.tensors) assert.deepEqual(m.tensors.get(name)!.values, t.values);
    } catch (e) { assert.ok(e instanceof CatkError, `mutation ${k}: expected CatkError, got ${(e as Error).stack}`); }
  }
});

test('graphs are validated against tensor shapes, input order and sites', () => {
  const shapes = new Map(tinyTensors().map((t) => [t.name, t.shape]));
  const g = tinyGraph();
  assert.ok(checkGraph(g, shapes));
  const bad = (mutate: (g: Graph) => void, msg: RegExp) => {
    const h = structuredClone(tinyGraph());
    mutate(h);
    assert.throws(() => checkGraph(h, shapes), (e: unknown) => e instanceof GraphError && msg.test(e.message));
  };
  bad((h) => { h.nodes[1]!.inputs = ['fc']; }, /not defined by an earlier node/);
  bad((h) => { (h.nodes[0] as { weight: string }).weight = 'fc.weight'; }, /not a valid conv weight/);
  bad((h) => { (h.nodes[2] as { site: string }).site = 'nope'; }, /not in the site list/);
  bad((h) => { (h.nodes[0] as { op: string }).op = 'eval'; }, /unknown op/);
  bad((h) => { h.input.shape = [1, 1e9, 6]; }, /integer in 1…65536/);
  bad((h) => { h.sites[0]!.bits = 40; }, /bits must be an integer/);
  bad((h) => { (h.nodes[0] as { stride: number[] }).stride = [0, 1]; }, /stride/);
});
