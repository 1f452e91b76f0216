// c10d/Gloo collectives and gradient averaging across real processes (loopback, file rendezvous):
// broadcast / allreduce / barrier / allgather results against hand-computed values; parameters
// equal on every rank after training; 2 ranks × batch B/2 equal to 1 process × batch B; a killed
// rank makes the others fail with a clear message within seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runRanks, tempDir } from '../helpers/dist-run.js';

const read = (dir: string, f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
const ok = (rs: Awaited<ReturnType<typeof runRanks>>) => { for (const r of rs) assert.equal(r.code, 0, `rank ${r.rank} failed: ${r.stderr}`); };

test('broadcast, allreduce, barrier and allgather across 3 processes', async () => {
  const dir = tempDir('catkit-dist-coll-');
  ok(await runRanks(3, 'collectives', dir));
  for (let r = 0; r < 3; r++) {
    const got = read(dir, `rank${r}.json`);
    assert.deepEqual(got.sums, [1 + 2 + 3, 1.5]);
    assert.deepEqual(got.a, [1, 2, 3], 'float tensor from root 1');
    assert.deepEqual(got.b, [1, 2], 'int64 tensor from root 1 (coalesced per dtype)');
    assert.deepEqual(got.m, [2, 0], 'element-wise max');
    assert.deepEqual(got.gathered, [{ rank: 0, text: 'é' }, { rank: 1, text: 'éé' }, { rank: 2, text: 'ééé' }]);
  }
});

function maxDiff(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let worst = 0;
  assert.deepEqual(Object.keys(a), Object.keys(b));
  for (const k of Object.keys(a)) a[k]!.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b[k]![i]!)); });
  return worst;
}

test('2 ranks × batch 8 train to the parameters of 1 process × batch 16, identical on both ranks', async () => {
  const single = tempDir('catkit-dist-single-'), overlap = tempDir('catkit-dist-ddp-'), after = tempDir('catkit-dist-ddp-noov-');
  ok(await runRanks(0, 'train', single, { CATKIT_TEST_BATCH: '16' }));
  ok(await runRanks(2, 'train', overlap, { CATKIT_TEST_BATCH: '8' }));
  ok(await runRanks(2, 'train', after, { CATKIT_TEST_BATCH: '8', CATKIT_TEST_OVERLAP: '0' }));
  const ref = read(single, 'single.json');
  const r0 = read(overlap, 'rank0.json'), r1 = read(overlap, 'rank1.json');
  assert.equal(ref.steps, 12);
  assert.equal(r0.steps, 12);
  assert.equal(maxDiff(r0.params, r1.params), 0, 'ranks hold bit-identical parameters');
  const d = maxDiff(r0.params, ref.params);
  assert.ok(d < 2e-5, `2 × 8 vs 1 × 16: max |Δparam| ${d}`);
  // Launching buckets during backward or after it reduces the same sums.
  assert.equal(maxDiff(read(after, 'rank0.json').params, r0.params), 0);
});

test('a killed rank makes the others fail within seconds, naming the failure', async () => {
  const dir = tempDir('catkit-dist-die-');
  const rs = await runRanks(3, 'train', dir, { CATKIT_TEST_BATCH: '4', CATKIT_TEST_EPOCHS: '50', CATKIT_TEST_DIE_AT: '3' });
  assert.equal(rs[1]!.signal, 'SIGKILL');
  const killedAt = rs[1]!.exitMs;
  for (const r of [rs[0]!, rs[2]!]) {
    assert.notEqual(r.code, 0, `rank ${r.rank} should fail`);
    assert.match(r.stderr, /PeerFailureError/);
    assert.match(r.stderr, new RegExp(`rank ${r.rank} of 3: .*another rank exited or stopped responding`));
    assert.ok(r.exitMs - killedAt < 10_000, `rank ${r.rank} exited ${((r.exitMs - killedAt) / 1000).toFixed(1)} s after the kill`);
  }
});
