// Child process of the runtime tests: runs a .catk file with catkit/runtime (TensorFlow.js, no
// libtorch — the parent preloads a guard that makes loading any native addon throw) on batches of
// normalised inputs, with coding off and on, and writes the logits and the per-site traffic as JSON.
// argv: model.catk inputs.f32 sizes.json out.json
import { readFileSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { CatkRuntime } from '../../src/runtime/index.js';

// `node --test dist/test/` also loads every module under test/: without arguments there is nothing to do.
if (process.argv.length < 6) process.exit(0);
const [file, inputsFile, sizesFile, outFile] = process.argv.slice(2) as [string, string, string, string];
await tf.setBackend('cpu');
const rt = CatkRuntime.fromBytes(new Uint8Array(readFileSync(file)), file);
const sizes = JSON.parse(readFileSync(sizesFile, 'utf8')) as number[];
const buf = readFileSync(inputsFile);
const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const per = rt.inputShape.reduce((a, b) => a * b, 1);
const plain: number[] = [], coded: number[] = [];
let traffic = null, at = 0, tensorsBefore = 0;
for (const [i, n] of sizes.entries()) {
  const x = all.subarray(at * per, (at + n) * per);
  if (i === 1) tensorsBefore = tf.memory().numTensors;
  const a = rt.predict(x, n), b = rt.predict(x, n, { code: true });
  plain.push(...a.logits); coded.push(...b.logits);
  if (i === 0) traffic = { off: a.traffic, on: b.traffic };
  at += n;
}
writeFileSync(outFile, JSON.stringify({ plain, coded, traffic, leaked: tf.memory().numTensors - tensorsBefore, backend: tf.getBackend(), classes: rt.classNames }));
