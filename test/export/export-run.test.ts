// `catkit export --format catk` of a trained CAT run, and evaluation of the file with the native
// engine: the same accuracy and the same per-layer coded bits as evaluating the run itself (the
// file's weights are the run's fake-quantized weights bit for bit).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { noGrad, tidy } from '../../src/tensor/index.js';
import { QuantConv2d, fakeQuantizeDynamic, quantizationCodes } from '../../src/method/index.js';
import { runEvaluation } from '../../src/app/run.js';
import { disposeSession } from '../../src/train/session.js';
import { exportRun, evaluateModelFile, loadModelFile } from '../../src/app/export/model-file.js';
import { openRun } from '../../src/app/export/run-model.js';
import { makeCatRun, type CatRunFixture } from '../helpers/cat-run-fixture.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
let fx: CatRunFixture;
after(() => { if (fx) rmSync(fx.root, { recursive: true, force: true }); });

test('export → eval --model-file reproduces the run\'s evaluation exactly', async () => {
  fx = await makeCatRun();
  const out = path.join(fx.root, 'model.catk');
  const s = await exportRun(fx.cat, { format: 'catk', out });
  assert.equal(s.sites, 7);
  const fromRun = await runEvaluation(fx.cat, { write: false });
  const fromFile = await evaluateModelFile(out);
  assert.equal(fromFile.accuracy, fromRun.accuracy);
  assert.equal(fromFile.testSamples, 160);
  // Identical activation codes give identical per-layer entropy and coded sizes.
  assert.deepEqual(fromFile.layers, fromRun.layers);
  assert.deepEqual(fromFile.bitsPerValue, fromRun.bitsPerValue);

  // The stored weights are the run's fake-quantized conv weights, bit for bit.
  const m = loadModelFile(out);
  const { session } = openRun(fx.cat);
  try {
    let convs = 0;
    for (const [name, mod] of session.model.namedModules()) {
      if (!(mod instanceof QuantConv2d)) continue;
      const w = mod.param('weight');
      const { codes, ref, fq } = noGrad(() => tidy(() => ({
        codes: Array.from(fakeQuantizeDynamic(w, 8, { codes: true }).codes!.dataSync() as Float32Array),
        // An independent derivation of the codes: round((w − min)·255/(max − min)).
        ref: Array.from(quantizationCodes(w, 8, { min: w.min(), max: w.max() })!.dataSync() as Float32Array),
        fq: (mod.quantizedWeight().dataSync() as Float32Array).slice(),
      })));
      const got = m.tensors.get(`${name}.weight`)!;
      assert.equal(got.entry.kind, 'q');
      assert.deepEqual(Array.from(got.quantized!.codes), codes, `${name}.weight codes`);
      assert.ok(codes.filter((c, i) => c !== ref[i]).length <= 1, `${name}.weight: codes off the min/max grid`);
      // The file's values are the weights the run evaluated with, bit for bit.
      assert.deepEqual(got.values, Float32Array.from(fq), `${name}.weight values`);
      convs++;
    }
    assert.equal(convs, 9); // stem, 3 blocks × 2, 2 projection shortcuts
    const clip = m.graph.sites.find((x) => x.name === 'layer1.0.relu1')!;
    assert.equal(clip.bits, 4);
    assert.ok(clip.clip! > 0);
  } finally { await disposeSession(session); }
});

test('the CLI exports, inspects (without the engine) and refuses bad files with one line and exit 2', () => {
  const out = path.join(fx.root, 'cli.catk');
  const env = { ...process.env, CATKIT_THREADS: '1' };
  let r = spawnSync(process.execPath, [BIN, 'export', fx.cat, '--out', out], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  r = spawnSync(process.execPath, [BIN, 'export', fx.cat, '--out', out], { encoding: 'utf8', env });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /already exists; pass --force/);
  r = spawnSync(process.execPath, [BIN, 'export', fx.cat, '--out', path.join(fx.cat, 'checkpoint.json'), '--force'], { encoding: 'utf8', env });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /would overwrite the run/);

  const guard = path.join(fx.root, 'guard.cjs');
  writeFileSync(guard, "require('module')._extensions['.node'] = (m, f) => { throw new Error('native addon loaded: ' + f); };\n");
  r = spawnSync(process.execPath, ['-r', guard, BIN, 'inspect', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /conv1\.weight +\[8,1,3,3\] +8 +\w+/);
  assert.match(r.stdout, /vs float32 safetensors/);

  const bytes = readFileSync(out);
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated', bytes.subarray(0, bytes.length - 7), /truncated/],
    ['version', Uint8Array.from(bytes, (b, i) => (i === 4 ? 9 : b)), /format version 9 is not supported/],
    ['corrupt', Uint8Array.from(bytes, (b, i) => (i === bytes.length - 3 ? b ^ 1 : b)), /tensor '[^']+'.*CRC-32/],
  ];
  for (const [label, data, msg] of cases) {
    const file = path.join(fx.root, `${label}.catk`);
    writeFileSync(file, data);
    for (const args of [['inspect', file], ['eval', '--model-file', file]]) {
      r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
      assert.equal(r.status, 2, `${label} ${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, msg, label);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${label}: one line, got ${r.stderr}`);
    }
  }
  // Not a file: a folder and a pipe are refused before reading (a pipe would otherwise block the read).
  const pipe = path.join(fx.root, 'pipe.catk');
  spawnSync('mkfifo', [pipe]);
  for (const [file, msg] of [[fx.root, /not a regular file \(a folder\)/], [pipe, /not a regular file \(a pipe\)/], [path.join(fx.root, 'none.catk'), /cannot read \(ENOENT\)/]] as const) {
    r = spawnSync(process.execPath, [BIN, 'inspect', file], { encoding: 'utf8', env, timeout: 60_000 });
    assert.equal(r.status, 2, `${file}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${file}: one line, got ${r.stderr}`);
  }
});
