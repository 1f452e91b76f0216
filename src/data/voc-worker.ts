// Worker thread of VocLoader: decodes one JPEG with sharp (size-bounded), applies SSD's training
// augmentation or the evaluation resize, and answers a float32 [3, S, S] image in [0, 1] with its
// boxes in output pixels (transferred).
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { mulberry32 } from './random.js';
import { resizeToChw, ssdTrainTransform, type Annot, type DetectionAugment } from './ssd-augment.js';
import { readFileBounded } from '../io/safe-files.js';

export interface VocDecodeRequest { id: number; file: string; maxBytes: number; size: number; train: boolean; augment: DetectionAugment; seed: number; boxes: number[]; labels: number[]; width: number; height: number }
export type VocDecodeReply = { id: number; data: Float32Array; boxes: number[]; labels: number[] } | { id: number; error: string };

sharp.concurrency(1);
sharp.cache(false);

async function decode(r: VocDecodeRequest): Promise<{ data: Float32Array; boxes: number[]; labels: number[] }> {
  const buf = readFileBounded(r.file, { maxBytes: r.maxBytes });
  const { data, info } = await sharp(buf, { failOn: 'truncated', limitInputPixels: 20000 * 20000 }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
  if (info.width !== r.width || info.height !== r.height) throw new Error(`image is ${info.width}×${info.height} but its annotation says ${r.width}×${r.height}`);
  const img = { data: Float32Array.from(data), width: info.width, height: info.height };
  const a: Annot = { boxes: [...r.boxes], labels: [...r.labels] };
  const out = r.train ? ssdTrainTransform(img, a, r.size, mulberry32(r.seed), r.augment) : resizeToChw(img, a, r.size);
  return { data: out, boxes: a.boxes, labels: a.labels };
}

let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (r: VocDecodeRequest) => {
  queue = queue.then(() => decode(r).then(
    (d) => parentPort!.postMessage({ id: r.id, ...d } satisfies VocDecodeReply, [d.data.buffer as ArrayBuffer]),
    (err: unknown) => parentPort!.postMessage({ id: r.id, error: err instanceof Error ? err.message : String(err) } satisfies VocDecodeReply),
  ));
});
