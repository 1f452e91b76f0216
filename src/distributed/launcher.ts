// Starts the local workers of a data-parallel run, as torchrun does: one child process per local
// rank with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT set. On one
// machine the ranks meet through a file in a fresh temporary folder (no listening socket, no port
// to choose); across machines through rank 0's TCP store at --master-addr:--master-port. The
// global rank 0 writes to this terminal; other ranks' stderr is shown prefixed with their rank and
// their stdout is dropped. If a worker fails, the others are stopped; the exit code is the first
// failure's. No engine here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { LaunchConfigError } from './errors.js';

export interface LaunchOptions {
  /** Workers on this machine. */
  nprocPerNode: number;
  nnodes?: number;
  nodeRank?: number;
  /** Rank 0's machine (required with nnodes > 1). */
  masterAddr?: string;
  masterPort?: number;
  /** Program and arguments every worker runs (e.g. node, [cli.js, 'train', ...]). */
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** libtorch threads per worker (default: cores / nprocPerNode, at least 1; CATKIT_THREADS in env wins). */
  threadsPerWorker?: number;
  /** Where status lines go (default stderr). */
  log?: (line: string) => void;
  /** Grace period between SIGTERM and SIGKILL for the surviving workers (default 5 s). */
  killGraceMs?: number;
}

export interface LaunchPlan { worldSize: number; ranks: number[]; store: 'file' | 'tcp' }

export function planLaunch(o: Pick<LaunchOptions, 'nprocPerNode' | 'nnodes' | 'nodeRank' | 'masterAddr' | 'masterPort'>): LaunchPlan {
  const nnodes = o.nnodes ?? 1, nodeRank = o.nodeRank ?? 0;
  const posInt = (v: number, flag: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new LaunchConfigError(`${flag} must be an integer >= ${min}, got ${v}`);
  };
  posInt(o.nprocPerNode, '--nproc-per-node', 1);
  posInt(nnodes, '--nnodes', 1);
  posInt(nodeRank, '--node-rank', 0);
  if (nodeRank >= nnodes) throw new LaunchConfigError(`--node-rank ${nodeRank} must be below --nnodes ${nnodes}`);
  if (o.masterPort !== undefined && (!Number.isInteger(o.masterPort) || o.masterPort < 1 || o.masterPort > 65535)) {
    throw new LaunchConfigError(`--master-port must be an integer in 1..65535, got ${o.masterPort}`);
  }
  const tcp = nnodes > 1 || o.masterAddr !== undefined || o.masterPort !== undefined;
  if (tcp && (!o.masterAddr || o.masterPort === undefined)) {
    throw new LaunchConfigError('a run over several machines needs --master-addr HOST and --master-port P (the rank-0 machine; every node passes the same values)');
  }
  const ranks = Array.from({ length: o.nprocPerNode }, (_, i) => nodeRank * o.nprocPerNode + i);
  return { worldSize: nnodes * o.nprocPerNode, ranks, store: tcp ? 'tcp' : 'file' };
}

const signalCode = (s: NodeJS.Signals | null): number => 128 + (s ? (os.constants.signals[s] ?? 15) : 15);

/** Runs the workers to completion; resolves to the exit code this launcher should return. */
export async function launchWorkers(o: LaunchOptions): Promise<number> {
  const plan = planLaunch(o);
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const base = { ...(o.env ?? process.env) };
  const threads = o.threadsPerWorker ?? Math.max(1, Math.floor(os.availableParallelism() / o.nprocPerNode));
  const storeDir = plan.store === 'file' ? mkdtempSync(path.join(os.tmpdir(), 'catkit-rdzv-')) : null;
  const children: { rank: number; proc: ChildProcess; exited: boolean }[] = [];
  let firstFailure: { rank: number; code: number } | null = null;
  let stopping = false;

  const stopOthers = (): void => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (!c.exited) c.proc.kill('SIGTERM');
    const t = setTimeout(() => { for (const c of children) if (!c.exited) c.proc.kill('SIGKILL'); }, o.killGraceMs ?? 5000);
    t.unref();
  };
  const onSignal = (s: NodeJS.Signals): void => {
    if (!firstFailure) firstFailure = { rank: -1, code: signalCode(s) };
    stopOthers();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const exits = plan.ranks.map((rank, localRank) => new Promise<void>((resolve) => {
      const env: NodeJS.ProcessEnv = {
        ...base, RANK: String(rank), WORLD_SIZE: String(plan.worldSize), LOCAL_RANK: String(localRank),
        LOCAL_WORLD_SIZE: String(o.nprocPerNode), GROUP_RANK: String(o.nodeRank ?? 0),
        MASTER_ADDR: o.masterAddr ?? '127.0.0.1', MASTER_PORT: String(o.masterPort ?? 0),
        CATKIT_THREADS: base.CATKIT_THREADS ?? String(threads),
      };
      if (storeDir) env.CATKIT_DIST_STORE = path.join(storeDir, 'store');
      else delete env.CATKIT_DIST_STORE;
      const main = rank === 0;
      const proc = spawn(o.command, [...o.args], { env, stdio: main ? 'inherit' : ['ignore', 'ignore', 'pipe'] });
      const entry = { rank, proc, exited: false };
      children.push(entry);
      if (!main && proc.stderr) {
        readline.createInterface({ input: proc.stderr }).on('line', (line) => process.stderr.write(`[rank ${rank}] ${line}\n`));
      }
      const done = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
        if (entry.exited) return;
        entry.exited = true;
        const exitCode = err ? 1 : code ?? signalCode(signal);
        if (exitCode !== 0) {
          if (!stopping) {
            log(`catkit launch: rank ${rank} ${err ? `could not start (${err.message})` : signal ? `was killed by ${signal}` : `exited with code ${exitCode}`}; stopping the other ranks`);
          }
          if (!firstFailure) firstFailure = { rank, code: exitCode };
          stopOthers();
        }
        resolve();
      };
      proc.on('exit', (code, signal) => done(code, signal));
      proc.on('error', (err) => done(null, null, err));
    }));
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  }
  return (firstFailure as { code: number } | null)?.code ?? 0;
}
