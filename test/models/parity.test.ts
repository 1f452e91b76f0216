// torchvision parity: ImageNet ResNet-18/34/50 and MobileNetV2 load torchvision state dicts by name
// and reproduce torchvision's eval-mode logits, through the library and through `catkit predict`;
// imported runs feed `catkit cat`; bad state dicts fail with one StateDictError; CAT finds the
// paper's activation-site counts (paper.md §2.1). The reference comes from Debian's torch 1.13 /
// torchvision 0.14 (/usr/bin/python3), generated once per run into a temp dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispose, memory, noGrad, tidy, zeros, type Tensor } from '../../src/tensor/index.js';
import { loadSafetensors, saveSafetensors, StateDictError, type Module } from '../../src/nn/index.js';
import { attachCat } from '../../src/method/index.js';
import { buildModel, MODEL_NAMES } from '../../src/models/registry.js';
import { importTorchModel, loadTorchStateDict, readTorchStateDict } from '../../src/models/import.js';
import { resnet18, resnet50, BasicBlock, Bottleneck } from '../../src/models/resnet.js';
import { MobileNetV2, makeDivisible } from '../../src/models/mobilenetv2.js';
import { loadCheckpoint, readCheckpointMeta } from '../../src/train/checkpoint.js';
import { predictAction } from '../../src/app/import.js';

const SCRIPT = fileURLToPath(new URL('../../../test/models/make_torchvision_reference.py', import.meta.url));
const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const MODELS = ['resnet18', 'resnet34', 'resnet50', 'mobilenet_v2'] as const;
/** ReLU / ReLU6 outputs CAT quantizes and counts (paper.md §2.1). */
const SITES = { resnet18: 17, resnet34: 33, resnet50: 49, mobilenet_v2: 35 };
const TOLERANCE = 1e-4;

interface Manifest {
  size: number;
  models: Record<string, { keys: [string, number[], string][]; numParams: number }>;
  mobilenetWidths: Record<string, [string, number[]][]>;
}

