// TensorFlow.js / Keras import: the weight decoder against hand-computed uint8/uint16/float16
// cases, and the real pretrained MobileNetV2 bundled in nsfwjs@4.4.0 against TensorFlow.js's own
// inference (tfjs decodes the same shard bytes itself, so our dequantization, layout transposes,
// Keras padding and BN epsilon are all checked at once).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { F, noGrad, tensor, tidy } from '../../src/tensor/index.js';
import { decodeWeights, readTfjsModel, resolveTfjsSource, TfjsFormatError, type TfjsModel } from '../../src/models/tfjs-artifacts.js';
import { kerasMobileNetV2 } from '../../src/models/keras-mobilenetv2.js';
import { attachCat } from '../../src/method/index.js';
import { importAction } from '../../src/app/import.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { assertClose } from '../helpers/assert-close.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const SIZE = 224;
const N = 2;
let nsfw: TfjsModel;
let tfModel: tf.LayersModel;
let tmp = '';

/** Two deterministic RGB images in [0, 1] (nsfwjs feeds pixels / 255), NHWC. */
function images(): Float32Array {
  const img = new Float32Array(N * SIZE * SIZE * 3);
  for (let n = 0; n < N; n++) for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) {
    img[((n * SIZE + y) * SIZE + x) * 3 + c] = 0.5 + 0.5 * Math.sin((x * (c + 1) + y * (n + 2)) / 17) * Math.cos((x - y) / (23 + c));
  }
  return img;
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'catkit-tfjs-'));
  nsfw = readTfjsModel('nsfwjs:mobilenet_v2');
  // TensorFlow.js reads the raw bundle itself: model JSON + base64 shard → its own dequantization.
  const dir = resolveTfjsSource('nsfwjs:mobilenet_v2');
  const req = createRequire(path.join(dir, 'x.js'));
  const json = req(path.join(dir, 'model.min.js')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const bytes = Buffer.from(req(path.join(dir, 'group1-shard1of1.min.js')) as string, 'base64');
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  tfModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData }));
});

after(() => {
  tfModel?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('decodeWeights dequantizes uint8, uint16 and float16 as tfjs does (hand-computed)', () => {
  const bytes = new Uint8Array([0, 1, 255, /* uint16 LE */ 0, 0, 0x10, 0x27, /* float16 1.0, -2.5, 2^-24 */ 0x00, 0x3c, 0x00, 0xc1, 0x01, 0x00, /* float32 0.5 */ 0, 0, 0, 0x3f]);
  const out = decodeWeights([
    { name: 'a', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
    { name: 'b', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', scale: 1e-3, min: 2 } },
    { name: 'c', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
    { name: 'd', shape: [1, 1], dtype: 'float32' },
  ], bytes, 'hand');
  assertClose(out[0]!.data, [-1, -0.5, 126.5], { rtol: 0, atol: 0 });
  assertClose(out[1]!.data, [2, 2 + 10000 * 1e-3], { rtol: 1e-6 });
  assertClose(out[2]!.data, [1, -2.5, 2 ** -24], { rtol: 0, atol: 0 });
  assert.deepEqual([...out[3]!.data], [0.5]);
  assert.deepEqual(out[3]!.shape, [1, 1]);
});

test('decodeWeights names the weight when the shards are short or too long', () => {
  const spec = [{ name: 'conv/kernel', shape: [2, 2], dtype: 'float32' }];
  assert.throws(() => decodeWeights(spec, new Uint8Array(15), 'm.json'), (e: Error) => e instanceof TfjsFormatError && /conv\/kernel.*truncated/.test(e.message));
  assert.throws(() => decodeWeights(spec, new Uint8Array(17), 'm.json'), /describes 16 bytes but the shards hold 17/);
  assert.throws(() => decodeWeights([{ name: 's', shape: [1], dtype: 'string' }], new Uint8Array(4), 'm.json'), /'s': unsupported dtype string/);
});

test('readTfjsModel reads model.json + binary shards and reports missing shards', () => {
  const dir = path.join(tmp, 'tiny');
  const write = (paths: string[]) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      modelTopology: { keras_version: '2.2.4', model_config: { class_name: 'Model', config: { layers: [{ class_name: 'Dense', config: { name: 'd' } }] } } },
      weightsManifest: [{ paths, weights: [{ name: 'd/kernel', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 2, min: 1 } }] }],
    }));
  };
  write(['s1.bin', 's2.bin']);
  writeFileSync(path.join(dir, 's1.bin'), new Uint8Array([0, 1]));
  writeFileSync(path.join(dir, 's2.bin'), new Uint8Array([2, 3]));
  const m = readTfjsModel(dir);
  assert.equal(m.kerasVersion, '2.2.4');
  assert.deepEqual([...m.weights.get('d/kernel')!.data], [1, 3, 5, 7]);
  write(['s1.bin', 'gone.bin']);
  assert.throws(() => readTfjsModel(path.join(dir, 'model.json')), /shard gone\.bin listed in the manifest is missing/);
  assert.throws(() => readTfjsModel(path.join(tmp, 'nowhere')), /no such file or folder/);
});

