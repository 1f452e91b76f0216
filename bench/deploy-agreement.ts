// node dist/bench/deploy-agreement.js RUN — exports RUN to .catk and .onnx, then runs the run's whole
// test split through the native engine (its fake-quantized model), ONNX Runtime and catkit/runtime
// (TensorFlow.js cpu) on the same batches, and prints how many images each agrees with native on
// (top-1), their accuracies and the largest logit differences. JSON last line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { dispose, noGrad, tidy } from '../src/tensor/index.js';
import { disposeSession } from '../src/train/session.js';
import { exportRun } from '../src/app/export/model-file.js';
import { openRun } from '../src/app/export/run-model.js';
import { CatkRuntime } from '../src/runtime/index.js';
import { loadNote, table } from './common.js';

const run = process.argv[2];
if (!run) throw new Error('usage: node dist/bench/deploy-agreement.js RUN');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'catkit-agree-'));
try {
  const catk = path.join(tmp, 'model.catk'), onnxFile = path.join(tmp, 'model.onnx');
  await exportRun(run, { format: 'catk', out: catk });
  await exportRun(run, { format: 'onnx', out: onnxFile });
  await tf.setBackend('cpu');
  const rt = CatkRuntime.fromBytes(new Uint8Array(readFileSync(catk)), catk);
  const ortSession = await ort.InferenceSession.create(readFileSync(onnxFile));
  const { session } = openRun(run);
  const top = (a: ArrayLike<number>, i: number, k: number) => { let b = 0; for (let j = 1; j < k; j++) if (a[i * k + j]! > a[i * k + b]!) b = j; return b; };
  let n = 0, ortAgree = 0, tfAgree = 0, nativeOk = 0, ortOk = 0, tfOk = 0, maxOrt = 0, maxTf = 0, k = 0, scale = 0;
  // Images with a logit more than 1e-3 off: where an engine's float rounding moved an activation code.
  let ortOff = 0, tfOff = 0;
  const t0 = performance.now();
  try {
    session.model.eval();
    for await (const b of session.test.batches(0)) {
      try {
        const x = (b.x.contiguous().dataSync() as Float32Array).slice();
        const [bn, c, h, w] = b.x.shape as [number, number, number, number];
        const labels = Array.from(b.y.dataSync() as ArrayLike<number | bigint>, Number);
        const native = noGrad(() => tidy(() => (session.model.forward(b.x).dataSync() as Float32Array).slice()));
        const viaOrt = (await ortSession.run({ input: new ort.Tensor('float32', x, [bn, c, h, w]) })).logits!.data as Float32Array;
        const viaTf = rt.predict(x, bn).logits;
        k = native.length / bn;
        for (let i = 0; i < bn; i++) {
          const ref = top(native, i, k), o = top(viaOrt, i, k), t = top(viaTf, i, k);
          n++; ortAgree += +(o === ref); tfAgree += +(t === ref);
          nativeOk += +(ref === labels[i]); ortOk += +(o === labels[i]); tfOk += +(t === labels[i]);
        }
        for (let i = 0; i < bn; i++) {
          let o = 0, t = 0;
          for (let j = i * k; j < (i + 1) * k; j++) { o = Math.max(o, Math.abs(viaOrt[j]! - native[j]!)); t = Math.max(t, Math.abs(viaTf[j]! - native[j]!)); scale = Math.max(scale, Math.abs(native[j]!)); }
          maxOrt = Math.max(maxOrt, o); maxTf = Math.max(maxTf, t); ortOff += +(o > 1e-3); tfOff += +(t > 1e-3);
        }
      } finally { dispose(b); }
    }
  } finally { await disposeSession(session); rt.dispose(); }
  const pct = (x: number) => `${(100 * x / n).toFixed(2)} %`;
  process.stdout.write(`deploy agreement: ${run}, ${n} test images, ${((performance.now() - t0) / 1000).toFixed(0)} s; ${loadNote()}\n`);
  process.stdout.write(table([
    ['engine', 'top-1 = native', 'accuracy', 'max |logit − native|', 'images > 1e-3 off'],
    ['native (libtorch, fake-quantized)', `${n}/${n}`, pct(nativeOk), `0 (|logits| ≤ ${scale.toFixed(1)})`, '0'],
    ['ONNX Runtime (.onnx, Q/DQ)', `${ortAgree}/${n}`, pct(ortOk), maxOrt.toExponential(2), `${ortOff}`],
    ['catkit/runtime (TF.js cpu, .catk)', `${tfAgree}/${n}`, pct(tfOk), maxTf.toExponential(2), `${tfOff}`],
  ]) + '\n');
  process.stdout.write(JSON.stringify({ run, images: n, ortAgree, tfAgree, accuracy: { native: nativeOk / n, ort: ortOk / n, tfjs: tfOk / n }, maxLogitDiff: { ort: maxOrt, tfjs: maxTf }, logitScale: scale, imagesOff: { ort: ortOff, tfjs: tfOff } }) + '\n');
} finally { rmSync(tmp, { recursive: true, force: true }); }
