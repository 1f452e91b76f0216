// Where a worker learns its place in the group: the environment variables torchrun sets (RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so torchrun-style
// launchers and schedulers can start catkit, plus catkit's own launcher's file rendezvous
// (CATKIT_DIST_STORE: a path on one machine, no listening socket) and timeouts. No engine here.
import { LaunchConfigError } from './errors.js';

export type Rendezvous = { kind: 'file'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface DistributedEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
  rendezvous: Rendezvous;
  /** Collectives fail after this long without progress (a hung peer); a dead one fails at once. */
  timeoutMs: number;
  /** Joining the group waits this long for every rank. */
  initTimeoutMs: number;
  /** Interface for Gloo's connections (GLOO_SOCKET_IFNAME); otherwise loopback for one-machine groups, else the hostname's address. */
  iface?: string;
  deviceHost?: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 300;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

function intVar(env: NodeJS.ProcessEnv, name: string, min: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new LaunchConfigError(`${name} is not set (a distributed worker needs RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)`);
    return fallback;
  }
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new LaunchConfigError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return v;
}

function secondsVar(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback * 1000;
  const v = Number(raw);
  if (!(v > 0)) throw new LaunchConfigError(`${name} must be a positive number of seconds, got '${raw}'`);
  return Math.round(v * 1000);
}

/** The worker's distributed settings, or null when it runs alone (WORLD_SIZE unset or 1). */
export function readDistributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  if (worldSize === 1) return null;
  const rank = intVar(env, 'RANK', 0);
  if (rank >= worldSize) throw new LaunchConfigError(`RANK ${rank} is not below WORLD_SIZE ${worldSize}`);
  const localWorldSize = intVar(env, 'LOCAL_WORLD_SIZE', 1, worldSize);
  const localRank = intVar(env, 'LOCAL_RANK', 0, rank % localWorldSize);
  if (localRank >= localWorldSize) throw new LaunchConfigError(`LOCAL_RANK ${localRank} is not below LOCAL_WORLD_SIZE ${localWorldSize}`);
  const file = env.CATKIT_DIST_STORE;
  let rendezvous: Rendezvous;
  if (file) rendezvous = { kind: 'file', path: file };
  else {
    const host = env.MASTER_ADDR;
    if (!host) throw new LaunchConfigError('MASTER_ADDR is not set (the address of the rank-0 machine)');
    const port = intVar(env, 'MASTER_PORT', 1);
    if (port > 65535) throw new LaunchConfigError(`MASTER_PORT must be at most 65535, got ${port}`);
    rendezvous = { kind: 'tcp', host, port };
  }
  const iface = env.GLOO_SOCKET_IFNAME || undefined;
  const oneMachine = rendezvous.kind === 'file' || LOOPBACK.test(rendezvous.host);
  return {
    rank, worldSize, localRank, localWorldSize, rendezvous,
    timeoutMs: secondsVar(env, 'CATKIT_DIST_TIMEOUT', DEFAULT_TIMEOUT_SECONDS),
    initTimeoutMs: secondsVar(env, 'CATKIT_DIST_INIT_TIMEOUT', DEFAULT_TIMEOUT_SECONDS),
    iface,
    deviceHost: iface ? undefined : oneMachine ? '127.0.0.1' : undefined,
  };
}