test('nsfwjs MobileNetV2: 266 uint8 tensors, 2 619 461 parameters, Keras conventions detected', () => {
  assert.equal(nsfw.weights.size, 266);
  assert.equal([...nsfw.weights.values()].reduce((n, w) => n + w.data.length, 0), 2_619_461);
  const { model, architecture, result } = kerasMobileNetV2(nsfw);
  try {
    assert.deepEqual(architecture, { widthMultiplier: 1, padding: 'keras', bnEps: 0.001, hidden: [256, 128], numClasses: 5, inChannels: 3 });
    // Every model tensor but the 52 BN counters comes from the file.
    assert.equal(result.loaded, 266);
    assert.equal(result.missing.length, 52);
    assert.ok(result.missing.every((k) => k.endsWith('num_batches_tracked')));
  } finally { model.dispose(); }
});

test('nsfwjs MobileNetV2 reproduces TensorFlow.js inference: features and class probabilities', () => {
  const img = images();
  const featureModel = tf.model({ inputs: tfModel.inputs, outputs: tfModel.getLayer('out_relu').output as tf.SymbolicTensor });
  const x = tf.tensor4d(img, [N, SIZE, SIZE, 3]);
  const tfFeatures = (featureModel.predict(x) as tf.Tensor).dataSync();
  const tfProbs = (tfModel.predict(x) as tf.Tensor).dataSync();
  x.dispose();
  const { model } = kerasMobileNetV2(nsfw);
  try {
    model.eval();
    noGrad(() => tidy(() => {
      const input = tensor(img, [N, SIZE, SIZE, 3]).permute([0, 3, 1, 2]).contiguous();
      const features = model.child('features').forward(input).permute([0, 2, 3, 1]).contiguous(); // NHWC as tfjs
      const maxAbs = Array.from(tfFeatures).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assert.ok(maxAbs > 1, 'features are not trivially zero');
      assertClose(features.dataSync() as Float32Array, tfFeatures, { rtol: 1e-4, atol: 1e-4 * maxAbs }, 'out_relu features');
      const probs = F.softmax(model.forward(input), 1);
      assertClose(probs.dataSync() as Float32Array, tfProbs, { rtol: 1e-4, atol: 1e-6 }, 'class probabilities');
    }));
  } finally { model.dispose(); }
});

