// The embedded demo dataset: OpenCV's digits.png (5 000 MNIST-derived 20×20 digits, 500 per
// class), converted once to IDX by scripts/make-digits-fixture.py into data/digits/ (see its README).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataset, splitDataset, type ImageDataset } from './dataset.js';
import { DataError } from './errors.js';
import { readIdxPair } from './idx.js';

export const DIGITS_CLASSES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
export const DIGITS_IMAGES_FILE = 'digits-images-idx3-ubyte.gz';
export const DIGITS_LABELS_FILE = 'digits-labels-idx1-ubyte.gz';
/** The fixed train/test split: 1 000 test digits (100 per class) chosen by this seed. */
export const DIGITS_TEST_SIZE = 1000;
export const DIGITS_SPLIT_SEED = 0;

/** data/digits in the package root, found by walking up from this module (src/data or dist/src/data). */
export function digitsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  const tried: string[] = [];
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'data', 'digits');
    if (existsSync(path.join(candidate, DIGITS_IMAGES_FILE))) return candidate;
    tried.push(candidate);
    dir = path.dirname(dir);
  }
  throw new DataError(`digits fixture ${DIGITS_IMAGES_FILE} not found in ${tried.join(', ')}; the catkit package is incomplete`);
}

/** All 5 000 digits in file order (500 of each class, class-sorted). */
export function loadDigitsAll(): ImageDataset {
  const dir = digitsDir();
  const idx = readIdxPair(path.join(dir, DIGITS_IMAGES_FILE), path.join(dir, DIGITS_LABELS_FILE), DIGITS_CLASSES.length);
  return makeDataset({ name: 'digits', images: idx.images, labels: idx.labels, height: idx.height, width: idx.width, numClasses: 10, classNames: DIGITS_CLASSES });
}

export interface Digits { train: ImageDataset; test: ImageDataset; classNames: readonly string[] }

/** 4 000 train / 1 000 test, stratified, identical on every machine. */
export function loadDigits(): Digits {
  const split = splitDataset(loadDigitsAll(), { validation: DIGITS_TEST_SIZE, seed: DIGITS_SPLIT_SEED });
  return {
    train: { ...split.train, name: 'digits/train' },
    test: { ...split.validation, name: 'digits/test' },
    classNames: DIGITS_CLASSES,
  };
}
