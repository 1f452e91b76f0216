// Data-parallel training across processes and machines on libtorch's c10d with Gloo (TCP).
export { readDistributedEnv, DEFAULT_TIMEOUT_SECONDS, type DistributedEnv, type Rendezvous } from './env.js';
export { ProcessGroup } from './process-group.js';
export { GradientSync, type GradSyncOptions } from './grad-sync.js';
export { DistributedContext } from './context.js';
export { PeerFailureError, LaunchConfigError } from './errors.js';
export type { GradSyncStats, ReduceOp } from './native.js';

import os from 'node:os';
import { setNumThreads } from '../tensor/index.js';
import { readDistributedEnv } from './env.js';
import { ProcessGroup } from './process-group.js';
import { DistributedContext } from './context.js';

/** Joins the group the environment describes (torchrun variables), or returns null for a single process. */
export async function initFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<DistributedContext | null> {
  const d = readDistributedEnv(env);
  if (!d) return null;
  // Workers started by another launcher share the machine's cores unless told otherwise.
  if (!env.CATKIT_THREADS) setNumThreads(Math.max(1, Math.floor(os.availableParallelism() / d.localWorldSize)));
  return new DistributedContext(await ProcessGroup.init(d));
}
