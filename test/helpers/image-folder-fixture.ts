// A tiny ImageNet-layout folder of real JPEGs made with sharp: root/train/<wnid>/*.JPEG and
// root/val/<wnid>/*.JPEG. Each class has its own hue and stripe direction, plus seeded noise, so a
// small network can tell the classes apart and no two images are identical.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../src/data/random.js';

export const FIXTURE_WNIDS = ['n01440764', 'n01443537', 'n01484850'] as const;

export interface ImageFolderFixtureOptions {
  trainPerClass?: number;
  valPerClass?: number;
  /** Image sides vary a little around this (default 40). */
  size?: number;
  seed?: number;
}

/** Pixels of one image of class `c`: dominant channel c, stripes horizontal/vertical/diagonal by class, noise. */
function pixels(c: number, width: number, height: number, rng: () => number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = c === 0 ? y : c === 1 ? x : x + y;
      const stripe = Math.floor(t / 4) % 2 === 0 ? 1 : 0.55;
      for (let ch = 0; ch < 3; ch++) {
        const base = ch === c ? 220 * stripe : 40;
        px[(y * width + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(base + (rng() - 0.5) * 50)));
      }
    }
  }
  return px;
}

/** Writes the fixture into a new temporary folder and returns its path. */
export async function makeImageFolderFixture(o: ImageFolderFixtureOptions = {}): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'catkit-imagenet-'));
  const rng = mulberry32(o.seed ?? 1);
  const size = o.size ?? 40;
  for (const [split, count] of [['train', o.trainPerClass ?? 8], ['val', o.valPerClass ?? 3]] as const) {
    for (const [c, wnid] of FIXTURE_WNIDS.entries()) {
      const dir = path.join(root, split, wnid);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < count; i++) {
        const width = size + Math.floor(rng() * 12), height = size - 4 + Math.floor(rng() * 12);
        const jpeg = await sharp(pixels(c, width, height, rng), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
        writeFileSync(path.join(dir, `${wnid}_${split}_${i}.JPEG`), jpeg);
      }
    }
  }
  return root;
}