let dir = '';
let manifest: Manifest;
const files = (name: string) => ({ weights: path.join(dir, `${name}.safetensors`), logits: path.join(dir, `${name}.logits.safetensors`) });
const inputFile = () => path.join(dir, 'input.safetensors');

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-parity-'));
  execFileSync('/usr/bin/python3', [SCRIPT, dir, '64'], { env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function readTensor(file: string, name: string): Tensor {
  const { tensors } = loadSafetensors(file);
  const t = tensors.get(name);
  assert.ok(t, `${file} holds '${name}'`);
  tensors.delete(name);
  dispose([...tensors.values()]);
  return t;
}

/** max |a − b| / max |b|: the error relative to the logits' scale (elementwise ratios blow up near 0). */
function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  assert.ok(scale > 0.1, `reference logits are not degenerate (max |logit| ${scale})`);
  return diff / scale;
}

function evalLogits(model: Module, x: Tensor): number[] {
  model.eval();
  return noGrad(() => tidy(() => model.forward(x).toArray()));
}

function referenceLogits(name: string): number[] {
  const t = readTensor(files(name).logits, 'logits');
  try { return t.toArray(); } finally { t.dispose(); }
}

for (const name of MODELS) {
  test(`${name}: torchvision names, shapes, parameter count and eval logits (library); CAT finds ${SITES[name]} sites`, (t) => {
    const live = memory().numTensors;
    const { model, spec, result } = importTorchModel(name, files(name).weights);
    const x = readTensor(inputFile(), 'input');
    try {
      const ref = manifest.models[name]!;
      // Same keys in the same order with the same shapes and dtypes: the module tree mirrors torchvision's.
      const sd = model.stateDict();
      const ours = [...sd].map(([k, v]) => [k, [...v.shape], v.dtype === 'int64' ? 'I64' : v.dtype === 'float32' ? 'F32' : v.dtype]);
      dispose([...sd.values()]);
      assert.deepEqual(ours, ref.keys);
      assert.equal(model.numParameters(), ref.numParams);
      assert.deepEqual(spec, { inChannels: 3, numClasses: 1000, widthMultiplier: 1 });
      assert.equal(result.loaded, ref.keys.length);
      assert.equal(result.tensors, ref.keys.length);
      assert.equal(result.parameters, ref.numParams);
      assert.deepEqual(result.missing, []);

      const err = relError(evalLogits(model, x), referenceLogits(name));
      t.diagnostic(`${name}: max |Δlogit| / max |logit| = ${err.toExponential(2)}`);
      assert.ok(err <= TOLERANCE, `${name}: relative logit error ${err} > ${TOLERANCE}`);

      const cat = attachCat(model, { defaults: { bits: 4 }, weights: { bits: 8, linear: true } });
      assert.equal(cat.sites.length, SITES[name]);
      const kinds = new Set(cat.sites.map((q) => q.inner.constructor.name));
      assert.deepEqual([...kinds], [name === 'mobilenet_v2' ? 'ReLU6' : 'ReLU']);
      assert.ok(cat.sites.every((q) => !q.settings.signed), 'ReLU-like sites are unsigned');
      // Neither sites nor quantized layers rename a tensor: the torchvision keys plus one clip per site.
      const keysNow = tidy(() => [...model.stateDict().keys()]);
      assert.deepEqual(keysNow.filter((k) => !k.endsWith('.clip')), ref.keys.map((k: unknown[]) => k[0]));
      assert.deepEqual([...cat.addedKeys].sort(), keysNow.filter((k) => k.endsWith('.clip')).sort());
      // Quantizers add only `….clip`; a float torchvision file still loads (what `cat --init` relies on).
      const { tensors } = readTorchStateDict(files(name).weights);
      try {
        model.loadStateDict(tensors, { allowMissing: (k) => k.endsWith('.clip') });
      } finally { dispose([...tensors.values()]); }
    } finally {
      x.dispose();
      model.dispose();
    }
    assert.equal(memory().numTensors, live, 'import + forward leave no live tensors');
  });
}

test('CAT site names: every ReLU its own module; MobileNetV2 linear bottlenecks are not sites', () => {
  const r18 = resnet18({ numClasses: 10 });
  const r50 = resnet50({ numClasses: 10 });
  const mb = buildModel('mobilenet_v2', { inChannels: 3, numClasses: 10 });
  try {
    const sites = (m: Module) => attachCat(m).sites.map((q) => q.name);
    assert.deepEqual(sites(r18).slice(0, 4), ['relu', 'layer1.0.relu1', 'layer1.0.relu2', 'layer1.1.relu1']);
    assert.deepEqual(sites(r50).slice(0, 5), ['relu', 'layer1.0.relu1', 'layer1.0.relu2', 'layer1.0.relu3', 'layer1.1.relu1']);
    const mbSites = sites(mb);
    assert.deepEqual(mbSites.slice(0, 4), ['features.0.2', 'features.1.conv.0.2', 'features.2.conv.0.2', 'features.2.conv.1.2']);
    assert.equal(mbSites[mbSites.length - 1], 'features.18.2');
    // Block outputs (projection conv + BN, residual sums) stay linear: no site inside conv.2/conv.3 of any block.
    assert.ok(mbSites.every((s) => s === 'features.0.2' || s === 'features.18.2' || /^features\.\d+\.conv\.[01]\.2$/.test(s)), mbSites.join(', '));
  } finally { r18.dispose(); r50.dispose(); mb.dispose(); }
});

test('catkit predict reproduces the torchvision logits and refuses a contradicting --num-classes', (t) => {
  const out = path.join(dir, 'predict-mobilenet.safetensors');
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'predict', '--model', 'mobilenet_v2', '--weights', files('mobilenet_v2').weights, '--input', inputFile(), '--threads', '1', ...args], { encoding: 'utf8' });
  const ok = run('--output', out);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /loaded 314 of 314 tensors .*3,504,872 parameters/);
  const y = readTensor(out, 'output');
  try {
    assert.deepEqual(y.shape, [2, 1000]);
    const err = relError(y.toArray(), referenceLogits('mobilenet_v2'));
    t.diagnostic(`mobilenet_v2 via catkit predict: max |Δlogit| / max |logit| = ${err.toExponential(2)}`);
    assert.ok(err <= TOLERANCE, `CLI relative logit error ${err}`);
  } finally { y.dispose(); }

  const bad = run('--output', path.join(dir, 'never.safetensors'), '--num-classes', '10');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /^catkit: --num-classes 10 contradicts the weights: classifier\.1\.weight has shape \[1000, 1280\]/);
  assert.ok(!/\n\s+at /.test(bad.stderr), 'no stack trace');
});

test('predict names a missing `input` tensor and a channel mismatch', () => {
  const weights = files('resnet18').weights;
  const wrongName = path.join(dir, 'wrong-name.safetensors');
  const x = readTensor(inputFile(), 'input');
  try {
    saveSafetensors(wrongName, new Map([['images', x]]));
    assert.throws(() => predictAction({ model: 'resnet18', weights, input: wrongName, output: path.join(dir, 'o.safetensors') }),
      { code: 'bad_input', message: /has no tensor named 'input' \(it holds: images\)/ });
    const gray = path.join(dir, 'gray.safetensors');
    tidy(() => saveSafetensors(gray, new Map([['input', x.narrow(1, 0, 1)]])));
    assert.throws(() => predictAction({ model: 'resnet18', weights, input: gray, output: path.join(dir, 'o.safetensors') }),
      { code: 'bad_input', message: /has 1 channels, the weights expect 3/ });
  } finally { x.dispose(); }
});

