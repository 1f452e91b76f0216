// User mistakes get one clear line on stderr and exit code 2, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

function catkit(...args: string[]): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

function assertUserError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace expected, got:\n${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.ok(r.code === 1 || r.code === 2, `exit code ${r.code}`);
  assert.notEqual(r.code, 0);
}

test('train and cat reject unknown models, datasets, missing data and nonsense bit widths', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'catkit-cli-'));
  try {
    assertUserError(catkit('train', '--model', 'resnet9000', '--out', path.join(tmp, 'a')), /unknown model 'resnet9000'; known models: .*resnet20/);
    assertUserError(catkit('train', '--dataset', 'imagenet-xl', '--out', path.join(tmp, 'b')), /unknown dataset 'imagenet-xl'; known datasets: digits, fashion-mnist/);
    assertUserError(catkit('train', '--dataset', 'fashion-mnist', '--data', path.join(tmp, 'nowhere'), '--out', path.join(tmp, 'c')), /fashion-mnist|Fashion-MNIST/i);
    // A malformed dataset file: right names, garbage content.
    const bad = path.join(tmp, 'bad');
    mkdirSync(bad);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) writeFileSync(path.join(bad, f), 'not an idx file');
    assertUserError(catkit('train', '--dataset', 'fashion-mnist', '--data', bad, '--out', path.join(tmp, 'd')), /magic|IDX|idx/);
    for (const bits of ['0', '17']) {
      assertUserError(catkit('cat', '--init', path.join(tmp, 'none'), '--act-bits', bits, '--out', path.join(tmp, 'e')), /--act-bits must be an integer from 1 to 16/);
    }
    assertUserError(catkit('cat', '--init', path.join(tmp, 'none'), '--out', path.join(tmp, 'f')), /no checkpoint at/);
    for (const spec of ['layer1.*', 'layer1.*=0', '=6', 'layer1.*=4.5']) {
      assertUserError(catkit('cat', '--init', path.join(tmp, 'none'), '--act-bits-at', spec, '--out', path.join(tmp, 'h')), /--act-bits-at takes PATTERN=BITS/);
    }
    assertUserError(catkit('train', '--epochs', 'many', '--out', path.join(tmp, 'g')), /--epochs must be an integer/);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});

test('eval rejects a checkpoint that does not fit its model', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'catkit-cli-'));
  try {
    const run = path.join(tmp, 'run');
    const ok = catkit('train', '--model', 'resnet8', '--width', '0.25', '--epochs', '1', '--limit-train', '64', '--limit-test', '20', '--out', run);
    assert.equal(ok.code, 0, ok.stderr);
    // Claim the weights belong to a different architecture.
    const file = path.join(run, 'checkpoint.json');
    const meta = JSON.parse(readFileSync(file, 'utf8'));
    meta.config.model = 'resnet14';
    writeFileSync(file, JSON.stringify(meta));
    assertUserError(catkit('eval', '--checkpoint', run), /does not fit model 'resnet14'.*(Missing|missing)/s);
    writeFileSync(file, '{"format": "something else"}');
    assertUserError(catkit('eval', '--checkpoint', run), /is not a catkit checkpoint/);
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});
