// The addon's c10d/Gloo surface (native/src/distributed.cc), typed. Tensors travel as handles.
import { native, type Handle } from '../tensor/native.js';

export interface InitRequest {
  rank: number;
  worldSize: number;
  /** 'file': a FileStore on a path every rank can reach (one machine); 'tcp': TCPStore at host:port (rank 0 serves). */
  store: 'file' | 'tcp';
  path?: string;
  host?: string;
  port?: number;
  initTimeoutMs: number;
  timeoutMs: number;
  /** Network interface Gloo's connections use (GLOO_SOCKET_IFNAME). */
  iface?: string;
  /** Address Gloo's connections listen on (e.g. 127.0.0.1 for a one-machine group). */
  deviceHost?: string;
}

export interface GradSyncStats {
  buckets: number;
  /** Buckets whose allreduce started while backward was still running. */
  launchedDuringBackward: number;
  /** Time finish() waited for communication after backward (the exposed part). */
  waitMs: number;
}

export interface DistBinding {
  distAvailable(): boolean;
  distInit(o: InitRequest): Promise<void>;
  distDestroy(): void;
  distBroadcast(tensors: Handle[], root: number): Promise<void>;
  distAllreduce(tensors: Handle[], op: ReduceOp): Promise<void>;
  distBarrier(): Promise<void>;
  gradSyncCreate(params: Handle[], bucketBytes: number, firstBucketBytes: number, overlap: boolean): { id: number; buckets: number };
  gradSyncPrepare(id: number): void;
  gradSyncFinish(id: number): GradSyncStats;
  gradSyncDispose(id: number): void;
}

export type ReduceOp = 'sum' | 'max' | 'min' | 'product';

export const dist = native as unknown as DistBinding;
