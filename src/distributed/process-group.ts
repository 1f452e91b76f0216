// A c10d/Gloo process group as TypeScript sees it: joining (off the main thread), and collectives
// issued in program order whose completion is a Promise. Every rank must issue the same
// collectives in the same order; a failure (a peer died, a timeout) rejects with PeerFailureError.
import { Tensor, tensor, dispose } from '../tensor/index.js';
import type { DType } from '../tensor/index.js';
import { dist, type ReduceOp } from './native.js';
import type { DistributedEnv } from './env.js';
import { PeerFailureError } from './errors.js';

let current: ProcessGroup | null = null;

export class ProcessGroup {
  private constructor(readonly rank: number, readonly worldSize: number, readonly env: DistributedEnv) {}

  /** True when the addon was built with c10d/Gloo. */
  static get available(): boolean { return dist.distAvailable(); }

  /** Joins the group described by `env`; resolves once every rank has joined. One group per process. */
  static async init(env: DistributedEnv): Promise<ProcessGroup> {
    if (current) throw new PeerFailureError('this process already belongs to a process group');
    const where = env.rendezvous.kind === 'file' ? `file ${env.rendezvous.path}` : `${env.rendezvous.host}:${env.rendezvous.port}`;
    try {
      await dist.distInit({
        rank: env.rank, worldSize: env.worldSize, store: env.rendezvous.kind,
        ...(env.rendezvous.kind === 'file' ? { path: env.rendezvous.path } : { host: env.rendezvous.host, port: env.rendezvous.port }),
        initTimeoutMs: env.initTimeoutMs, timeoutMs: env.timeoutMs, iface: env.iface, deviceHost: env.deviceHost,
      });
    } catch (e) {
      throw new PeerFailureError(`rank ${env.rank} of ${env.worldSize}: could not join the process group at ${where} ` +
        `within ${env.initTimeoutMs / 1000} s: ${(e as Error).message}`, e);
    }
    current = new ProcessGroup(env.rank, env.worldSize, env);
    return current;
  }

  get isMain(): boolean { return this.rank === 0; }

  private async run(what: string, p: () => Promise<void>): Promise<void> {
    try { await p(); } catch (e) {
      throw new PeerFailureError(`rank ${this.rank} of ${this.worldSize}: ${what} failed; another rank exited or stopped responding ` +
        `(${(e as Error).message})`, e);
    }
  }

  /** Calls `fn` once per dtype present, with the tensors of that dtype (one collective each). */
  private async perDtype(tensors: readonly Tensor[], fn: (group: Tensor[]) => Promise<void>): Promise<void> {
    const groups = new Map<DType, Tensor[]>();
    for (const t of tensors) { const g = groups.get(t.dtype); if (g) g.push(t); else groups.set(t.dtype, [t]); }
    for (const g of groups.values()) await fn(g); // sequential: the same order on every rank
  }

  /** Overwrites `tensors` on every rank with root's values (coalesced into one buffer per dtype). */
  async broadcast(tensors: readonly Tensor[], root = 0): Promise<void> {
    if (tensors.length === 0) return;
    await this.perDtype(tensors, (g) => this.run('broadcast', () => dist.distBroadcast(g.map((t) => t.handle), root)));
  }

  /** Reduces `tensors` in place across ranks (sum by default). */
  async allreduce(tensors: readonly Tensor[], op: ReduceOp = 'sum'): Promise<void> {
    if (tensors.length === 0) return;
    await this.perDtype(tensors, (g) => this.run(`allreduce (${op})`, () => dist.distAllreduce(g.map((t) => t.handle), op)));
  }

  async barrier(): Promise<void> { await this.run('barrier', () => dist.distBarrier()); }

  /** Element-wise reduction of plain numbers (exact in float64 for integer counts below 2^53). */
  async allreduceNumbers(values: readonly number[], op: ReduceOp = 'sum'): Promise<number[]> {
    if (values.length === 0) return [];
    const t = tensor(Float64Array.from(values));
    try { await this.allreduce([t], op); return t.toArray(); } finally { t.dispose(); }
  }

  /** Every rank's JSON-serialisable value, in rank order. */
  async allgatherJson<T>(value: T): Promise<T[]> {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    const [maxLen] = await this.allreduceNumbers([bytes.length], 'max');
    const rows = new Uint8Array(this.worldSize * maxLen!);
    rows.set(bytes, this.rank * maxLen!);
    const t = tensor(rows, [this.worldSize, maxLen!], { dtype: 'uint8' });
    try {
      await this.allreduce([t], 'sum'); // every other row is zero on each rank
      const all = t.dataSync() as Uint8Array;
      const decoder = new TextDecoder();
      return Array.from({ length: this.worldSize }, (_, r) => {
        const row = all.subarray(r * maxLen!, (r + 1) * maxLen!);
        let end = row.length;
        while (end > 0 && row[end - 1] === 0) end--;
        return JSON.parse(decoder.decode(row.subarray(0, end))) as T;
      });
    } finally { dispose(t); }
  }

  /** Leaves the group (after a healthy run; a failed one just exits). */
  destroy(): void {
    if (current !== this) return;
    dist.distDestroy();
    current = null;
  }
}
