// npm run bench:deploy -- model.catk [--rounds N] [--images N]
// .catk decoding speed (the whole file: header, CRCs, rANS decoding and dequantization of every
// tensor) against gunzip of the same weight codes, and catkit/runtime's per-image latency on
// TensorFlow.js (cpu backend) with feature-map coding off and on. Rounds are interleaved; medians.
import { readFileSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { readCatk } from '../src/export/catk.js';
import { CatkRuntime } from '../src/runtime/index.js';
import { digitsSamples } from '../src/app/demo-server.js';
import { loadNote, median, table } from './common.js';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const opt = (name: string, d: number): number => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : d; };
if (!file) throw new Error('deploy bench: usage: node dist/bench/deploy.js model.catk [--rounds N] [--images N]');
const rounds = opt('rounds', 7), images = opt('images', 32);

const bytes = new Uint8Array(readFileSync(file));
const model = readCatk(bytes, file);
const codes = Buffer.concat([...model.tensors.values()].flatMap((t) => (t.quantized ? [Buffer.from(t.quantized.codes.buffer, t.quantized.codes.byteOffset, t.quantized.codes.byteLength)] : [])));
const gz = gzipSync(codes, { level: 9 });
const weightValues = [...model.tensors.values()].reduce((a, t) => a + t.values.length, 0);

await tf.setBackend('cpu');
const rt = new CatkRuntime(model);
const samples = model.meta.dataset === 'digits' ? await digitsSamples(images) : [];
const inputs = samples.length ? samples.map((s) => rt.preprocess(s.pixels))
  : Array.from({ length: images }, () => Float32Array.from({ length: rt.inputShape.reduce((a, b) => a * b, 1) }, () => Math.random()));
for (const x of inputs.slice(0, 4)) { rt.predict(x, 1); rt.predict(x, 1, { code: true }); } // warm-up
for (let i = 0; i < 10; i++) { readCatk(bytes, file); gunzipSync(gz); } // JIT warm-up (cold rounds took 3–4× longer)

const t = { catk: [] as number[], gunzip: [] as number[], off: [] as number[], on: [] as number[] };
const time = (f: () => void): number => { const t0 = performance.now(); f(); return performance.now() - t0; };
for (let r = 0; r < rounds; r++) {
  t.catk.push(time(() => readCatk(bytes, file)));
  t.gunzip.push(time(() => gunzipSync(gz)));
  t.off.push(time(() => { for (const x of inputs) rt.predict(x, 1); }) / inputs.length);
  t.on.push(time(() => { for (const x of inputs) rt.predict(x, 1, { code: true }); }) / inputs.length);
}
const mb = (b: number, ms: number): string => ((b / 1e6) / (ms / 1e3)).toFixed(1);
const res = {
  file, fileBytes: bytes.length, weightValues, codesBytes: codes.length, gzipBytes: gz.length,
  catkDecodeMs: median(t.catk), catkDecodeMBps: (bytes.length / 1e6) / (median(t.catk) / 1e3), catkDecodeMValuesPerS: (weightValues / 1e6) / (median(t.catk) / 1e3),
  gunzipMs: median(t.gunzip), gunzipMBps: (codes.length / 1e6) / (median(t.gunzip) / 1e3),
  perImageMs: { codingOff: median(t.off), codingOn: median(t.on) }, images: inputs.length, rounds, backend: tf.getBackend(),
};
process.stdout.write(`deploy bench: ${file} (${model.meta.model}, ${bytes.length} B), ${rounds} interleaved rounds, medians; ${loadNote()}\n`);
process.stdout.write(table([
  ['what', 'time', 'throughput'],
  ['.catk decode (whole file → float32 weights)', `${res.catkDecodeMs.toFixed(2)} ms`, `${mb(bytes.length, res.catkDecodeMs)} MB/s of file, ${res.catkDecodeMValuesPerS.toFixed(1)} M weights/s`],
  ['gunzip of the raw weight codes (reference)', `${res.gunzipMs.toFixed(2)} ms`, `${mb(codes.length, res.gunzipMs)} MB/s of codes out`],
  [`runtime per image, coding off (${res.backend})`, `${res.perImageMs.codingOff.toFixed(2)} ms`, ''],
  [`runtime per image, coding on (rANS encode + decode per site)`, `${res.perImageMs.codingOn.toFixed(2)} ms`, ''],
]) + '\n');
process.stdout.write(JSON.stringify(res) + '\n');
rt.dispose();
