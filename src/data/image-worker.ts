// Worker thread of ImageFolderLoader: decodes one image file per request with sharp (in arrival order), applies the
// training or evaluation transform, and answers a normalised float32 [3, S, S] (transferred).
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { evalResizeCrop, randomResizedCropBox } from './image-transforms.js';
import { mulberry32 } from './random.js';

export interface DecodeRequest { id: number; file: string; size: number; train: boolean; seed: number; mean: number[]; std: number[] }
export type DecodeReply = { id: number; data: Float32Array } | { id: number; error: string };

// One libvips thread per worker: the pool provides the parallelism.
sharp.concurrency(1);
sharp.cache(false);

/**
 * Triangle-filter (bilinear) reduction, the closest libvips kernel to torchvision's default
 * bilinear Resize; sharp's default is lanczos3. sharp ≥ 0.33 accepts 'linear' at run time, but
 * its 0.33 typings omit it from KernelEnum, hence the cast.
 */
const KERNEL = 'linear' as keyof sharp.KernelEnum;

async function decode(r: DecodeRequest): Promise<Float32Array> {
  const s = r.size;
  // Not EXIF-rotated, as PIL (torchvision) does not either; grey/CMYK become sRGB, alpha is dropped.
  const img = sharp(r.file, { failOn: 'truncated' });
  const meta = await img.metadata();
  const [w, h] = [meta.width ?? 0, meta.height ?? 0];
  if (!(w > 0 && h > 0)) throw new Error('no image size');
  let pipe: sharp.Sharp;
  if (r.train) {
    const rng = mulberry32(r.seed);
    const box = randomResizedCropBox(w, h, rng);
    pipe = img.extract(box).resize(s, s, { fit: 'fill', kernel: KERNEL });
    if (rng() < 0.5) pipe = pipe.flop();
  } else {
    const g = evalResizeCrop(w, h, s);
    pipe = img.resize(g.width, g.height, { fit: 'fill', kernel: KERNEL }).extract(g.crop);
  }
  const { data, info } = await pipe.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== s || info.height !== s || info.channels !== 3) throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${s}×${s}×3`);
  const plane = s * s;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const m = r.mean[c]!;
    const k = 1 / (255 * r.std[c]!);
    const d = m / r.std[c]!;
    for (let p = 0; p < plane; p++) out[c * plane + p] = data[3 * p + c]! * k - d;
  }
  return out;
}

// The pool posts a backlog of requests; decoding them one after another keeps this worker at one
// core (libvips would otherwise run several on the libuv pool at once).
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (r: DecodeRequest) => {
  queue = queue.then(() => decode(r).then(
    (data) => parentPort!.postMessage({ id: r.id, data } satisfies DecodeReply, [data.buffer as ArrayBuffer]),
    (err: unknown) => parentPort!.postMessage({ id: r.id, error: err instanceof Error ? err.message : String(err) } satisfies DecodeReply),
  ));
});
