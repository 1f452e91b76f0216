// The distributed sampler: disjoint equal shards covering the epoch (padded by repetition),
// reshuffled per epoch from the shared seed, batches of W ranks at B equal to the global batch W·B,
// and evaluation shards by whole batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochBatches, shardBatchCount, shardSamples, globalBatchIndex } from '../../src/data/distributed-sampler.js';
import { DataLoader, makeDataset } from '../../src/data/index.js';

const order = (n: number) => Int32Array.from({ length: n }, (_, i) => (i * 7) % n); // any permutation (n coprime with 7)

test('shards are disjoint, equally long and cover every sample; the shortfall repeats the start', () => {
  const o = order(10);
  const shards = [0, 1, 2].map((r) => Array.from(shardSamples(o, r, 3)));
  assert.deepEqual(shards.map((s) => s.length), [4, 4, 4]);
  assert.deepEqual(shards[0], [o[0], o[3], o[6], o[9]]);
  assert.deepEqual(shards[1], [o[1], o[4], o[7], o[0]], 'padded with the first sample');
  assert.deepEqual(new Set(shards.flat()).size, 10);
  const exact = [0, 1].map((r) => Array.from(shardSamples(order(12), r, 2)));
  assert.deepEqual([...exact[0]!, ...exact[1]!].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
});

test('W ranks at batch B hold exactly the global batches of size W·B', () => {
  const o = order(33);
  const global = epochBatches(o, 12, true);
  const ranks = [0, 1, 2].map((r) => epochBatches(o, 4, true, { rank: r, worldSize: 3, by: 'sample' }));
  assert.equal(global.length, 2);
  for (const r of ranks) assert.equal(r.length, 2);
  for (let b = 0; b < 2; b++) {
    const union = ranks.flatMap((r) => Array.from(r[b]!)).sort((a, c) => a - c);
    assert.deepEqual(union, Array.from(global[b]!).sort((a, c) => a - c));
  }
  assert.equal(shardBatchCount(33, 4, true, { rank: 2, worldSize: 3, by: 'sample' }), 2);
});

test('evaluation shards take every W-th whole batch; counts and global indices agree', () => {
  const o = order(47);
  const all = epochBatches(o, 10, false);
  assert.equal(all.length, 5);
  for (const r of [0, 1]) {
    const mine = epochBatches(o, 10, false, { rank: r, worldSize: 2, by: 'batch' });
    assert.equal(mine.length, shardBatchCount(47, 10, false, { rank: r, worldSize: 2, by: 'batch' }));
    mine.forEach((b, k) => assert.deepEqual(Array.from(b), Array.from(all[globalBatchIndex(k, { rank: r, worldSize: 2, by: 'batch' })]!)));
  }
  assert.deepEqual([0, 1].map((r) => shardBatchCount(47, 10, false, { rank: r, worldSize: 2, by: 'batch' })), [3, 2]);
});

test('the DataLoader reshuffles shards per epoch from the shared seed', () => {
  const ds = makeDataset({ name: 't', images: new Uint8Array(20 * 4), labels: new Uint8Array(20), height: 2, width: 2, channels: 1, numClasses: 1, classNames: ['x'] });
  const loader = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 3, dropLast: true, normalize: false });
  const ids = (epoch: number, rank: number) => [...loader.batches(epoch, { rank, worldSize: 2, by: 'sample' })].flatMap((b) => { b.x.dispose(); b.y.dispose(); return Array.from(b.indices); });
  for (const epoch of [0, 1]) {
    const [a, b] = [ids(epoch, 0), ids(epoch, 1)];
    assert.equal(a.length, 10);
    assert.deepEqual([...a, ...b].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
  }
  assert.notDeepEqual(ids(0, 0), ids(1, 0));
  assert.equal(loader.batchCount({ rank: 1, worldSize: 2, by: 'sample' }), 2);
});

test('the image-folder loader shards the same way: disjoint training shards, evaluation by whole batches', async () => {
  const { makeImageFolderFixture } = await import('../helpers/image-folder-fixture.js');
  const { openImageFolder, ImageFolderLoader } = await import('../../src/data/image-folder.js');
  const root = await makeImageFolderFixture({ trainPerClass: 4, valPerClass: 1, size: 24 });
  const split = openImageFolder(root, { split: 'train' });
  const loader = new ImageFolderLoader(split, { batchSize: 2, size: 16, seed: 5, augment: true, shuffle: true, dropLast: true, workers: 1 });
  try {
    const ids = async (epoch: number, shard: { rank: number; worldSize: number; by: 'sample' | 'batch' }) => {
      const out: number[][] = [];
      for await (const b of loader.batches(epoch, shard)) { out.push(Array.from(b.indices)); b.x.dispose(); b.y.dispose(); }
      return out;
    };
    const [a, b] = [await ids(1, { rank: 0, worldSize: 2, by: 'sample' }), await ids(1, { rank: 1, worldSize: 2, by: 'sample' })];
    assert.equal(a.length, loader.batchCount({ rank: 0, worldSize: 2, by: 'sample' }));
    assert.deepEqual([...a.flat(), ...b.flat()].sort((x, y) => x - y), Array.from({ length: 12 }, (_, i) => i));
    const whole: number[][] = [];
    for await (const x of loader.batches(1)) { whole.push(Array.from(x.indices)); x.x.dispose(); x.y.dispose(); }
    const evalShard = await ids(1, { rank: 1, worldSize: 2, by: 'batch' });
    assert.deepEqual(evalShard, whole.filter((_, i) => i % 2 === 1));
  } finally { await loader.close(); }
});
