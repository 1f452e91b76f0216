// torchvision 0.14 parity for the SSD family on random weights: ssd300_vgg16, ssd512_vgg16 (from
// torchvision's high-res extractor) and ssdlite320_mobilenet_v3_large load torchvision state dicts by
// name, reproduce the raw head outputs (box regressions, class logits) within 1e-4 relative and the
// default boxes, and — through decoding, per-class top-k, batched NMS and rescaling — return the same
// detections (same count, boxes within 1e-3 px). References come from make_ssd_reference.py.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispose, getNumThreads, memory, noGrad, setNumThreads, tidy } from '../../src/tensor/index.js';
import { loadSafetensors } from '../../src/nn/index.js';
import { loadTorchStateDict, readTorchStateDict } from '../../src/models/import.js';
import { buildDetector, detectorClassesFromStateDict } from '../../src/models/detection/registry.js';
import { VGG_SSD_REFERENCE_SITES } from '../../src/models/detection/vgg-ssd.js';
import { ReLU } from '../../src/nn/index.js';

const SCRIPT = fileURLToPath(new URL('../../../test/detection/make_ssd_reference.py', import.meta.url));
const MODELS = ['ssdlite320_mobilenet_v3_large', 'ssd300_vgg16', 'ssd512_vgg16'] as const;
interface Manifest { keys: [string, number[], string][]; numParams: number; grids: number[][]; detections: number[] }

let dir = '';
// The reference runs on one thread; so does catkit here, so both sum in the same order (with two
// threads the float32 rounding differs by ~3e-5 relative, which box decoding turns into ~2e-3 px).
let threads = 0;
before(() => {
  threads = getNumThreads();
  setNumThreads(1);
  dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-ssd-parity-'));
  execFileSync('/usr/bin/python3', [SCRIPT, dir, ...MODELS], { env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
});
after(() => {
  if (threads) setNumThreads(threads);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function relError(actual: ArrayLike<number> | ArrayLike<bigint>, expected: ArrayLike<number> | ArrayLike<bigint>): number {
  const a = Array.from(actual as ArrayLike<number>, Number), e = Array.from(expected as ArrayLike<number>, Number);
  return relErr(a, e);
}
function relErr(actual: number[], expected: number[]): number {
  assert.equal(actual.length, expected.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  assert.ok(scale > 0.1, `reference is not degenerate (max |value| ${scale})`);
  return diff / scale;
}

for (const name of MODELS) {
  test(`${name}: torchvision names and shapes, head outputs, default boxes and detections`, (t) => {
    const live = memory().numTensors;
    const manifest = JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Manifest;
    const { tensors: sd } = readTorchStateDict(path.join(dir, `${name}.safetensors`));
    const { tensors: io } = loadSafetensors(path.join(dir, `${name}.io.safetensors`));
    const numClasses = detectorClassesFromStateDict(name, sd);
    assert.equal(numClasses, 21);
    const model = buildDetector(name, { numClasses: 21 });
    try {
      const ours = tidy(() => [...model.stateDict()].map(([k, v]) => [k, [...v.shape], v.dtype === 'int64' ? 'I64' : 'F32']));
      assert.deepEqual(ours, manifest.keys);
      assert.equal(model.numParameters(), manifest.numParams);
      const r = loadTorchStateDict(model, sd, name);
      assert.deepEqual(r.missing, []);
      model.eval();

      const images = io.get('images')!;
      noGrad(() => tidy(() => {
        const out = model.forward(model.preprocess(images));
        assert.deepEqual(out.gridSizes, manifest.grids);
        const regErr = relError(out.boxRegression.dataSync(), io.get('bbox_regression')!.dataSync());
        const clsErr = relError(out.clsLogits.dataSync(), io.get('cls_logits')!.dataSync());
        t.diagnostic(`${name}: head max |Δ|/max: regression ${regErr.toExponential(2)}, logits ${clsErr.toExponential(2)}`);
        assert.ok(regErr <= 1e-4 && clsErr <= 1e-4, `head outputs differ: ${regErr}, ${clsErr}`);
        const anchorsRef = io.get('anchors')!.toArray(), anchors = model.anchors(out).toArray();
        assert.equal(anchors.length, anchorsRef.length);
        let worst = 0;
        for (let i = 0; i < anchors.length; i++) worst = Math.max(worst, Math.abs(anchors[i]! - anchorsRef[i]!));
        assert.ok(worst <= 1e-4, `default boxes differ by ${worst} px`);
      }));

      const dets = model.detect(images);
      assert.equal(dets.length, manifest.detections.length);
      dets.forEach((d, i) => {
        assert.equal(d.count, manifest.detections[i], `image ${i}: detection count`);
        const boxes = io.get(`boxes.${i}`)!.toArray(), scores = io.get(`scores.${i}`)!.toArray(), labels = io.get(`labels.${i}`)!.toArray();
        let boxErr = 0, scoreErr = 0;
        for (let j = 0; j < d.boxes.length; j++) boxErr = Math.max(boxErr, Math.abs(d.boxes[j]! - boxes[j]!));
        for (let j = 0; j < d.count; j++) scoreErr = Math.max(scoreErr, Math.abs(d.scores[j]! - scores[j]!));
        t.diagnostic(`${name} image ${i}: ${d.count} detections, max |Δbox| ${boxErr.toExponential(2)} px, max |Δscore| ${scoreErr.toExponential(2)}`);
        assert.deepEqual([...d.labels], labels);
        assert.ok(boxErr <= 1e-3, `boxes differ by ${boxErr} px`);
        assert.ok(scoreErr <= 1e-5, `scores differ by ${scoreErr}`);
      });
    } finally {
      model.dispose();
      dispose([...sd.values(), ...io.values()]);
    }
    assert.equal(memory().numTensors, live, 'no live tensors left');
  });
}

test('CAT sites: VGG SSD reference sites are the VGG base ReLUs (15), the extras\' ReLUs are modules outside that set', () => {
  const model = buildDetector('ssd300_vgg16', { numClasses: 3 });
  try {
    const relus = model.namedModules().filter(([, m]) => m instanceof ReLU).map(([n]) => n);
    const reference = model.namedModules().filter(([n, m]) => VGG_SSD_REFERENCE_SITES(n, m)).map(([n]) => n);
    // conv1_1 … conv4_3 (10) in features, conv5_1 … conv5_3 and fc6, fc7 (5) in extra.0; 4 extras × 2.
    assert.equal(reference.length, 15);
    assert.equal(relus.length, 23);
    assert.deepEqual(reference.slice(0, 2), ['backbone.features.1', 'backbone.features.3']);
    assert.deepEqual(reference.slice(-2), ['backbone.extra.0.7.2', 'backbone.extra.0.7.4']);
    assert.deepEqual(relus.filter((n) => !reference.includes(n)), ['backbone.extra.1.1', 'backbone.extra.1.3', 'backbone.extra.2.1', 'backbone.extra.2.3', 'backbone.extra.3.1', 'backbone.extra.3.3', 'backbone.extra.4.1', 'backbone.extra.4.3']);
  } finally { model.dispose(); }
});
