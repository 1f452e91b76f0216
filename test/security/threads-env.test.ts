// CATKIT_THREADS is capped at the machine's cores like --threads: a hostile or mistyped value
// (999) would otherwise make every op hundreds of times slower through thread contention.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const runtime = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/tensor/runtime.js')).href;
const threadsWith = (value: string) => spawnSync(process.execPath, ['--input-type=module', '-e',
  `const r = await import(${JSON.stringify(runtime)}); process.stdout.write(String(r.getNumThreads()));`],
{ env: { ...process.env, CATKIT_THREADS: value }, encoding: 'utf8' });

test('CATKIT_THREADS above the core count is capped with a warning; within it, it is used as given', () => {
  const cores = os.availableParallelism();
  const over = threadsWith('999');
  assert.equal(over.status, 0, over.stderr);
  assert.equal(Number(over.stdout), cores);
  assert.match(over.stderr, new RegExp(`CATKIT_THREADS=999 is more than the ${cores} cores of this machine; using ${cores}`));
  const one = threadsWith('1');
  assert.equal(Number(one.stdout), 1);
  assert.equal(one.stderr, '');
});
