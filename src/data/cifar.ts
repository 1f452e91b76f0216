// CIFAR-10 and CIFAR-100, "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html), which
// users download themselves. Every record is the label byte(s) then 3072 pixel bytes: the 1024 red,
// then 1024 green, then 1024 blue values of a row-major 32×32 image. We convert to N×32×32×3.
import { existsSync, statSync } from 'node:fs';
import { CatkitError } from '../errors.js';
import { MAX_METADATA_BYTES, readFileBounded } from '../io/safe-files.js';
import path from 'node:path';
import { makeDataset, type ImageDataset } from './dataset.js';
import { DataError } from './errors.js';

export const CIFAR_SIZE = 32;
const PIXEL_BYTES = CIFAR_SIZE * CIFAR_SIZE * 3;
const PLANE = CIFAR_SIZE * CIFAR_SIZE;

export const CIFAR10_CLASSES: readonly string[] = Object.freeze([
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
]);

export type CifarVariant = 'cifar10' | 'cifar100';

interface Layout {
  title: string;
  /** The folder the official archive extracts to; accepted inside --data DIR. */
  archiveDir: string;
  train: readonly string[];
  test: readonly string[];
  labelBytes: number;
}

const LAYOUTS: Record<CifarVariant, Layout> = {
  cifar10: {
    title: 'CIFAR-10',
    archiveDir: 'cifar-10-batches-bin',
    train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    test: ['test_batch.bin'],
    labelBytes: 1,
  },
  cifar100: {
    title: 'CIFAR-100',
    archiveDir: 'cifar-100-binary',
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
  },
};

export interface ParseCifarOptions {
  /** 1 for CIFAR-10 (label), 2 for CIFAR-100 (coarse label, fine label). */
  labelBytes: 1 | 2;
  /** Which label byte of the record to use (CIFAR-100: 0 = coarse, 1 = fine). Default: the last. */
  labelIndex?: number;
  /** Names the file in errors. */
  source: string;
}

/** Parses one CIFAR binary file into channels-last pixels and labels (both fresh copies). */
export function parseCifar(bytes: Uint8Array, o: ParseCifarOptions): { images: Uint8Array; labels: Uint8Array } {
  const record = o.labelBytes + PIXEL_BYTES;
  const labelIndex = o.labelIndex ?? o.labelBytes - 1;
  // CIFAR-100's records hold a coarse label (0..19) then a fine one (0..99); both are checked.
  const ranges = o.labelBytes === 1 ? [10] : [20, 100];
  const names = o.labelBytes === 1 ? ['label'] : ['coarse label', 'fine label'];
  const title = o.labelBytes === 1 ? 'CIFAR-10' : 'CIFAR-100';
  const what = o.labelBytes === 1 ? 'CIFAR-10 record (1 label byte + 3072 pixel bytes)' : 'CIFAR-100 record (2 label bytes: coarse, fine + 3072 pixel bytes)';
  if (bytes.length === 0) throw new DataError(`${o.source}: file is empty; expected ${what}s`);
  if (bytes.length % record !== 0) {
    const whole = Math.floor(bytes.length / record);
    throw new DataError(`${o.source}: ${bytes.length} bytes is not a multiple of the ${record}-byte ${what}: `
      + `${whole} whole records and ${bytes.length - whole * record} bytes left over (truncated download, or the wrong CIFAR variant?)`);
  }
  const n = bytes.length / record;
  const images = new Uint8Array(n * PIXEL_BYTES);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * record;
    for (let k = 0; k < o.labelBytes; k++) {
      const v = bytes[at + k]!;
      if (v >= ranges[k]!) {
        throw new DataError(`${o.source}: record ${i} (byte offset ${at + k}) has ${names[k]} ${v}, outside 0..${ranges[k]! - 1}; `
          + `not a ${title} binary file?`);
      }
    }
    labels[i] = bytes[at + labelIndex]!;
    const px = at + o.labelBytes;
    const out = i * PIXEL_BYTES;
    for (let p = 0; p < PLANE; p++) {
      images[out + 3 * p] = bytes[px + p]!;
      images[out + 3 * p + 1] = bytes[px + PLANE + p]!;
      images[out + 3 * p + 2] = bytes[px + 2 * PLANE + p]!;
    }
  }
  return { images, labels };
}

export interface CifarOptions {
  /** The extracted binary archive: DIR itself or DIR/cifar-10-batches-bin (resp. DIR/cifar-100-binary). */
  data?: string;
  /** CIFAR-100 only: train on the 100 fine labels (default) or the 20 coarse ones. */
  labels?: 'fine' | 'coarse';
}

