// Codes quantized feature maps off the main thread: each (batch, layer) job goes to a worker thread
// (coding-worker.ts) while the main thread runs the next forward, and the measurements are recorded
// into the ledger strictly in submission order, so the ledger is the one the main thread alone would
// have built, bit for bit. The bytes in flight are bounded: `ready()` waits while the queue is full.
// With 0 workers the same jobs run inline (the reference path).
import { Worker } from 'node:worker_threads';
import { CodecError, type CodecErrorCode } from '../codec/errors.js';
import type { SymbolArray } from '../codec/entropy.js';
import { measureLayerBatch, type BatchMeasurement, type LedgerOptions, type StaticTables } from '../ledger/index.js';
import type { CodingReply, CodingRequest, CodingWorkerData } from './coding-worker.js';
import { measureLayerBatchNative, measureLayerBatchNativeAsync } from './native-coding.js';

export interface CodingPoolOptions {
  /** Worker threads (0: code on the calling thread, synchronously). */
  workers: number;
  /** Coders and verification, as for LedgerAccumulator. */
  ledger?: LedgerOptions;
  /** Static tables per layer (sent to each worker once). */
  tables?: ReadonlyMap<string, StaticTables>;
  /** Bound on the code bytes queued or being coded (default 256 MiB; one job always fits). */
  maxPendingBytes?: number;
  /**
   * 'typescript': src/codec's coders (in `workers` worker threads); 'native': the addon's byte-identical
   * coders (native/src/codec.cc), on the calling thread with 0 workers, else on the libuv thread pool
   * with at most `workers` batches in flight. The ledger is the same bit for bit either way.
   */
  backend?: 'typescript' | 'native';
}

interface Slot { worker: Worker; busy: number }
interface Pending { bytes: number; slot: Slot | null }

export class CodingPool {
  readonly #slots: Slot[] = [];
  readonly #options: CodingPoolOptions;
  readonly #onMeasured: (m: BatchMeasurement) => void;
  /** Finished measurements waiting for their predecessors. */
  readonly #done = new Map<number, BatchMeasurement>();
  readonly #pending = new Map<number, Pending>();
  #nextSeq = 0;
  #nextRecord = 0;
  #pendingBytes = 0;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #closed = false;
  /** Native backend: batches waiting for a free slot, and the count in flight. */
  readonly #nativeQueue: { seq: number; layer: string; bits: number; symbols: SymbolArray; useStatic: boolean }[] = [];
  #nativeInFlight = 0;

