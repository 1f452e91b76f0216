// The local launcher: torchrun's variables per worker, exit codes propagated, survivors stopped
// when one worker fails, and option checks. Workers here are tiny node scripts (no engine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { launchWorkers, planLaunch } from '../../src/distributed/launcher.js';
import { readDistributedEnv } from '../../src/distributed/env.js';
import { LaunchConfigError } from '../../src/distributed/errors.js';
import { tempDir } from '../helpers/dist-run.js';

const quiet = { log: () => undefined };

test('each worker gets RANK, WORLD_SIZE, LOCAL_RANK, a shared file rendezvous and cores / workers threads', async () => {
  const dir = tempDir('catkit-launch-');
  const script = `require('fs').writeFileSync(require('path').join(${JSON.stringify(dir)}, 'r' + process.env.RANK + '.json'), JSON.stringify(process.env))`;
  const env = { ...process.env };
  delete env.CATKIT_THREADS;
  const code = await launchWorkers({ nprocPerNode: 3, command: process.execPath, args: ['-e', script], env, threadsPerWorker: 2, ...quiet });
  assert.equal(code, 0);
  const got = readdirSync(dir).sort().map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, string>);
  assert.deepEqual(got.map((e) => [e.RANK, e.LOCAL_RANK, e.WORLD_SIZE, e.LOCAL_WORLD_SIZE, e.CATKIT_THREADS]),
    [['0', '0', '3', '3', '2'], ['1', '1', '3', '3', '2'], ['2', '2', '3', '3', '2']]);
  assert.equal(new Set(got.map((e) => e.CATKIT_DIST_STORE)).size, 1);
  const parsed = readDistributedEnv(got[2]!)!;
  assert.deepEqual([parsed.rank, parsed.worldSize, parsed.localRank, parsed.rendezvous.kind, parsed.deviceHost], [2, 3, 2, 'file', '127.0.0.1']);
});

test('a failing worker stops the others and its exit code is returned', async () => {
  const t0 = performance.now();
  const script = 'if (process.env.RANK === "1") process.exit(7); setTimeout(() => {}, 60000)';
  const lines: string[] = [];
  const code = await launchWorkers({ nprocPerNode: 3, command: process.execPath, args: ['-e', script], log: (l) => lines.push(l), killGraceMs: 1000 });
  assert.equal(code, 7);
  assert.ok(performance.now() - t0 < 15_000, 'survivors were stopped');
  assert.match(lines.join('\n'), /rank 1 exited with code 7; stopping the other ranks/);
});

test('multi-machine settings: global ranks from --node-rank, TCP rendezvous, and refusals', () => {
  assert.deepEqual(planLaunch({ nprocPerNode: 2, nnodes: 3, nodeRank: 2, masterAddr: '10.0.0.1', masterPort: 29500 }), { worldSize: 6, ranks: [4, 5], store: 'tcp' });
  assert.throws(() => planLaunch({ nprocPerNode: 2, nnodes: 2 }), LaunchConfigError);
  assert.throws(() => planLaunch({ nprocPerNode: 2, nnodes: 2, nodeRank: 2, masterAddr: 'h', masterPort: 1 }), /--node-rank 2 must be below --nnodes 2/);
  assert.throws(() => planLaunch({ nprocPerNode: 0 }), /--nproc-per-node must be an integer >= 1/);
  const e = readDistributedEnv({ RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', MASTER_ADDR: 'node7', MASTER_PORT: '29500' })!;
  assert.deepEqual([e.rank, e.localRank, e.rendezvous, e.deviceHost], [3, 1, { kind: 'tcp', host: 'node7', port: 29500 }, undefined]);
  assert.equal(readDistributedEnv({}), null);
  assert.equal(readDistributedEnv({ WORLD_SIZE: '1', RANK: '0' }), null);
  assert.throws(() => readDistributedEnv({ RANK: '4', WORLD_SIZE: '4', MASTER_ADDR: 'a', MASTER_PORT: '1' }), /RANK 4 is not below WORLD_SIZE 4/);
  assert.throws(() => readDistributedEnv({ RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '1' }), /MASTER_ADDR is not set/);
});
