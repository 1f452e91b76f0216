// Places one uint8 sample (H×W×C, channels last) onto a normalised float32 C×outH×outW canvas,
// shifted and optionally mirrored. Centred zero padding (20→32), random crops with zero padding
// and horizontal flips are all this one placement, so a batch needs no intermediate images.

export interface SampleGeometry {
  height: number;
  width: number;
  channels: number;
  outHeight: number;
  outWidth: number;
}

/** Where the source's top-left corner lands on the canvas (may be negative: cropped), and a mirror. */
export interface Placement { top: number; left: number; flip: boolean }

/** Centred placement: (out - in) / 2, rounded down, as torchvision's CenterCrop/pad do. */
export function centredPlacement(g: SampleGeometry): Placement {
  return { top: Math.floor((g.outHeight - g.height) / 2), left: Math.floor((g.outWidth - g.width) / 2), flip: false };
}

/**
 * Writes the sample starting at src[srcOffset] into out[outOffset…] as C×outH×outW.
 * Canvas pixels outside the source read as pixel value 0 (zero padding before normalisation).
 * `lut` maps channel c's pixel v to lut[c * 256 + v].
 */
export function renderSample(
  src: Uint8Array, srcOffset: number, g: SampleGeometry, p: Placement, lut: Float32Array, out: Float32Array, outOffset: number,
): void {
  const { height: h, width: w, channels: ch, outHeight: oh, outWidth: ow } = g;
  // Output columns [x0, x1) see source columns x - left; the rest is padding.
  const x0 = Math.max(0, p.left);
  const x1 = Math.min(ow, p.left + w);
  for (let c = 0; c < ch; c++) {
    const base = c * 256;
    const pad = lut[base]!;
    const plane = outOffset + c * oh * ow;
    for (let y = 0; y < oh; y++) {
      const row = plane + y * ow;
      const sy = y - p.top;
      if (sy < 0 || sy >= h || x0 >= x1) { out.fill(pad, row, row + ow); continue; }
      const srcRow = srcOffset + sy * w * ch + c;
      if (p.flip) {
        // Canvas column x is written to ow - 1 - x.
        out.fill(pad, row + ow - x0, row + ow);
        out.fill(pad, row, row + ow - x1);
        for (let x = x0; x < x1; x++) out[row + ow - 1 - x] = lut[base + src[srcRow + (x - p.left) * ch]!]!;
      } else {
        out.fill(pad, row, row + x0);
        out.fill(pad, row + x1, row + ow);
        for (let x = x0; x < x1; x++) out[row + x] = lut[base + src[srcRow + (x - p.left) * ch]!]!;
      }
    }
  }
}