  /** `onMeasured` receives every measurement in submission order (record them into a LedgerAccumulator). */
  constructor(o: CodingPoolOptions, onMeasured: (m: BatchMeasurement) => void) {
    this.#options = o;
    this.#onMeasured = onMeasured;
    if (!Number.isInteger(o.workers) || o.workers < 0) throw new RangeError(`coding workers must be a non-negative integer, got ${o.workers}`);
    if (o.backend === 'native') return;
    const workerData: CodingWorkerData = { options: o.ledger ?? {}, tables: [...(o.tables ?? new Map())] };
    for (let i = 0; i < o.workers; i++) {
      const slot: Slot = { worker: new Worker(new URL('./coding-worker.js', import.meta.url), { workerData }), busy: 0 };
      slot.worker.on('message', (r: CodingReply) => this.#reply(slot, r));
      slot.worker.on('error', (err) => this.#fail(err));
      slot.worker.on('exit', (code) => { if (!this.#closed) this.#fail(new Error(`coding worker exited unexpectedly (code ${code})`)); });
      slot.worker.unref();
      this.#slots.push(slot);
    }
  }

  /** Bytes of codes queued or being coded. */
  get pendingBytes(): number { return this.#pendingBytes; }

  /**
   * Queues one batch of one layer. The symbols' buffer is handed to the worker (transferred when the
   * array owns it whole, else copied): do not use `symbols` afterwards.
   */
  submit(layer: string, bits: number, symbols: SymbolArray, useStatic = true): void {
    this.#throwIfFailed();
    if (this.#closed) throw new Error('coding pool is closed');
    const seq = this.#nextSeq++;
    const native = this.#options.backend === 'native';
    if (native && this.#options.workers > 0) {
      this.#pending.set(seq, { bytes: symbols.byteLength, slot: null });
      this.#pendingBytes += symbols.byteLength;
      this.#nativeQueue.push({ seq, layer, bits, symbols, useStatic });
      this.#startNative();
      return;
    }
    if (this.#slots.length === 0) {
      const table = useStatic ? this.#options.tables?.get(layer) : undefined;
      this.#done.set(seq, (native ? measureLayerBatchNative : measureLayerBatch)(layer, bits, symbols, table, this.#options.ledger));
      this.#flush();
      return;
    }
    const slot = this.#slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const owned = symbols.byteOffset === 0 && symbols.byteLength === symbols.buffer.byteLength && symbols.buffer instanceof ArrayBuffer;
    const sent = owned ? symbols : symbols.slice();
    const req: CodingRequest = { seq, layer, bits, symbols: sent, useStatic };
    slot.busy++;
    if (slot.busy === 1) slot.worker.ref();
    this.#pending.set(seq, { bytes: sent.byteLength, slot });
    this.#pendingBytes += sent.byteLength;
    slot.worker.postMessage(req, [sent.buffer as ArrayBuffer]);
  }

  /** Resolves once the bytes in flight are under the bound (at once without workers); rethrows a job's failure. */
  async ready(): Promise<void> {
    const limit = this.#options.maxPendingBytes ?? 256 * 2 ** 20;
    while (this.#pendingBytes > limit && !this.#error) await new Promise<void>((r) => { this.#wake = r; });
    this.#throwIfFailed();
  }

  /** Waits for every queued job and records it; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0 && !this.#error) await new Promise<void>((r) => { this.#wake = r; });
    this.#throwIfFailed();
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Native jobs still read their codes: let them finish (after a failure, the queued ones are dropped).
    this.#nativeQueue.length = 0;
    while (this.#nativeInFlight > 0) await new Promise<void>((r) => { this.#wake = r; });
    for (const s of this.#slots) s.worker.ref();
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  /** Starts queued native jobs while fewer than `workers` are in flight. */
  #startNative(): void {
    while (this.#nativeInFlight < this.#options.workers && this.#nativeQueue.length > 0 && !this.#error) {
      const j = this.#nativeQueue.shift()!;
      this.#nativeInFlight++;
      const table = j.useStatic ? this.#options.tables?.get(j.layer) : undefined;
      let job: Promise<BatchMeasurement>;
      try { job = measureLayerBatchNativeAsync(j.layer, j.bits, j.symbols, table, this.#options.ledger); } catch (err) { job = Promise.reject(err); }
      job.then((m) => this.#settleNative(j.seq, m), (err: Error) => this.#settleNative(j.seq, null, err));
    }
  }

  #settleNative(seq: number, m: BatchMeasurement | null, err?: Error): void {
    this.#nativeInFlight--;
    const p = this.#pending.get(seq);
    this.#pending.delete(seq);
    if (p) this.#pendingBytes -= p.bytes;
    if (m) {
      this.#done.set(seq, m);
      try { this.#flush(); } catch (e) { this.#fail(e as Error); }
    } else this.#fail(err ?? new Error('native coding failed'));
    this.#startNative();
    this.#notify();
  }

  #reply(slot: Slot, r: CodingReply): void {
    const p = this.#pending.get(r.seq);
    if (!p) return;
    this.#pending.delete(r.seq);
    this.#pendingBytes -= p.bytes;
    if (--slot.busy === 0) slot.worker.unref();
    if ('m' in r) {
      this.#done.set(r.seq, r.m);
      try { this.#flush(); } catch (err) { this.#fail(err as Error); }
    } else {
      this.#fail(r.name === 'CodecError' && r.code ? new CodecError(r.code as CodecErrorCode, r.error) : new Error(r.error));
    }
    this.#notify();
  }

  /** Records finished measurements in submission order. */
  #flush(): void {
    for (let m = this.#done.get(this.#nextRecord); m; m = this.#done.get(this.#nextRecord)) {
      this.#done.delete(this.#nextRecord++);
      this.#onMeasured(m);
    }
  }

  #fail(err: Error): void {
    this.#error ??= err;
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #throwIfFailed(): void {
    if (this.#error) throw this.#error;
  }
}
