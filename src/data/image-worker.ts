// Worker thread of ImageFolderLoader: decodes image files with sharp (in arrival order), applies the
// training or evaluation transform in one libvips pass, and answers the RGB pixels as uint8 [S, S, 3]
// (transferred); the loader normalises whole batches in the engine. The crop is planned from the
// file's header (image-header.ts), read from the same bytes sharp decodes, so there is no separate
// metadata pass; only formats that parser does not know ask sharp for their size.
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { evalResizeCrop, randomResizedCropBox, shrinkOnLoadCrop } from './image-transforms.js';
import { readImageHeader } from './image-header.js';
import { mulberry32 } from './random.js';
import { readFileBounded } from '../io/safe-files.js';

/** Larger files are refused unread (a photo is a few MB; libvips also bounds the pixel count). */
export const MAX_IMAGE_BYTES = 256 * 2 ** 20;

export interface DecodeItem { id: number; file: string; seed: number }
/** Several images per message: one round trip per chunk of a batch. */
export interface DecodeRequest { items: DecodeItem[]; size: number; train: boolean }
export type DecodeResult = { id: number; data: Uint8Array } | { id: number; error: string };
export interface DecodeReply { results: DecodeResult[] }

// One libvips thread per worker: the pool provides the parallelism.
sharp.concurrency(1);
sharp.cache(false);

/**
 * Triangle-filter (bilinear) reduction, the closest libvips kernel to torchvision's default
 * bilinear Resize; sharp's default is lanczos3. sharp ≥ 0.33 accepts 'linear' at run time, but
 * its 0.33 typings omit it from KernelEnum, hence the cast.
 */
const KERNEL = 'linear' as keyof sharp.KernelEnum;

export async function decodeImage(file: string, size: number, train: boolean, seed: number): Promise<Uint8Array> {
  const s = size;
  const bytes = readFileBounded(file, { maxBytes: MAX_IMAGE_BYTES, what: 'image file' });
  const head = readImageHeader(bytes);
  // Not EXIF-rotated, as PIL (torchvision) does not either; grey/CMYK become sRGB, alpha is dropped.
  const img = sharp(bytes, { failOn: 'truncated' });
  let w: number, h: number;
  if (head) [w, h] = [head.width, head.height];
  else { const meta = await img.metadata(); [w, h] = [meta.width ?? 0, meta.height ?? 0]; }
  if (!(w > 0 && h > 0)) throw new Error('no image size');
  let pipe: sharp.Sharp;
  if (train) {
    const rng = mulberry32(seed);
    const box = randomResizedCropBox(w, h, rng);
    const flip = rng() < 0.5;
    // A large crop resizes the whole image first, so libvips can decode at a reduced scale. sharp
    // mirrors before resizing and extracting after, so a flipped crop is taken at its mirrored place.
    const shrunk = shrinkOnLoadCrop(w, h, box, s);
    if (shrunk) {
      const crop = flip ? { ...shrunk.crop, left: shrunk.width - shrunk.crop.left - s } : shrunk.crop;
      pipe = img.resize(shrunk.width, shrunk.height, { fit: 'fill', kernel: KERNEL }).extract(crop);
    } else pipe = img.extract(box).resize(s, s, { fit: 'fill', kernel: KERNEL });
    if (flip) pipe = pipe.flop();
  } else {
    const g = evalResizeCrop(w, h, s);
    pipe = img.resize(g.width, g.height, { fit: 'fill', kernel: KERNEL }).extract(g.crop);
  }
  // A three-component JPEG decodes to sRGB already; everything else is converted (a no-op costs a pass).
  if (!(head?.format === 'jpeg' && head.channels === 3)) pipe = pipe.toColourspace('srgb').removeAlpha();
  const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== s || info.height !== s || info.channels !== 3) throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${s}×${s}×3`);
  return new Uint8Array(data);  // a copy the worker owns, so it can be transferred
}

// The pool posts a backlog of requests; decoding them one after another keeps this worker at one
// core (libvips would otherwise run several on the libuv pool at once).
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (r: DecodeRequest) => {
  queue = queue.then(async () => {
    const results: DecodeResult[] = [];
    for (const it of r.items) {
      try { results.push({ id: it.id, data: await decodeImage(it.file, r.size, r.train, it.seed) }); } catch (err) {
        results.push({ id: it.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
    parentPort!.postMessage({ results } satisfies DecodeReply, results.flatMap((x) => ('data' in x ? [x.data.buffer as ArrayBuffer] : [])));
  });
});
