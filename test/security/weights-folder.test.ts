// Hostile TensorFlow.js weights folders: code in a bundle never runs, manifest paths never leave the
// folder (../, absolute, symbolic links), devices and oversized shards are refused before reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertRefused, assertUntouched, catkit, sandbox, type Sandbox } from './helpers.js';

/** A model.json whose one weight (4 float32 = 16 bytes) lives in the shard `shardPath`. */
function modelJson(dir: string, shardPath: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
    modelTopology: { keras_version: '2.2.4', model_config: { class_name: 'Model', config: { name: 'm', layers: [{ class_name: 'Dense', name: 'd', config: { name: 'd' } }] } } },
    weightsManifest: [{ paths: [shardPath], weights: [{ name: 'd/kernel', shape: [2, 2], dtype: 'float32' }] }],
  }));
}

const importArgs = (box: Sandbox, weights: string, out: string) => ['import', '--from', 'tfjs', '--model', 'mobilenet_v2_keras', '--weights', weights, '--out', path.join(box.inside, out)];

test('JavaScript in an nsfwjs-style bundle is parsed as text and never runs', async () => {
  const box = sandbox();
  try {
    const marker = path.join(box.outside, 'pwned');
    const payload = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`;
    const cases: [string, RegExp][] = [
      // Plain code instead of a bundle.
      [`${payload}; module.exports = {};`, /model\.min\.js: not a data bundle/],
      // The bundle's shape with code where the data literal belongs.
      [`!function(e){module.exports=e()}(function(){return function e(a,n,i){}({1:[function(e,a,n){a.exports=(${payload},{modelTopology:{}})},{}]},{},[1])(1)});`, /model\.min\.js: not a data literal at character \d+: expected data/],
      // Code hidden in a property value.
      [`!function(e){}({1:[function(e,a,n){a.exports={modelTopology:${payload}}},{}]},{},[1])`, /not a data literal at character \d+: expected data, found 'require/],
      // A getter would run on access if the object were evaluated.
      [`!function(e){}({1:[function(e,a,n){a.exports={get modelTopology(){${payload}}}},{}]},{},[1])`, /not a data literal at character \d+: expected ':' after property 'get'/],
    ];
    const runs = cases.map(([code], i) => {
      const dir = path.join(box.inside, `bundle${i}`);
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'model.min.js'), code);
      writeFileSync(path.join(dir, 'group1-shard1of1.min.js'), payload);
      return catkit(box, importArgs(box, dir, `run${i}`));
    });
    for (const [i, r] of (await Promise.all(runs)).entries()) {
      assertRefused(r, cases[i]![1]);
      assertUntouched(box, r);
    }
    assert.ok(!existsSync(marker), 'the bundle code ran');
  } finally { box.dispose(); }
});

test('manifest shard paths that leave the folder are refused before anything is read', async () => {
  const box = sandbox();
  try {
    const secret = path.join(box.outside, 'secret.bin');
    const cases: [string, (dir: string) => string, RegExp][] = [
      ['dotdot', () => '../../outside/secret.bin', /shard '\.\.\/\.\.\/outside\/secret\.bin' is outside its folder/],
      ['absolute', () => secret, /shard '.*secret\.bin' is an absolute path/],
      ['symlink', (dir) => { symlinkSync(secret, path.join(dir, 'link.bin')); return 'link.bin'; }, /shard 'link\.bin' is a link to a file outside its folder/],
      ['device', (dir) => { symlinkSync('/dev/zero', path.join(dir, 'zero.bin')); return 'zero.bin'; }, /shard 'zero\.bin' is a link to a file outside its folder/],
      ['urandom', () => '../../../../../../../../dev/urandom', /is outside its folder/],
    ];
    const runs = cases.map(([name, make]) => {
      const dir = path.join(box.inside, name);
      mkdirSync(dir);
      modelJson(dir, make(dir));
      return catkit(box, importArgs(box, dir, `run-${name}`));
    });
    for (const [i, r] of (await Promise.all(runs)).entries()) {
      assertRefused(r, cases[i]![2]);
      assertUntouched(box, r, ['/dev/zero', '/dev/urandom']);
      assert.ok(!existsSync(path.join(box.inside, `run-${cases[i]![0]}`)), 'no run folder from a refused import');
    }
  } finally { box.dispose(); }
});

test('a FIFO or an oversized shard inside the folder is refused without reading it', async () => {
  const box = sandbox();
  try {
    const fifoDir = path.join(box.inside, 'fifo');
    mkdirSync(fifoDir);
    execFileSync('mkfifo', [path.join(fifoDir, 'pipe.bin')]);
    modelJson(fifoDir, 'pipe.bin');
    const bigDir = path.join(box.inside, 'big');
    mkdirSync(bigDir);
    writeFileSync(path.join(bigDir, 'w.bin'), Buffer.alloc(1 << 20));
    modelJson(bigDir, 'w.bin');
    const [fifo, big] = await Promise.all([catkit(box, importArgs(box, fifoDir, 'r1'), { timeoutMs: 20_000 }), catkit(box, importArgs(box, bigDir, 'r2'))]);
    assertRefused(fifo, /shard pipe\.bin: not a regular file \(a pipe\)/);
    assertRefused(big, /shard w\.bin holds 1048576 bytes, more than the 16 the manifest still declares/);
  } finally { box.dispose(); }
});
