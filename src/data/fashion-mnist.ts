// Fashion-MNIST (Zalando, MIT): 60 000 train / 10 000 test 28×28 grey images, 10 classes.
// Not committed (30 MB); read from Debian's dataset-fashion-mnist or a user directory.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { makeDataset, type ImageDataset } from './dataset.js';
import { DataError } from './errors.js';
import { readIdxPair } from './idx.js';

export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
]);

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export type FashionMnistFiles = Record<keyof typeof FILES, string>;

/**
 * The four IDX files in `dir` (default: Debian's location), each as NAME.gz or un-gzipped NAME.
 * A user directory is the only place looked at when given, so a typo is not hidden by a fallback.
 */
export function findFashionMnist(dir?: string): FashionMnistFiles {
  const root = dir ?? FASHION_MNIST_DEBIAN_DIR;
  if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) {
    throw new DataError(`Fashion-MNIST: --data directory ${dir} does not exist`);
  }
  const found: Partial<FashionMnistFiles> = {};
  const missing: string[] = [];
  for (const [key, name] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
    const candidates = [path.join(root, `${name}.gz`), path.join(root, name)];
    const hit = candidates.find((f) => existsSync(f));
    if (hit) found[key] = hit;
    else missing.push(`${candidates[0]} (or ${name})`);
  }
  if (missing.length) {
    const hint = dir === undefined ? "install Debian's dataset-fashion-mnist or pass --data DIR" : 'the directory must hold the four Fashion-MNIST IDX files';
    throw new DataError(`Fashion-MNIST not found; looked for ${missing.join(', ')}: ${hint}`);
  }
  return found as FashionMnistFiles;
}

export interface FashionMnist { train: ImageDataset; test: ImageDataset; classNames: readonly string[] }

export function loadFashionMnist(o: { data?: string } = {}): FashionMnist {
  const f = findFashionMnist(o.data);
  const part = (name: string, images: string, labels: string): ImageDataset => {
    const idx = readIdxPair(images, labels, FASHION_MNIST_CLASSES.length);
    return makeDataset({ name, images: idx.images, labels: idx.labels, height: idx.height, width: idx.width, numClasses: 10, classNames: FASHION_MNIST_CLASSES });
  };
  return {
    train: part('fashion-mnist/train', f.trainImages, f.trainLabels),
    test: part('fashion-mnist/test', f.testImages, f.testLabels),
    classNames: FASHION_MNIST_CLASSES,
  };
}