export interface Cifar { train: ImageDataset; test: ImageDataset; classNames: readonly string[] }

/** The directory holding the variant's files (DIR or DIR/<archive folder>), or a DataError listing what is missing. */
export function findCifar(variant: CifarVariant, dir: string | undefined): string {
  const l = LAYOUTS[variant];
  const expected = `${l.title} binary version: ${[...l.train, ...l.test].join(', ')} (from https://www.cs.toronto.edu/~kriz/cifar.html, `
    + `extracted to DIR or DIR/${l.archiveDir})`;
  if (dir === undefined) throw new DataError(`${variant} needs --data DIR, the directory holding the ${expected}`);
  if (!(existsSync(dir) && statSync(dir).isDirectory())) throw new DataError(`${l.title}: --data directory ${dir} does not exist`);
  const nested = path.join(dir, l.archiveDir);
  const root = existsSync(nested) && statSync(nested).isDirectory() ? nested : dir;
  const missing = [...l.train, ...l.test].filter((f) => !existsSync(path.join(root, f)));
  if (missing.length) throw new DataError(`${l.title}: missing ${missing.join(', ')} in ${root}; expected the ${expected}`);
  return root;
}

/** Class names from an optional text file (one per line, blank lines ignored), else the defaults. */
/** A CIFAR batch file is 30 730 000 bytes (10 000 records); anything far larger is not one. */
const MAX_CIFAR_FILE_BYTES = 1024 ** 3;

/** Regular files only, size checked before reading (a device or FIFO named like a batch is refused). */
function readData(file: string, maxBytes: number): Buffer {
  try { return readFileBounded(file, { maxBytes }); } catch (e) {
    if (e instanceof CatkitError) throw new DataError(e.message, { code: e.code, file });
    throw e;
  }
}

function classNamesFrom(file: string, count: number, fallback: () => string[]): readonly string[] {
  if (!existsSync(file)) return Object.freeze(fallback());
  const names = readData(file, MAX_METADATA_BYTES).toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== count) throw new DataError(`${file}: ${names.length} class names, expected ${count} (one per line)`);
  return Object.freeze(names);
}

function readParts(root: string, files: readonly string[], o: ParseCifarOptions & { name: string; numClasses: number; classNames: readonly string[] }): ImageDataset {
  const parts = files.map((f) => parseCifar(readData(path.join(root, f), MAX_CIFAR_FILE_BYTES), { ...o, source: path.join(root, f) }));
  const n = parts.reduce((s, p) => s + p.labels.length, 0);
  const images = new Uint8Array(n * PIXEL_BYTES);
  const labels = new Uint8Array(n);
  let k = 0;
  for (const p of parts) {
    images.set(p.images, k * PIXEL_BYTES);
    labels.set(p.labels, k);
    k += p.labels.length;
  }
  return makeDataset({ name: o.name, images, labels, height: CIFAR_SIZE, width: CIFAR_SIZE, channels: 3, numClasses: o.numClasses, classNames: o.classNames });
}

/** CIFAR-10: 50 000 train (data_batch_1..5) / 10 000 test images, 32×32×3, 10 classes. */
export function loadCifar10(o: CifarOptions = {}): Cifar {
  const l = LAYOUTS.cifar10;
  const root = findCifar('cifar10', o.data);
  const classNames = classNamesFrom(path.join(root, 'batches.meta.txt'), 10, () => [...CIFAR10_CLASSES]);
  const common = { labelBytes: 1 as const, numClasses: 10, source: root, classNames };
  return {
    train: readParts(root, l.train, { ...common, name: 'cifar10/train' }),
    test: readParts(root, l.test, { ...common, name: 'cifar10/test' }),
    classNames,
  };
}

/** CIFAR-100: 50 000 train / 10 000 test images, 32×32×3, 100 fine (default) or 20 coarse classes. */
export function loadCifar100(o: CifarOptions = {}): Cifar {
  const l = LAYOUTS.cifar100;
  const root = findCifar('cifar100', o.data);
  const coarse = o.labels === 'coarse';
  const numClasses = coarse ? 20 : 100;
  const namesFile = path.join(root, coarse ? 'coarse_label_names.txt' : 'fine_label_names.txt');
  const classNames = classNamesFrom(namesFile, numClasses, () => Array.from({ length: numClasses }, (_, i) => String(i)));
  const common = { labelBytes: 2 as const, labelIndex: coarse ? 0 : 1, numClasses, source: root, classNames };
  return {
    train: readParts(root, l.train, { ...common, name: 'cifar100/train' }),
    test: readParts(root, l.test, { ...common, name: 'cifar100/test' }),
    classNames,
  };
}
