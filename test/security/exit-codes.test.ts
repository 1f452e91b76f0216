// One exit-code scheme: 0 ok, 2 the user's mistake (one line + hint/usage), 1 internal (stack),
// 130 interrupted; a command can never exit 0 without finishing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, assertRefused, assertUntouched, catkit, sandbox } from './helpers.js';

const EXIT_JS = fileURLToPath(new URL('../../src/cli/exit.js', import.meta.url));
const ERRORS_JS = fileURLToPath(new URL('../../src/errors.js', import.meta.url));

test('train --dataset imagenet on undecodable images with --bad-images fail exits 2 every time (20 runs)', async () => {
  const box = sandbox();
  try {
    const data = path.join(box.inside, 'data');
    for (const split of ['train', 'val']) {
      for (const wnid of ['n01', 'n02']) {
        mkdirSync(path.join(data, split, wnid), { recursive: true });
        for (let i = 0; i < 2; i++) writeFileSync(path.join(data, split, wnid, `x${i}.JPEG`), 'not a jpeg');
      }
    }
    const run = (i: number) => catkit(box, ['train', '--dataset', 'imagenet', '--data', data, '--bad-images', 'fail', '--model', 'resnet8', '--image-size', '16',
      '--batch-size', '2', '--epochs', '1', '--validation', '0.5', '--workers', '2', '--out', path.join(box.inside, `out${i}`)]);
    const codes: (number | null)[] = [];
    // Four at a time: the race needs real concurrency between workers and the main thread, not many processes.
    for (let i = 0; i < 20; i += 4) {
      for (const r of await Promise.all([0, 1, 2, 3].map((k) => run(i + k)))) {
        codes.push(r.code);
        assertRefused(r, /x[01]\.JPEG: unreadable image/);
      }
    }
    assert.deepEqual(codes, Array(20).fill(2));
  } finally { box.dispose(); }
});

test('parse errors print one line and the usage line, not the whole help', async () => {
  const box = sandbox();
  try {
    const [unknown, missing, typo, bad] = await Promise.all([
      catkit(box, ['train', '--bogus', '--out', 'x']),
      catkit(box, ['codec', 'encode', 'a']),
      catkit(box, ['trian']),
      catkit(box, ['train', '--epochs', 'many', '--out', 'x']),
    ]);
    assertRefused(unknown, /^catkit: unknown option '--bogus'$/);
    assert.match(unknown.stderr, /\nusage: catkit train \[options\]/);
    assertRefused(missing, /^catkit: missing required argument 'output'$/);
    assert.match(missing.stderr, /\nusage: catkit codec encode \[options\] <input> <output>/);
    assertRefused(typo, /^catkit: unknown command 'trian' \(Did you mean train\?\)$/);
    assertRefused(bad, /--epochs must be an integer/);
    for (const r of [unknown, missing, typo, bad]) assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
  } finally { box.dispose(); }
});

test('file-system mistakes in the user\'s paths are one-line user errors, not stack traces', async () => {
  const box = sandbox();
  try {
    writeFileSync(path.join(box.inside, 'sym.u8'), Buffer.from([1, 2, 3, 0, 0]));
    const [dirAsFile, noFolder] = await Promise.all([
      catkit(box, ['codec', 'decode', box.inside, path.join(box.inside, 'out.u8')]),
      catkit(box, ['codec', 'encode', path.join(box.inside, 'sym.u8'), path.join(box.inside, 'missing', 'out.catk')]),
    ]);
    assertRefused(dirAsFile, /inside.*(is a directory|EISDIR|not a regular file \(a folder\))/);
    assertRefused(noFolder, /missing\/out\.catk.*(no such file|ENOENT)/);
    for (const r of [dirAsFile, noFolder]) assertUntouched(box, r);
  } finally { box.dispose(); }
});

/** Runs a module script with the CLI's process guards installed. */
function guarded(body: string, signal?: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const script = `import { guardProcess } from ${JSON.stringify(EXIT_JS)}; import { CatkitError } from ${JSON.stringify(ERRORS_JS)};
    const guard = guardProcess(); ${body}`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      if (signal && stderr.includes('ready')) child.kill(signal);
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('a pending promise at exit, an unhandled rejection or an uncaught exception never exits 0; Ctrl-C exits 130, SIGTERM 143', async () => {
  const [pending, rejected, userRejected, thrown, interrupted, ok, terminated] = await Promise.all([
    guarded('await new Promise(() => {}); guard.finished(0);'),
    guarded('Promise.reject(new Error("boom")); setTimeout(() => guard.finished(0), 200);'),
    guarded('Promise.reject(new CatkitError("data_invalid", "bad file x")); setTimeout(() => guard.finished(0), 200);'),
    guarded('setTimeout(() => { throw new TypeError("oops"); }, 0); setTimeout(() => guard.finished(0), 200);'),
    guarded('process.stderr.write("ready\\n"); setTimeout(() => guard.finished(0), 20000);', 'SIGINT'),
    guarded('guard.finished(0);'),
    guarded('process.stderr.write("ready\\n"); setTimeout(() => guard.finished(0), 20000);', 'SIGTERM'),
  ]);
  assert.equal(pending.code, 1, pending.stderr);
  assert.match(pending.stderr, /about to end while the command was still running/);
  assert.equal(rejected.code, 1, rejected.stderr);
  assert.match(rejected.stderr, /unhandled promise rejection: internal error: Error: boom\n\s+at /);
  assert.equal(userRejected.code, 2, userRejected.stderr);
  assert.match(userRejected.stderr, /^catkit: bad file x\n$/);
  assert.equal(thrown.code, 1, thrown.stderr);
  assert.match(thrown.stderr, /uncaught exception: internal error: TypeError: oops/);
  assert.equal(interrupted.code, 130, interrupted.stderr);
  assert.match(interrupted.stderr, /catkit: interrupted/);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(terminated.code, 143, terminated.stderr);
  assert.match(terminated.stderr, /catkit: terminated/);
  // An internal error of the CLI itself keeps its stack (exit 1).
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { describeError } from ${JSON.stringify(EXIT_JS)}; process.stdout.write(JSON.stringify(describeError(new RangeError('x'))));`], { encoding: 'utf8' });
  const d = JSON.parse(r.stdout) as { text: string; code: number };
  assert.equal(d.code, 1);
  assert.match(d.text, /RangeError: x\n\s+at /);
});

test('Ctrl-C during training stops the run at the next step (exit 130), not after it finishes', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-sigint-'));
  try {
    const out = path.join(dir, 'run');
    const args = [BIN, 'train', '--model', 'resnet8', '--width', '0.25', '--dataset', 'digits', '--limit-train', '1024', '--limit-test', '64', '--epochs', '50', '--out', out];
    const child = spawn(process.execPath, args, { env: { ...process.env, CATKIT_THREADS: '1', CI: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '', sentAt = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // In-memory digits: every batch is a resolved promise; the signal must still get through.
      if (!sentAt && /epoch 1\/50 +loss/.test(stderr)) { sentAt = performance.now(); child.kill('SIGINT'); }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(sentAt > 0, stderr);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /catkit: interrupted/);
    assert.doesNotMatch(stderr, /epoch 3\/50 +loss/, 'stopped within the epoch after the signal');
    assert.ok(!existsSync(path.join(out, 'report.json')));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
