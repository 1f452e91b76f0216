// Geometry of the standard ImageNet transforms (torchvision's RandomResizedCrop and
// Resize + CenterCrop), as pure functions so they are testable without decoding anything.
import { randomInt } from './random.js';

/** A crop rectangle in source pixels. */
export interface CropBox { left: number; top: number; width: number; height: number }

/** Evaluation geometry: resize the whole image to (width, height), then take `crop`. */
export interface ResizeCrop { width: number; height: number; crop: CropBox }

/**
 * Resize(shorter side = round(256 · size / 224)) then CenterCrop(size), as torchvision does:
 * the longer side is scaled by the same factor (truncated), the crop offsets are rounded halves.
 */
export function evalResizeCrop(width: number, height: number, size: number): ResizeCrop {
  const shorter = Math.round((256 * size) / 224);
  const [w, h] = width <= height
    ? [shorter, Math.max(shorter, Math.floor((shorter * height) / width))]
    : [Math.max(shorter, Math.floor((shorter * width) / height)), shorter];
  // A crop larger than the resized image cannot happen since shorter ≥ size.
  return { width: w, height: h, crop: { left: Math.round((w - size) / 2), top: Math.round((h - size) / 2), width: size, height: size } };
}

/**
 * torchvision's RandomResizedCrop.get_params: up to 10 tries of a random area fraction in `scale`
 * and log-uniform aspect ratio in `ratio`; falls back to the central crop clamped to `ratio`.
 */
export function randomResizedCropBox(
  width: number, height: number, rng: () => number,
  scale: readonly [number, number] = [0.08, 1], ratio: readonly [number, number] = [3 / 4, 4 / 3],
): CropBox {
  const area = width * height;
  const [logLo, logHi] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng());
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: randomInt(rng, height - h + 1), left: randomInt(rng, width - w + 1), width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), width: w, height: h };
}

/**
 * The train crop `box` (resized to size × size) as a whole-image resize followed by a size × size
 * extract, when the crop is at least twice the output on both axes: libvips then decodes a JPEG at
 * 1/2, 1/4 or 1/8 scale (DCT scaling, "shrink-on-load") and resamples only the extracted region,
 * ~30 % less CPU on a 2048×1536 photo. The region is the same up to rounding of the scaled offsets
 * (under half an output pixel); pixels differ from crop-then-resize by resampling only. Null when the
 * crop is smaller (no reduced-scale decode to gain), so typical ~500×375 images keep the exact path.
 */
export function shrinkOnLoadCrop(width: number, height: number, box: CropBox, size: number): ResizeCrop | null {
  if (box.width < 2 * size || box.height < 2 * size) return null;
  const fx = size / box.width, fy = size / box.height;
  const w = Math.max(size, Math.round(width * fx)), h = Math.max(size, Math.round(height * fy));
  const left = Math.min(w - size, Math.round(box.left * fx)), top = Math.min(h - size, Math.round(box.top * fy));
  return { width: w, height: h, crop: { left, top, width: size, height: size } };
}
