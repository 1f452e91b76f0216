// Worker thread of CodingPool: codes (and verifies) one layer's batch of quantization codes per
// request with the ledger's pure-TypeScript coders and answers the measurement. It loads no engine.
import { parentPort, workerData } from 'node:worker_threads';
import { measureLayerBatch, type BatchMeasurement, type LedgerOptions, type StaticTables } from '../ledger/index.js';
import type { SymbolArray } from '../codec/entropy.js';

export interface CodingWorkerData { options: LedgerOptions; tables: [string, StaticTables][] }
export interface CodingRequest { seq: number; layer: string; bits: number; symbols: SymbolArray; useStatic: boolean }
export type CodingReply = { seq: number; m: BatchMeasurement } | { seq: number; error: string; code?: string; name?: string };

const data = workerData as CodingWorkerData;
const tables = new Map(data.tables);

parentPort?.on('message', (r: CodingRequest) => {
  let reply: CodingReply;
  try {
    reply = { seq: r.seq, m: measureLayerBatch(r.layer, r.bits, r.symbols, r.useStatic ? tables.get(r.layer) : undefined, data.options) };
  } catch (err) {
    const e = err as { message?: string; code?: unknown; name?: string };
    reply = { seq: r.seq, error: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined, name: e?.name };
  }
  parentPort!.postMessage(reply);
});
