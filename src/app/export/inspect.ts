// `catkit inspect model.catk`: what the file holds and what each part costs, next to the sizes the
// same weights would take as float32 safetensors, as raw b-bit codes and as gzip of those codes.
import { gzipSync } from 'node:zlib';
import type { CatkModel } from '../../export/catk.js';
import { sitesInOrder } from '../../export/graph.js';

export interface TensorRow { name: string; shape: number[]; kind: 'f32' | 'q'; bits: number; encoding: string; storedBytes: number; float32Bytes: number; rawBits: number }
export interface ModelSummary {
  model: string; dataset: string; nodes: number; sites: number; quantizedSites: number;
  tensors: TensorRow[];
  totals: {
    fileBytes: number; headerBytes: number; dataBytes: number;
    /** Quantized tensors only: their stored (coded) bytes, raw b-bit bytes and gzip -9 of the raw codes (one byte per code). */
    quantized: { elements: number; storedBytes: number; rawBytes: number; gzipBytes: number };
    /** Every tensor as float32 in a safetensors file (8-byte length + JSON header + data). */
    safetensorsBytes: number;
    float32Bytes: number;
  };
  accuracy: CatkModel['meta']['accuracy'];
}

/** A safetensors file's size for these tensors: 8 + JSON header (padded to 8) + 4 bytes per element. */
function safetensorsSize(rows: readonly TensorRow[]): number {
  let off = 0;
  const header: Record<string, unknown> = {};
  for (const r of rows) { header[r.name] = { dtype: 'F32', shape: r.shape, data_offsets: [off, off + r.float32Bytes] }; off += r.float32Bytes; }
  const json = Buffer.byteLength(JSON.stringify(header));
  return 8 + Math.ceil(json / 8) * 8 + off;
}

export function summarizeModel(m: CatkModel): ModelSummary {
  const rows: TensorRow[] = [];
  const codes: Uint8Array[] = [];
  let qElements = 0, qStored = 0, qRawBits = 0;
  for (const [name, t] of m.tensors) {
    const n = t.values.length, e = t.entry;
    const bits = e.kind === 'q' ? e.bits! : 32;
    rows.push({ name, shape: e.shape, kind: e.kind, bits, encoding: e.encoding, storedBytes: e.length, float32Bytes: 4 * n, rawBits: n * bits });
    if (t.quantized) {
      qElements += n; qStored += e.length; qRawBits += n * bits;
      const c = t.quantized.codes;
      codes.push(c instanceof Uint8Array ? c : new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    }
  }
  const all = Buffer.concat(codes);
  const sites = sitesInOrder(m.graph);
  return {
    model: m.meta.model, dataset: m.meta.dataset, nodes: m.graph.nodes.length, sites: sites.length, quantizedSites: sites.filter((s) => s.quantize).length,
    tensors: rows,
    totals: {
      fileBytes: m.sizes.file, headerBytes: m.sizes.header, dataBytes: m.sizes.data,
      quantized: { elements: qElements, storedBytes: qStored, rawBytes: Math.ceil(qRawBits / 8), gzipBytes: all.length ? gzipSync(all, { level: 9 }).length : 0 },
      safetensorsBytes: safetensorsSize(rows), float32Bytes: rows.reduce((a, r) => a + r.float32Bytes, 0),
    },
    accuracy: m.meta.accuracy,
  };
}

const kb = (b: number): string => (b / 1024).toFixed(1);

export function formatSummary(s: ModelSummary, o: { tensors?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`${s.model} on ${s.dataset}: ${s.nodes} nodes, ${s.sites} activation sites (${s.quantizedSites} quantized), ${s.tensors.length} tensors`
    + (s.accuracy ? `; run accuracy ${(100 * s.accuracy.top1).toFixed(2)} % on ${s.accuracy.n} test images` : ''));
  if (o.tensors !== false) {
    const w = Math.max(6, ...s.tensors.map((r) => r.name.length));
    lines.push(`${'tensor'.padEnd(w)}  ${'shape'.padEnd(16)} ${'bits'.padStart(4)}  ${'encoding'.padEnd(8)} ${'stored B'.padStart(9)} ${'raw B'.padStart(9)} ${'f32 B'.padStart(9)}  bits/value`);
    for (const r of s.tensors) {
      const n = r.float32Bytes / 4;
      lines.push(`${r.name.padEnd(w)}  ${`[${r.shape.join(',')}]`.padEnd(16)} ${String(r.bits).padStart(4)}  ${r.encoding.padEnd(8)} ${String(r.storedBytes).padStart(9)} ${String(Math.ceil(r.rawBits / 8)).padStart(9)} ${String(r.float32Bytes).padStart(9)}  ${(8 * r.storedBytes / n).toFixed(3)}`);
    }
  }
  const t = s.totals, q = t.quantized;
  lines.push(`file ${t.fileBytes} B (${kb(t.fileBytes)} KiB) = ${t.headerBytes} B header (graph, sites, grids, metadata) + ${t.dataBytes} B tensor data`);
  lines.push(`quantized weights (${q.elements} values): stored ${q.storedBytes} B, raw codes ${q.rawBytes} B, gzip -9 of the codes ${q.gzipBytes} B`);
  lines.push(`vs float32 safetensors of the same tensors ${t.safetensorsBytes} B (${kb(t.safetensorsBytes)} KiB): ${(t.safetensorsBytes / t.fileBytes).toFixed(2)}× smaller`);
  return lines.join('\n');
}
