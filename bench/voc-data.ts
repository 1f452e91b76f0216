// VOC decode + SSD training augmentation throughput: VocLoader (sharp in worker threads) against a
// PyTorch DataLoader doing the same reading and transforms (bench/pytorch_voc_data.py), on a
// generated synthetic VOCdevkit folder, 1 and 2 workers, interleaved. Table, then a JSON last line.
// Usage: node dist/bench/voc-data.js [--rounds N] [--batch N]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeVocSynthetic } from '../src/data/voc-synthetic.js';
import { openVoc } from '../src/data/voc.js';
import { VocLoader } from '../src/data/voc-loader.js';
import { dispose } from '../src/tensor/index.js';
import { loadNote, median, parseBenchArgs, runPythonJson, table } from './common.js';

const a = parseBenchArgs('voc-data', process.argv.slice(2), { steps: 1, warmup: 0, batch: 8, rounds: 2 });
const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-vocbench-'));
const SIZE = 300;
try {
  const root = path.join(dir, 'VOCdevkit');
  await makeVocSynthetic(root, { images: 200, seed: 0 });
  const split = openVoc(root, '2007-trainval+2012-trainval');
  const rows: string[][] = [['workers', 'catkit img/s', 'PyTorch DataLoader img/s', 'ratio']];
  const result: Record<string, { catkit: number; pytorch: number }> = {};
  for (const workers of [1, 2]) {
    const ours: number[] = [], ref: number[] = [];
    for (let r = 0; r < a.rounds; r++) {
      ref.push(runPythonJson<{ images_per_s: number }>('voc-data', 'pytorch_voc_data.py', [root, String(SIZE), String(workers), String(a.batch)], 1).images_per_s);
      const loader = new VocLoader(split, { batchSize: a.batch, size: SIZE, train: true, workers, seed: r });
      const t0 = performance.now();
      let n = 0;
      for await (const b of loader.batches(r)) { n += b.items.length; dispose(b); }
      ours.push(n / ((performance.now() - t0) / 1000));
      await loader.close();
    }
    result[workers] = { catkit: median(ours), pytorch: median(ref) };
    rows.push([String(workers), result[workers]!.catkit.toFixed(1), result[workers]!.pytorch.toFixed(1), (result[workers]!.catkit / result[workers]!.pytorch).toFixed(2)]);
  }
  process.stdout.write(`VOC decode + SSD augmentation to ${SIZE}², ${split.items.length} synthetic images, batch ${a.batch}, median of ${a.rounds} interleaved rounds; ${loadNote()}\n${table(rows)}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'voc-data', size: SIZE, images: split.items.length, result, load: loadNote() })}\n`);
} finally { rmSync(dir, { recursive: true, force: true }); }