test('a new head and grey input: classifier replaced, stem summed over colour, 35 CAT sites', () => {
  const rgb = kerasMobileNetV2(nsfw);
  const grey = kerasMobileNetV2(nsfw, { numClasses: 10, inChannels: 1 });
  try {
    assert.deepEqual(grey.architecture.hidden, []);
    assert.ok(grey.result.notes.some((n) => /dense_1, dense_2, dense_3 \(5 classes\) not imported/.test(n)));
    assert.ok(grey.result.missing.includes('classifier.1.weight'));
    noGrad(() => tidy(() => {
      const stem = rgb.model.stateDict().get('features.0.0.weight')!;
      assertClose(grey.model.stateDict().get('features.0.0.weight')!, stem.sum([1], true), { rtol: 1e-6, atol: 1e-7 });
      // Grey input x on 1 channel ≡ the RGB model on (x, x, x) up to the stem.
      rgb.model.eval(); grey.model.eval();
      const g = tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 7) / 7), [1, 1, 64, 64]);
      const a = grey.model.child('features').forward(g);
      const b = rgb.model.child('features').forward(g.expand([1, 3, 64, 64]).contiguous());
      assertClose(a, b, { rtol: 1e-4, atol: 1e-5 });
    }));
    assert.equal(attachCat(grey.model, { defaults: { bits: 8 } }).sites.length, 35);
    assert.throws(() => kerasMobileNetV2(nsfw, { inChannels: 2 }), /--in-channels 2 does not fit the stem kernel Conv1\/kernel \[3, 3, 3, 32\]/);
  } finally { rgb.model.dispose(); grey.model.dispose(); }
});

test('catkit import --from tfjs writes a run that rebuilds as mobilenet_v2_keras', () => {
  const out = path.join(tmp, 'run');
  const msg = importAction({ from: 'tfjs', model: 'mobilenet_v2_keras', weights: 'nsfwjs:mobilenet_v2', numClasses: 10, inChannels: 1, out, dataset: 'digits' });
  assert.match(msg, /loaded 260 of 260 tensors from .*: 2,223,296 parameters/);
  assert.match(msg, /new 10-class Linear classifier/);
  const ck = loadCheckpoint(out);
  try {
    assert.equal(ck.meta.config.model, 'mobilenet_v2_keras');
    assert.deepEqual(ck.model.get('features.0.0.weight')!.shape, [32, 1, 3, 3]);
    assert.deepEqual(ck.model.get('classifier.1.weight')!.shape, [10, 1280]);
  } finally { for (const t of [...ck.model.values(), ...ck.optimizer.values()]) t.dispose(); }
  assert.throws(() => importAction({ from: 'tfjs', model: 'mobilenet_v2_keras', weights: 'nsfwjs:mobilenet_v2', out: path.join(tmp, 'run2'), dataset: 'digits' }),
    /dense head \(256, 128\) that catkit runs cannot rebuild; pass --num-classes/);
  assert.throws(() => importAction({ from: 'tfjs', model: 'resnet18', weights: 'nsfwjs:mobilenet_v2', numClasses: 10, out: path.join(tmp, 'run3'), dataset: 'digits' }),
    /--from tfjs imports Keras MobileNetV2 into --model mobilenet_v2_keras/);
});

test('catkit train --init fine-tunes the imported backbone on resized digits', () => {
  const init = path.join(tmp, 'run');
  if (!existsSync(path.join(init, 'checkpoint.json'))) importAction({ from: 'tfjs', model: 'mobilenet_v2_keras', weights: 'nsfwjs:mobilenet_v2', numClasses: 10, inChannels: 1, out: init, dataset: 'digits' });
  const out = path.join(tmp, 'ft');
  // lr 1e-9: one step barely moves the weights, so they must still be the imported ones.
  const r = spawnSync(process.execPath, [BIN, 'train', '--init', init, '--resize', '32', '--epochs', '1', '--batch-size', '16', '--limit-train', '32',
    '--limit-test', '32', '--lr', '1e-9', '--out', out], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  assert.equal(r.status, 0, r.stderr);
  const a = loadCheckpoint(init), b = loadCheckpoint(out);
  try {
    assert.equal(b.meta.config.model, 'mobilenet_v2_keras');
    assert.equal(b.meta.config.resize, 32);
    assert.equal(b.meta.config.init, init);
    for (const key of ['features.0.0.weight', 'features.9.conv.1.0.weight', 'classifier.1.weight']) {
      assertClose(b.model.get(key)!, a.model.get(key)!, { rtol: 1e-5, atol: 1e-6 }, key);
    }
  } finally { for (const t of [...a.model.values(), ...a.optimizer.values(), ...b.model.values(), ...b.optimizer.values()]) t.dispose(); }
});