test('a wrong shape, an extra key and a missing key come back together in one StateDictError', () => {
  const { tensors } = readTorchStateDict(files('resnet18').weights);
  const model = buildModel('resnet18', { inChannels: 3, numClasses: 1000 });
  const extra: Tensor[] = [];
  try {
    const bad = new Map(tensors);
    bad.delete('fc.bias');
    const wrong = tidy(() => tensors.get('layer1.0.conv1.weight')!.narrow(2, 0, 1).narrow(3, 0, 1).contiguous());
    extra.push(wrong);
    bad.set('layer1.0.conv1.weight', wrong);
    bad.set('layer1.0.extra.weight', tensors.get('fc.bias')!);
    assert.throws(() => loadTorchStateDict(model, bad, 'bad.safetensors'), (e: unknown) => {
      assert.ok(e instanceof StateDictError);
      assert.deepEqual(e.missing, ['fc.bias']);
      assert.deepEqual(e.unexpected, ['layer1.0.extra.weight']);
      assert.deepEqual(e.mismatched, ['layer1.0.conv1.weight: checkpoint [64,64,1,1] vs model [64,64,3,3]']);
      assert.match(e.message, /from bad\.safetensors/);
      return true;
    });

    // Allowed: absent BN counters (some exports drop them), float64 tensors, a DataParallel prefix.
    const lean = new Map([...tensors].filter(([k]) => !k.endsWith('.num_batches_tracked')));
    const wide = tidy(() => tensors.get('fc.weight')!.to('float64'));
    extra.push(wide);
    lean.set('fc.weight', wide);
    const r = loadTorchStateDict(model, lean, 'lean.safetensors');
    assert.equal(r.missing.length, 20);
    assert.ok(r.missing.every((k) => k.endsWith('.num_batches_tracked')));
    assert.deepEqual(r.converted, ['fc.weight: float64 → float32']);
    assert.equal(r.loaded, 102);

    const prefixed = path.join(dir, 'dataparallel.safetensors');
    saveSafetensors(prefixed, new Map([...tensors].map(([k, v]) => [`module.${k}`, v])));
    const imported = importTorchModel('resnet18', prefixed);
    imported.model.dispose();
    assert.equal(imported.result.strippedPrefix, 'module.');
    assert.equal(imported.result.loaded, 122);
  } finally {
    dispose([...tensors.values(), ...extra]);
    model.dispose();
  }
});

test('catkit import writes a run folder that catkit cat --init fine-tunes', () => {
  // Grayscale 10-class weights (as for digits) saved with torchvision names, imported, then CAT-trained briefly
  // (tiny limits, float weights, no regularizer: this checks the run folder, not training).
  const weights = path.join(dir, 'r18-digits.safetensors');
  const m = resnet18({ inChannels: 1, numClasses: 10 });
  m.save(weights);
  m.dispose();
  const runDir = path.join(dir, 'imported'), catDir = path.join(dir, 'cat');
  const catkit = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--threads', '1'], { encoding: 'utf8' });
  const imp = catkit('import', '--from', 'torch', '--model', 'resnet18', '--weights', weights, '--out', runDir, '--dataset', 'digits');
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /import: resnet18 \(1 → 10 classes\)/);
  const ck = loadCheckpoint(runDir);
  try {
    assert.equal(ck.meta.config.task, 'train');
    assert.equal(ck.meta.config.model, 'resnet18');
    assert.equal(ck.meta.config.dataset, 'digits');
    assert.equal(ck.meta.epoch, 0);
    assert.equal(ck.model.size, 122);
    assert.deepEqual(ck.model.get('conv1.weight')!.shape, [64, 1, 7, 7]);
  } finally { dispose([...ck.model.values(), ...ck.optimizer.values()]); }

  const cat = catkit('cat', '--init', runDir, '--epochs', '1', '--limit-train', '32', '--limit-test', '16', '--batch-size', '16', '--validation', '0.05', '--coded-batches', '1', '--weight-bits', '32', '--method', 'none', '--out', catDir, '--json');
  assert.equal(cat.status, 0, cat.stderr);
  const report = JSON.parse(cat.stdout) as { task: string; layers: unknown[] };
  assert.equal(report.task, 'cat');
  assert.equal(report.layers.length, SITES.resnet18);

  // An import records any dataset name, and says `cat` will need a loadable one; ImageNet (the default) needs its folder.
  const unknown = catkit('import', '--from', 'torch', '--model', 'mobilenet_v2', '--weights', files('mobilenet_v2').weights, '--out', path.join(dir, 'mb-x'), '--dataset', 'places365');
  assert.equal(unknown.status, 0, unknown.stderr);
  assert.match(unknown.stdout, /note: 'places365' is not a dataset catkit loads/);
  const note = catkit('import', '--from', 'torch', '--model', 'mobilenet_v2', '--weights', files('mobilenet_v2').weights, '--out', path.join(dir, 'mb'));
  assert.equal(note.status, 0, note.stderr);
  assert.match(note.stdout, /note: no --data recorded; give `catkit cat --init .*mb` \(and `catkit eval`\) --data DIR, the imagenet folder/);
  const meta = readCheckpointMeta(path.join(dir, 'mb')).meta.config;
  assert.deepEqual([meta.dataset, meta.batchSize, meta.randomCrop, meta.schedule], ['imagenet', 32, 0, 'step'], 'ImageNet defaults recorded');
  const again = catkit('import', '--from', 'torch', '--model', 'mobilenet_v2', '--weights', files('mobilenet_v2').weights, '--out', path.join(dir, 'mb'));
  assert.equal(again.status, 2, again.stderr);
  assert.match(again.stderr, /already holds a run/);
});

