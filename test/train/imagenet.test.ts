// ImageNet-format data end to end: `catkit train | cat | eval --dataset imagenet --data DIR` on a
// tiny generated folder of JPEGs, the session's splits, the ImageNet defaults, and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { ImageFolderLoader } from '../../src/data/image-folder.js';
import { TRAIN_DEFAULTS, imagenetTrainDefaults, type RunConfig } from '../../src/train/config.js';
import { buildSession, disposeSession } from '../../src/train/session.js';
import { readCheckpointMeta } from '../../src/train/checkpoint-meta.js';
import { FIXTURE_WNIDS, makeImageFolderFixture } from '../helpers/image-folder-fixture.js';

/**
 * Runs the catkit CLI in this process (libtorch loads once for the whole file) with stdout and
 * stderr captured; the exit code is what bin.js would set.
 */
async function catkit(...args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const out: string[] = [], err: string[] = [];
  const [writeOut, writeErr] = [process.stdout.write, process.stderr.write];
  const capture = (sink: string[]) => ((chunk: string | Uint8Array) => { sink.push(String(chunk)); return true; }) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await main(['node', 'catkit', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

/** A user's mistake: exit code 2 and one line on stderr, no stack trace. */
function assertUserError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code ${r.code}, stderr:\n${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(r.stderr, pattern);
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const inUnit = (x: number): boolean => Number.isFinite(x) && x >= 0 && x <= 1;

test('train, cat and eval on an ImageNet-layout folder through the CLI', async (t) => {
  const data = await makeImageFolderFixture();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'catkit-imagenet-runs-'));
  t.after(() => { rmSync(data, { recursive: true, force: true }); rmSync(tmp, { recursive: true, force: true }); });
  const fp = path.join(tmp, 'fp'), cat = path.join(tmp, 'cat');

  const train = await catkit('train', '--model', 'resnet8', '--dataset', 'imagenet', '--data', data, '--image-size', '32', '--epochs', '1', '--batch-size', '4',
    '--width', '0.5', '--workers', '1', '--out', fp);
  assert.equal(train.code, 0, train.stderr);
  // The first log line is the effective config: ImageNet defaults for what was not given.
  assert.match(train.stderr.split('\n')[0]!, /^config: train resnet8 ×0\.5 on imagenet \(.*; 32 px, RandomResizedCrop \+ flip; decode workers 1; bad images: fail\): 1 epochs, batch 4, sgd momentum 0\.9, lr 0\.001563, weight decay 0\.0001, step ×0\.1 every 30 epochs/);
  assert.match(train.stderr, /\ntrain: .*\/train: 22 images, 3 classes; batch 4 × 5 \(drop last\), shuffled \(seed 0\); RandomResizedCrop\(32\) \+ hflip/);
  assert.match(train.stderr, /\nvalidation: .*\/train \(held out\): 2 images, 3 classes; .*Resize\(37\) \+ CenterCrop\(32\)/);
  assert.match(train.stderr, /\ntest: .*\/val: 9 images, 3 classes/);
  const fpReport = readJson(path.join(fp, 'report.json'));
  assert.equal(fpReport.dataset, 'imagenet');
  assert.equal(fpReport.task, 'train');
  assert.ok(inUnit(fpReport.accuracy), `accuracy ${fpReport.accuracy}`);
  assert.equal(fpReport.testSamples, 9);
  assert.equal(fpReport.history.length, 1);
  const c = fpReport.config as RunConfig;
  assert.deepEqual(
    [c.batchSize, c.lr, c.optimizer, c.momentum, c.nesterov, c.weightDecay, c.schedule, c.stepSize, c.gamma, c.epochs, c.randomCrop, c.hflip, c.imageSize, c.workers, c.badImages],
    [4, (0.1 * 4) / 256, 'sgd', 0.9, false, 1e-4, 'step', 30, 0.1, 1, 0, false, 32, 1, 'fail'],
  );

  // CAT: the default recipe, ImageNet batch 32 unless given (22 training images do not fill one).
  assertUserError(await catkit('cat', '--init', fp, '--epochs', '1', '--out', path.join(tmp, 'cat32')), /22 training images \(after holding out 2\) do not fill one batch of 32; lower --batch-size/);
  assertUserError(await catkit('cat', '--init', fp, '--hflip', '--out', path.join(tmp, 'cat-flip')), /--hflip does not apply to --dataset imagenet/);
  const catRun = await catkit('cat', '--init', fp, '--epochs', '1', '--batch-size', '4', '--lambda', '0.1', '--out', cat);
  assert.equal(catRun.code, 0, catRun.stderr);
  assert.match(catRun.stderr.split('\n')[0]!, /^config: cat resnet8 ×0\.5 on imagenet .*batch 4, sgd momentum 0\.9, lr 0\.01, weight decay 0\.00004, cosine.*CAT 4-bit activations, 8-bit weights, λ 0\.1/);
  const catReport = readJson(path.join(cat, 'report.json'));
  assert.equal(catReport.task, 'cat');
  assert.equal(catReport.dataset, 'imagenet');
  assert.ok(inUnit(catReport.accuracy));
  assert.ok(catReport.bitsPerValue.rans > 0 && catReport.bitsPerValue.rans < 5, JSON.stringify(catReport.bitsPerValue));
  assert.ok(catReport.layers.length > 0);
  assert.deepEqual([catReport.config.imageSize, catReport.config.workers, catReport.config.data], [32, 1, data]);

  // eval re-measures the saved CAT run from its folder alone: same data, same weights, same numbers.
  const ev = await catkit('eval', '--checkpoint', cat, '--json');
  assert.equal(ev.code, 0, ev.stderr);
  const evReport = JSON.parse(ev.stdout);
  assert.equal(evReport.task, 'eval');
  assert.equal(evReport.dataset, 'imagenet');
  assert.equal(evReport.accuracy, catReport.accuracy);
  assert.deepEqual(evReport.bitsPerValue, catReport.bitsPerValue);
  assert.deepEqual(readJson(path.join(cat, 'eval-report.json')).accuracy, catReport.accuracy);
});

test('imagenet mistakes are one-line errors naming the fix', async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'catkit-imagenet-bad-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const out = path.join(tmp, 'out');
  assertUserError(await catkit('train', '--dataset', 'imagenet', '--out', out), /--dataset imagenet needs --data DIR, an ImageNet-style folder: DIR\/train\/<wnid>\/\*\.JPEG and DIR\/val\/<wnid>\/\*\.JPEG/);
  mkdirSync(path.join(tmp, 'notimagenet', 'images'), { recursive: true });
  assertUserError(await catkit('train', '--dataset', 'imagenet', '--data', path.join(tmp, 'notimagenet'), '--out', out),
    /notimagenet has no train\/ folder .*expected an ImageNet-style folder: DIR\/train\/<wnid>/);
  assertUserError(await catkit('train', '--dataset', 'imagenet', '--data', tmp, '--random-crop', '4', '--out', out),
    /--random-crop does not apply to --dataset imagenet: its training loader does RandomResizedCrop \+ horizontal flip/);
  assertUserError(await catkit('train', '--dataset', 'imagenet', '--data', tmp, '--pad-to', '32', '--out', out), /--pad-to does not apply to --dataset imagenet/);
  assertUserError(await catkit('train', '--dataset', 'digits', '--image-size', '64', '--out', out), /--image-size applies to image-folder datasets \(--dataset imagenet\) only, not to digits/);
  // Option syntax is commander's: its error line, then the usage line.
  const policy = await catkit('train', '--dataset', 'imagenet', '--data', tmp, '--bad-images', 'ignore', '--out', out);
  assert.equal(policy.code, 2); // a user error (exit-code scheme: README)
  assert.match(policy.stderr.split('\n')[0]!, /--bad-images must be one of skip, fail, got 'ignore'/);
});

test('session: train/ minus a stratified held-out share, val/ as test, limits on the folders, ImageNet defaults', async (t) => {
  const data = await makeImageFolderFixture({ trainPerClass: 10, valPerClass: 2 });
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const config: RunConfig = { ...TRAIN_DEFAULTS, ...imagenetTrainDefaults(), model: 'resnet8', dataset: 'imagenet', data, imageSize: 16, batchSize: 4, validation: 0.2 };
  const s = buildSession(config);
  try {
    assert.deepEqual(s.classNames, [...FIXTURE_WNIDS]);
    assert.equal(s.numClasses, 3);
    const [train, held, test] = [s.train, s.validation, s.test].map((l) => { assert.ok(l instanceof ImageFolderLoader); return l; }) as ImageFolderLoader[];
    assert.equal(held!.split.n, 6);
    assert.deepEqual([...held!.split.labels].sort(), [0, 0, 1, 1, 2, 2], 'stratified');
    assert.equal(train!.split.n, 24);
    assert.equal(new Set([...train!.split.files, ...held!.split.files]).size, 30, 'disjoint, together all of train/');
    assert.equal(test!.split.n, 6);
    assert.ok(test!.split.files.every((f) => f.includes(`${path.sep}val${path.sep}`)));
    assert.deepEqual([train!.augment, held!.augment, test!.augment], [true, false, false]);
    assert.deepEqual([train!.size, train!.batchSize, train!.dropLast, test!.batchSize], [16, 4, true, 4]);
    // The same seed gives the same split.
    const again = buildSession(config);
    assert.deepEqual((again.validation as ImageFolderLoader).split.files, held!.split.files);
    await disposeSession(again);
  } finally { await disposeSession(s); }

  const limited = buildSession({ ...config, limitTrain: 15, limitTest: 3 });
  try {
    const [train, held, test] = [limited.train, limited.validation, limited.test] as ImageFolderLoader[];
    assert.deepEqual([train!.split.n, held!.split.n, test!.split.n], [12, 3, 3]);
    assert.deepEqual([...test!.split.labels].sort(), [0, 1, 2]);
  } finally { await disposeSession(limited); }

  assert.deepEqual(imagenetTrainDefaults(64), {
    model: 'resnet18', batchSize: 64, lr: 0.025, optimizer: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 1e-4,
    schedule: 'step', stepSize: 30, gamma: 0.1, epochs: 90, warmupEpochs: 0, randomCrop: 0, hflip: false, padTo: 0,
  });
  assert.throws(() => buildSession({ ...config, hflip: true }), /--hflip does not apply to --dataset imagenet/);
  assert.throws(() => buildSession({ ...config, validation: 0.01 }), /holds out none; raise --validation/);
});

test('checkpoints written before the image-folder options read with their defaults', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-old-ck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { imageSize: _s, workers: _w, badImages: _b, ...old } = TRAIN_DEFAULTS;
  writeFileSync(path.join(dir, 'checkpoint.json'), JSON.stringify({
    format: 'catkit-checkpoint', version: 1, epoch: 1, config: { ...old, dataset: 'imagenet', data: '/data/imagenet' },
    tensorsFile: 'checkpoint-epoch1.safetensors', optimizer: null, schedule: null, history: [{ epoch: 1 }], extra: {},
  }));
  writeFileSync(path.join(dir, 'checkpoint-epoch1.safetensors'), ''); // the metadata check wants the file it names present
  const { config } = readCheckpointMeta(dir).meta;
  assert.deepEqual([config.imageSize, config.workers, config.badImages, config.data], [224, 0, 'fail', '/data/imagenet']);
});
