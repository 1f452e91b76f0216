// The real datasets: the committed digits fixture and Debian's Fashion-MNIST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/data/errors.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { loadDigitsAll } from '../../src/data/digits.js';
import { FASHION_MNIST_DEBIAN_DIR, findFashionMnist } from '../../src/data/fashion-mnist.js';
import { getDataset } from '../../src/data/registry.js';

const perClass = (ds: ImageDataset): number[] => {
  const c = new Array<number>(ds.numClasses).fill(0);
  for (const y of ds.labels) c[y]!++;
  return c;
};

test('digits fixture matches the checksums computed from digits.png', () => {
  const ds = loadDigitsAll();
  assert.equal(ds.n, 5000);
  assert.equal(ds.height, 20);
  assert.equal(ds.width, 20);
  assert.deepEqual(perClass(ds), new Array(10).fill(500));
  let sum = 0;
  for (const v of ds.images) sum += v;
  // Values from scripts/make-digits-fixture.py, recorded in data/digits/README.md.
  assert.equal(sum, 67616410);
  assert.equal(createHash('sha256').update(ds.images).digest('hex'), '5f514c6b2e580f01f61a49cc17c14f887774681b3243bd7c9da588206371cee2');
  assert.equal(ds.labels[499], 0);
  assert.equal(ds.labels[500], 1);
});

test('digits registry split: 4000 train / 1000 test, stratified', () => {
  const { train, test: held, classNames } = getDataset('digits');
  assert.equal(train.n, 4000);
  assert.equal(held.n, 1000);
  assert.deepEqual(perClass(held), new Array(10).fill(100));
  assert.deepEqual(classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.throws(() => getDataset('digits', { data: '/tmp' }), /takes no --data directory/);
});

test('unknown dataset names list the known ones', () => {
  assert.throws(() => getDataset('imagenet-xl'), (e: unknown) => e instanceof DataError && /unknown dataset 'imagenet-xl'; known datasets: digits, fashion-mnist, cifar10, cifar100/.test(e.message));
});

test('missing Fashion-MNIST lists the paths looked at', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'catkit-fm-'));
  writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), '');
  assert.throws(() => findFashionMnist(dir), (e: unknown) => e instanceof DataError
    && e.message.includes(path.join(dir, 'train-labels-idx1-ubyte.gz')) && e.message.includes(path.join(dir, 't10k-images-idx3-ubyte.gz'))
    && !e.message.includes('train-images'));
  assert.throws(() => findFashionMnist(path.join(dir, 'absent')), /--data directory .*absent does not exist/);
});

test('Fashion-MNIST from a --data directory with un-gzipped files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'catkit-fm-'));
  const idx = (dims: number[], payload: Uint8Array): Buffer => {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h[2] = 8; h[3] = dims.length;
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([h, payload]);
  };
  for (const split of ['train', 't10k']) {
    writeFileSync(path.join(dir, `${split}-images-idx3-ubyte`), idx([2, 28, 28], new Uint8Array(2 * 784).fill(9)));
    writeFileSync(path.join(dir, `${split}-labels-idx1-ubyte.gz`), gzipSync(idx([2], Uint8Array.of(3, 9))));
  }
  const fm = getDataset('fashion-mnist', { data: dir });
  assert.equal(fm.train.n, 2);
  assert.deepEqual([...fm.test.labels], [3, 9]);
  assert.equal(fm.classNames[9], 'Ankle boot');
});

const installed = existsSync(path.join(FASHION_MNIST_DEBIAN_DIR, 'train-images-idx3-ubyte.gz'));
test('Fashion-MNIST from Debian dataset-fashion-mnist', { skip: installed ? false : `not installed at ${FASHION_MNIST_DEBIAN_DIR} (apt-get install dataset-fashion-mnist)` }, () => {
  const { train, test: held, classNames } = getDataset('fashion-mnist');
  assert.equal(train.n, 60000);
  assert.equal(held.n, 10000);
  assert.equal(train.height, 28);
  assert.equal(train.width, 28);
  assert.equal(train.images.length, 60000 * 784);
  assert.deepEqual(perClass(train), new Array(10).fill(6000));
  assert.deepEqual(perClass(held), new Array(10).fill(1000));
  assert.equal(classNames[0], 'T-shirt/top');
});