test('MobileNetV2 width multipliers match torchvision channel for channel; bad tables name the bad value', () => {
  assert.equal(makeDivisible(32 * 0.35, 8), 16); // 11.2 rounds to 8, which is < 90 %: bumped to 16
  for (const [w, keys] of Object.entries(manifest.mobilenetWidths)) {
    const m = buildModel('mobilenet_v2', { inChannels: 3, numClasses: 1000, widthMultiplier: Number(w) });
    try {
      const sd = m.stateDict();
      const ours = [...sd].map(([k, v]) => [k, [...v.shape]]);
      dispose([...sd.values()]);
      assert.deepEqual(ours, keys, `width ${w}`);
    } finally { m.dispose(); }
  }
  const table = (rows: unknown) => () => new MobileNetV2({ invertedResidualSetting: rows as number[][] });
  assert.throws(table([]), /must be a non-empty list of \[t, c, n, s\] rows, got \[\]/);
  assert.throws(table([[1, 16, 1, 1], [6, 24, 2]]), /invertedResidualSetting\[1\] must be \[t, c, n, s\], got \[6,24,2\]/);
  assert.throws(table([[1, 16, 1, 1], [6, 24, 2, 3]]), /invertedResidualSetting\[1\]: stride s must be 1 or 2, got 3/);
  assert.throws(table([[6, 24.5, 2, 2]]), /channels c must be a positive integer, got 24\.5/);
  assert.throws(table([[6, 24, 0, 2]]), /repeats n must be a positive integer, got 0/);
  assert.throws(table([[-1, 24, 1, 2]]), /expansion t must be a positive number, got -1/);
  assert.throws(() => new MobileNetV2({ widthMultiplier: 0 }), /widthMultiplier must be a positive number, got 0/);
});

test('ResNet options and the registry', () => {
  const r = resnet18({ inChannels: 1, numClasses: 7, zeroInitResidual: true });
  const b = resnet50({ zeroInitResidual: true });
  try {
    assert.deepEqual(r.getSubmodule('conv1').param('weight').shape, [64, 1, 7, 7]);
    assert.deepEqual(r.getSubmodule('fc').param('weight').shape, [7, 512]);
    const gammas = (m: Module, cls: typeof BasicBlock | typeof Bottleneck) => m.modules().filter((x) => x instanceof cls)
      .map((blk) => tidy(() => (blk as BasicBlock | Bottleneck).lastBN.param('weight').abs().sum().item()));
    assert.deepEqual(gammas(r, BasicBlock), Array(8).fill(0));
    assert.deepEqual(gammas(b, Bottleneck), Array(16).fill(0));
    assert.equal(tidy(() => r.getSubmodule('layer1.0.bn1').param('weight').sum().item()), 64); // only the last BN of each branch
    // v1.5: a Bottleneck strides on its 3×3 conv, and its shortcut projects with a strided 1×1.
    const blk = b.getSubmodule<Bottleneck>('layer2.0');
    assert.deepEqual([blk.conv1.stride, blk.conv2.stride], [[1, 1], [2, 2]]);
    // Tiny grayscale images still reach the classifier (what digits-sized data needs).
    assert.deepEqual(noGrad(() => tidy(() => r.eval().forward(zeros([1, 1, 8, 8])).shape)), [1, 7]);
  } finally { r.dispose(); b.dispose(); }
  for (const name of ['resnet18', 'resnet34', 'resnet50', 'mobilenet_v2', 'resnet20']) assert.ok(MODEL_NAMES().includes(name), name);
  assert.throws(() => buildModel('resnet18', { inChannels: 3, numClasses: 10, widthMultiplier: 0.5 }),
    { name: 'UnknownModelError', code: 'model_unknown', message: /resnet18 has torchvision's fixed widths; the width multiplier must be 1, got 0.5/ });
});
