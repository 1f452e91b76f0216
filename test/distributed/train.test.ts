// Data-parallel training through the library's fit() and the CLI: 2 ranks × batch B equal 1
// process × batch 2B (batch-norm-free network), parameters identical on every rank, rank 0 alone
// writes the checkpoint; `catkit cat --nproc-per-node 2` reports what a single-process
// `catkit eval` of its checkpoint reports; a run resumes with a different number of processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRanks, tempDir } from '../helpers/dist-run.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/bin.js');
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const ok = (rs: Awaited<ReturnType<typeof runRanks>>) => { for (const r of rs) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`); };

function maxDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let worst = 0;
  assert.deepEqual(Object.keys(a), Object.keys(b));
  for (const k of Object.keys(a)) a[k]!.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b[k]![i]!)); });
  return worst;
}

test('fit(): 2 ranks × batch 16 equal 1 process × batch 32; rank 0 writes the only checkpoint', async () => {
  const out = tempDir('catkit-fit-out-'), single = tempDir('catkit-fit-1-'), ddp = tempDir('catkit-fit-2-');
  ok(await runRanks(0, 'fit', out, { CATKIT_TEST_BATCH: '32', CATKIT_TEST_RUN: single }));
  ok(await runRanks(2, 'fit', out, { CATKIT_TEST_BATCH: '16', CATKIT_TEST_RUN: ddp }));
  const ref = read(path.join(out, 'single.json')).params, r0 = read(path.join(out, 'rank0.json')).params, r1 = read(path.join(out, 'rank1.json')).params;
  assert.equal(maxDiff(r0, r1), 0, 'ranks hold identical parameters');
  const d = maxDiff(r0, ref);
  assert.ok(d < 5e-5, `max |Δparam| ${d}`);
  const h1 = read(path.join(single, 'checkpoint.json')).history, h2 = read(path.join(ddp, 'checkpoint.json')).history;
  assert.equal(h2.length, 2);
  for (let e = 0; e < 2; e++) {
    assert.ok(Math.abs(h1[e].loss - h2[e].loss) < 1e-4, `epoch ${e + 1} loss ${h1[e].loss} vs ${h2[e].loss} (averaged over ranks)`);
    assert.equal(h1[e].trainAccuracy, h2[e].trainAccuracy);
    assert.equal(h1[e].testAccuracy, h2[e].testAccuracy, 'sharded evaluation equals the whole');
  }
  assert.deepEqual(readdirSync(ddp).filter((f) => f.endsWith('.safetensors')).length, 1);
});

const catkit = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CATKIT_THREADS: '1', WORLD_SIZE: '' }, timeout: 300_000 });
  assert.equal(r.status, 0, `catkit ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
};

test('CLI: resume with another world size; distributed CAT report equals a single-process evaluation', () => {
  const root = tempDir('catkit-ddp-cli-');
  const fp = path.join(root, 'fp'), cat = path.join(root, 'cat');
  const data = ['--limit-train', '160', '--limit-test', '300', '--batch-size', '16']; // 3 test batches of 128, 128, 44
  catkit(['train', '--dataset', 'digits', '--model', 'resnet8', '--width', '0.5', ...data, '--epochs', '1', '--out', fp]);
  // 1 process → 2 processes
  const resumed = catkit(['train', '--out', fp, '--resume', '--epochs', '2', '--nproc-per-node', '2']);
  assert.match(resumed.stderr, /resuming .* after epoch 1/);
  assert.deepEqual(read(path.join(fp, 'checkpoint.json')).history.map((h: { epoch: number }) => h.epoch), [1, 2]);
  assert.doesNotMatch(resumed.stderr, /\[rank 1\] (epoch|resuming)/, 'only rank 0 logs');

  catkit(['cat', '--init', fp, ...data, '--epochs', '1', '--lambda', '0.5', '--coded-batches', '2', '--out', cat, '--nproc-per-node', '2']);
  const trained = read(path.join(cat, 'report.json'));
  catkit(['eval', '--checkpoint', cat, '--coded-batches', '2']);
  const single = read(path.join(cat, 'eval-report.json'));
  const pick = (r: Record<string, unknown>) => JSON.parse(JSON.stringify({ accuracy: r.accuracy, top5: r.top5, testSamples: r.testSamples, bits: r.bitsPerValue, static: r.staticBitsPerValue, layers: r.layers, weights: r.weights, coded: r.codedTestBatches }));
  const a = pick(trained), b = pick(single);
  assert.ok(a.layers && a.layers.length > 0, 'the report has per-layer rows');
  assert.equal(a.coded, 2);
  assert.equal(a.testSamples, 300);
  const close = (x: unknown, y: unknown, where: string): void => {
    if (typeof x === 'number' && typeof y === 'number') { assert.ok(Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y)), `${where}: ${x} vs ${y}`); return; }
    if (x && typeof x === 'object') { for (const k of Object.keys(y as object)) close((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${where}.${k}`); return; }
    assert.deepEqual(x, y, where);
  };
  close(a, b, 'report');
  // The same evaluation sharded over 3 processes.
  catkit(['eval', '--checkpoint', cat, '--coded-batches', '2', '--nproc-per-node', '3']);
  close(pick(read(path.join(cat, 'eval-report.json'))), b, 'eval over 3 processes');
  // 2 processes → 1 process
  catkit(['cat', '--init', fp, '--out', cat, '--resume', '--epochs', '2']);
  assert.equal(read(path.join(cat, 'checkpoint.json')).history.length, 2);
  assert.ok(existsSync(path.join(cat, 'report.json')));
});
