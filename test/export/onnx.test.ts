// ONNX export with Q/DQ nodes, run in ONNX Runtime (onnxruntime-node) against catkit's own
// fake-quantized forward pass, for ResNet-8/20 (CIFAR layout), ResNet-18 and MobileNetV2 with random
// weights and every activation range mode; python3-onnx's checker must accept each file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { manualSeed, noGrad, randn, tidy } from '../../src/tensor/index.js';
import { buildModel } from '../../src/models/registry.js';
import { Linear } from '../../src/nn/index.js';
import { attachCat, type RangeMode } from '../../src/method/index.js';
import { modelContent } from '../../src/app/export/run-model.js';
import { writeOnnx } from '../../src/export/onnx.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Case { model: string; range: RangeMode; size: number; bits: number }
const CASES: Case[] = [
  { model: 'resnet8', range: 'tensor', size: 20, bits: 4 },
  { model: 'resnet20', range: 'clip', size: 32, bits: 4 },
  { model: 'resnet18', range: 'tensor', size: 32, bits: 8 },
  { model: 'mobilenet_v2', range: 'channel', size: 32, bits: 4 },
  { model: 'mobilenet_v2_keras', range: 'clip', size: 32, bits: 6 },
];

function checkWithPython(file: string): void {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `onnx.checker refused ${file}:\n${r.stderr}`);
}

for (const c of CASES) {
  test(`${c.model} (${c.range} ranges, ${c.bits}-bit activations, 8-bit weights): ONNX Runtime matches catkit`, async (t) => {
    manualSeed(7);
    const model = buildModel(c.model, { inChannels: 3, numClasses: 10 });
    // Batch-norm statistics of real activations (random init leaves MobileNetV2's logits at ~0).
    model.train();
    noGrad(() => { for (let k = 0; k < 12; k++) tidy(() => { model.forward(randn([4, 3, c.size, c.size])); }); });
    for (const [name, m] of model.namedModules()) if (m instanceof Linear) noGrad(() => m.param('weight').mul_(name.startsWith('classifier') ? 100 : 1));
    attachCat(model, { defaults: { bits: c.bits, range: c.range }, weights: { bits: 8 } });
    model.eval();
    const x = randn([2, 3, c.size, c.size]);
    const expected = noGrad(() => tidy(() => (model.forward(x).dataSync() as Float32Array).slice()));
    const { graph, tensors } = modelContent(model, [3, c.size, c.size], { bits: 8, includeLinear: false });
    const bytes = writeOnnx(graph, tensors);
    const file = path.join(dir, `${c.model}-${c.range}.onnx`);
    writeFileSync(file, bytes);
    checkWithPython(file);

    const decoded = onnxProto.onnx.ModelProto.decode(bytes);
    const ops = decoded.graph!.node!.map((n) => n.opType);
    const count = (op: string) => ops.filter((o) => o === op).length;
    const quantizedWeights = tensors.filter((t) => 'quantized' in t).length;
    assert.equal(count('QuantizeLinear'), graph.sites.length, 'one QuantizeLinear per activation site');
    assert.equal(count('DequantizeLinear'), graph.sites.length + quantizedWeights, 'and a DequantizeLinear per site and per quantized weight');
    assert.equal(Number(decoded.opsetImport![0]!.version), 13);

    const session = await ort.InferenceSession.create(bytes);
    const input = new ort.Tensor('float32', Float32Array.from(x.dataSync() as Float32Array), [2, 3, c.size, c.size]);
    const out = await session.run({ input });
    const got = out.logits!.data as Float32Array;
    x.dispose(); model.dispose();
    assert.deepEqual(out.logits!.dims, [2, 10]);
    // Float differences between the engines (batch norm, accumulation order) can move a value
    // across a rounding boundary of an activation quantizer: a step of one code at that element.
    const scale = Math.max(...expected.map(Math.abs));
    const maxDiff = Math.max(...got.map((v, i) => Math.abs(v - expected[i]!)));
    t.diagnostic(`max |ORT − catkit| ${maxDiff.toExponential(2)}, logit scale ${scale.toFixed(3)}`);
    assert.ok(maxDiff <= 0.02 * scale + 1e-4, `max |ORT − catkit| = ${maxDiff} (logit scale ${scale})`);
    for (let n = 0; n < 2; n++) {
      const row = (a: Float32Array) => [...a.subarray(10 * n, 10 * n + 10)];
      const top = (r: number[]) => r.indexOf(Math.max(...r));
      assert.equal(top(row(got)), top(row(expected)), `image ${n}: top-1`);
    }
  });
}
