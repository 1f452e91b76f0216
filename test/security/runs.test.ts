// No lost work: runs started together into one folder, repeated runs, demo into an existing folder,
// stale and live locks, stale temp files of a crashed write, outputs equal to inputs, and
// checkpoint fields edited by hand. Also: --threads above the cores, train/test size mismatch,
// batches larger than the machine's memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertRefused, assertUntouched, catkit, sandbox, snapshot } from './helpers.js';

const TINY = ['--model', 'resnet8', '--width', '0.25', '--epochs', '1', '--limit-train', '64', '--limit-test', '20', '--batch-size', '32'];

/** The PID of a process that has exited (so a lock holding it is stale). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('two runs started together into one folder: one finishes, the other is refused, nothing is lost', async () => {
  const box = sandbox();
  try {
    const out = path.join(box.inside, 'run');
    const [a, b] = await Promise.all([catkit(box, ['train', ...TINY, '--seed', '1', '--out', out]), catkit(box, ['train', ...TINY, '--seed', '2', '--out', out])]);
    const [winner, loser] = a.code === 0 ? [a, b] : [b, a];
    assert.equal(winner.code, 0, winner.stderr);
    assertRefused(loser, /(is in use by another catkit run \(pid \d+ on .*\)|already holds a run)$/);
    // The folder holds exactly the winner's run, complete, and no lock.
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const meta = JSON.parse(readFileSync(path.join(out, 'checkpoint.json'), 'utf8'));
    assert.equal(report.config.seed, meta.config.seed);
    assert.equal(meta.epoch, 1);
    assert.ok(!existsSync(path.join(out, '.catkit.lock')));
    // Repeating the run is refused without --force, and changes nothing.
    const before = snapshot(out);
    const again = await catkit(box, ['train', ...TINY, '--out', out]);
    assertRefused(again, /run already holds a run$/);
    assert.match(again.stderr, /\nhint: pass --resume to continue it, --force to replace it/);
    assert.equal(snapshot(out), before);
    for (const r of [a, b, again]) assertUntouched(box, r);
  } finally { box.dispose(); }
});

test('locks: a live one refuses, a stale one is reported with how to clear it, --force clears it and stale temp files go', async () => {
  const box = sandbox();
  try {
    const live = path.join(box.inside, 'live'), stale = path.join(box.inside, 'stale');
    mkdirSync(live);
    mkdirSync(stale);
    writeFileSync(path.join(live, '.catkit.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), started: 'now', command: 'train --out live' }));
    const dead = deadPid();
    writeFileSync(path.join(stale, '.catkit.lock'), JSON.stringify({ pid: dead, host: os.hostname(), started: 'then', command: 'train' }));
    // A crashed atomic write leaves `<file>.tmp-<pid>`.
    writeFileSync(path.join(stale, `checkpoint.json.tmp-${dead}`), '{"half": ');
    const [l, s] = await Promise.all([catkit(box, ['train', ...TINY, '--out', live]), catkit(box, ['train', ...TINY, '--out', stale])]);
    assertRefused(l, new RegExp(`live is in use by another catkit run \\(pid ${process.pid} on .*: catkit train --out live\\)$`));
    assertRefused(s, new RegExp(`stale is locked by a run that is no longer running \\(pid ${dead} on `));
    assert.match(s.stderr, /\nhint: if no catkit run uses .*stale, delete .*stale\/\.catkit\.lock or pass --force \(with --resume: continue that run\)\n/);
    // --force clears the stale lock (never a live one), the temp file is removed, the run completes; --threads is capped.
    const f = await catkit(box, ['train', ...TINY, '--out', stale, '--force', '--threads', '999']);
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stderr, new RegExp(`removed 1 temp file\\(s\\) of an interrupted write in .*stale: checkpoint\\.json\\.tmp-${dead}`));
    assert.match(f.stderr, new RegExp(`catkit: warning: --threads 999 is more than the ${os.availableParallelism()} cores of this machine; using ${os.availableParallelism()}`));
    assert.match(f.stderr, new RegExp(`\\nthreads: ${os.availableParallelism()} \\(libtorch intra-op\\)`));
    assert.ok(!existsSync(path.join(stale, `checkpoint.json.tmp-${dead}`)));
    assert.ok(!existsSync(path.join(stale, '.catkit.lock')));
    const lf = await catkit(box, ['train', ...TINY, '--out', live, '--force']);
    assertRefused(lf, /live is in use by another catkit run/);

    // Hand-edited checkpoint fields name the file and the field (eval, resume and cat all read them).
    const file = path.join(stale, 'checkpoint.json');
    const meta = JSON.parse(readFileSync(file, 'utf8'));
    const edits: [string, (m: typeof meta) => void, RegExp][] = [
      ['epoch-99', (m) => { m.epoch = 99; }, /checkpoint\.json: epoch must be at most config\.epochs \(1\), got 99$/],
      ['epoch-abc', (m) => { m.epoch = 'abc'; }, /checkpoint\.json: epoch must be a non-negative integer \(epochs completed\), got "abc"$/],
      ['lr', (m) => { m.config.lr = -1; }, /checkpoint\.json: config\.lr must be a finite number > 0, got -1$/],
      ['bits', (m) => { m.config.actBits = 99; }, /checkpoint\.json: config\.actBits must be an integer from 1 to 16, got 99$/],
      ['tensors', (m) => { m.tensorsFile = '../../outside/secret.bin'; }, /checkpoint\.json: tensorsFile must be the name of a \.safetensors file in the run folder, got "\.\.\/\.\.\/outside\/secret\.bin"$/],
    ];
    const runs = edits.map(([name, edit]) => {
      const dir = path.join(box.inside, name);
      mkdirSync(dir);
      const m = structuredClone(meta);
      edit(m);
      writeFileSync(path.join(dir, 'checkpoint.json'), JSON.stringify(m));
      writeFileSync(path.join(dir, meta.tensorsFile), readFileSync(path.join(stale, meta.tensorsFile)));
      return catkit(box, name === 'epoch-99' ? ['train', '--resume', '--out', dir] : ['eval', '--checkpoint', dir]);
    });
    for (const [i, r] of (await Promise.all(runs)).entries()) {
      assertRefused(r, edits[i]![2]);
      assertUntouched(box, r);
    }
    // Resuming a finished run is refused instead of "succeeding" without training.
    assertRefused(await catkit(box, ['train', '--resume', '--out', stale]), /has completed 1 epoch\(s\), so resuming it for 1 would train nothing$/);
  } finally { box.dispose(); }
});

test('demo into an existing folder, and outputs that are inputs, are refused before anything is written', async () => {
  const box = sandbox();
  try {
    const demo = path.join(box.inside, 'demo');
    mkdirSync(path.join(demo, 'fp32'), { recursive: true });
    writeFileSync(path.join(demo, 'fp32', 'report.json'), '{"earlier": true}');
    writeFileSync(path.join(demo, 'fp32', 'checkpoint.json'), '{"earlier": true}');
    const sym = path.join(box.inside, 'sym.u8');
    writeFileSync(sym, Buffer.from([1, 2, 3, 0, 0, 0]));
    symlinkSync(sym, path.join(box.inside, 'alias.u8'));
    const hf = path.join(box.inside, 'hf');
    mkdirSync(hf);
    writeFileSync(path.join(hf, 'config.json'), '{"model_type": "bert"}');
    const weights = path.join(box.inside, 'w.safetensors');
    writeFileSync(weights, 'not read');
    const before = snapshot(box.inside);
    const rs = await Promise.all([
      catkit(box, ['demo', '--out', demo]),
      catkit(box, ['codec', 'encode', sym, sym]),
      catkit(box, ['codec', 'encode', sym, path.join(box.inside, 'alias.u8')]),
      catkit(box, ['codec', 'decode', './sym.u8', sym]),
      catkit(box, ['predict', '--model', 'resnet18', '--weights', weights, '--input', sym, '--output', `${box.inside}/./w.safetensors`]),
      catkit(box, ['predict', '--model', 'resnet18', '--weights', weights, '--input', sym, '--output', 'sym.u8']),
      catkit(box, ['import', '--from', 'hf', '--model', 'bert', '--weights', hf, '--out', hf]),
      catkit(box, ['train', '--init', hf, '--out', hf]),
    ]);
    const expect = [
      /demo already holds the runs of an earlier demo \(fp32\)$/,
      /<output> .*sym\.u8 is the same file as <input> .*sym\.u8; refusing to overwrite an input$/,
      /<output> .*alias\.u8 is the same file as <input> .*sym\.u8/,
      /<output> .*sym\.u8 is the same file as <input> \.\/sym\.u8/,
      /--output .*w\.safetensors is the same file as --weights/,
      /--output sym\.u8 is the same file as --input/,
      /--out .*hf is the same file as --weights/,
      /no checkpoint at .*hf|--out .*hf is the same file as --init/,
    ];
    rs.forEach((r, i) => { assertRefused(r, expect[i]!); assertUntouched(box, r); });
    assert.match(rs[0]!.stderr, /\nhint: pass --force to replace them, or choose another --out\n/);
    assert.equal(snapshot(box.inside).split('\n').filter((l) => !l.startsWith('fs-')).join('\n'), before.split('\n').filter((l) => !l.startsWith('fs-')).join('\n'));
  } finally { box.dispose(); }
});

test('train and test images of different sizes, and batches beyond the machine\'s memory, are refused up front', async () => {
  const box = sandbox();
  try {
    const data = path.join(box.inside, 'fmnist');
    mkdirSync(data);
    const idx = (dims: number[], fill: (i: number) => number): Buffer => {
      const h = Buffer.alloc(4 + 4 * dims.length);
      h.writeUInt32BE(0x800 | dims.length, 0);
      dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
      const n = dims.reduce((a, b) => a * b, 1);
      return Buffer.concat([h, Buffer.from(Array.from({ length: n }, (_, i) => fill(i)))]);
    };
    writeFileSync(path.join(data, 'train-images-idx3-ubyte'), idx([40, 28, 28], (i) => (i * 7) & 0xff));
    writeFileSync(path.join(data, 'train-labels-idx1-ubyte'), idx([40], (i) => i % 10));
    writeFileSync(path.join(data, 't10k-images-idx3-ubyte'), idx([10, 20, 20], (i) => (i * 3) & 0xff));
    writeFileSync(path.join(data, 't10k-labels-idx1-ubyte'), idx([10], (i) => i % 10));
    const [mismatch, huge] = await Promise.all([
      catkit(box, ['train', '--dataset', 'fashion-mnist', '--data', data, '--model', 'resnet8', '--epochs', '1', '--batch-size', '8', '--validation', '0.25', '--out', path.join(box.inside, 'a')]),
      catkit(box, ['train', ...TINY, '--resize', '4096', '--out', path.join(box.inside, 'b')]),
    ]);
    assertRefused(mismatch, /fashion-mnist \(.*fmnist\): training images are 1×28×28 but test images are 1×20×20$/);
    assert.match(mismatch.stderr, /\nhint: give both splits one image size, or bring them to one with --pad-to S or --resize S\n/);
    assertRefused(huge, /^catkit: training batches of 32 images of 1×4096×4096 need about \d+ GB of memory; this machine has \d+ GB$/);
    assert.ok(!existsSync(path.join(box.inside, 'a', 'checkpoint.json')) && !existsSync(path.join(box.inside, 'b', 'checkpoint.json')));
  } finally { box.dispose(); }
});
