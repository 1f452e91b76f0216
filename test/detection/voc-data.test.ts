// VOC data: the synthetic VOCdevkit set is deterministic and reads back through the loader; bad
// annotations, missing images, ids that climb out and symlinks out fail with a one-line error naming
// the file (or are skipped and counted); the loader's eval resize scales boxes exactly and the SSD
// augmentation keeps boxes inside the image.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, cpSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeVocSynthetic } from '../../src/data/voc-synthetic.js';
import { openVoc, parseVocAnnotation, parseVocSets } from '../../src/data/voc.js';
import { VocLoader } from '../../src/data/voc-loader.js';
import { resizeToChw, ssdTrainTransform } from '../../src/data/ssd-augment.js';
import { mulberry32 } from '../../src/data/random.js';
import { CatkitError } from '../../src/errors.js';
import { dispose } from '../../src/tensor/index.js';

let dir = '';
before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-voc-')); });
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function digest(root: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else h.update(path.relative(root, p)).update(readFileSync(p));
    }
  };
  walk(root);
  return h.digest('hex');
}

const userError = (re: RegExp) => (e: unknown) => e instanceof CatkitError && e.userFacing && re.test(e.message) && !e.message.includes('\n');

test('make-voc-synthetic: deterministic VOCdevkit layout that the loader reads back', async () => {
  const a = path.join(dir, 'a'), b = path.join(dir, 'b'), c = path.join(dir, 'c');
  const sa = await makeVocSynthetic(a, { images: 20, seed: 3 });
  await makeVocSynthetic(b, { images: 20, seed: 3 });
  await makeVocSynthetic(c, { images: 20, seed: 4 });
  assert.equal(digest(a), digest(b));
  assert.notEqual(digest(a), digest(c));
  await assert.rejects(makeVocSynthetic(a, { images: 20, seed: 3 }), userError(/exists and is not empty/));
  const train = openVoc(a, '2007-trainval+2012-trainval');
  const test07 = openVoc(a, parseVocSets('2007-test'));
  assert.equal(train.items.length, sa.sets['2007/trainval']! + sa.sets['2012/trainval']!);
  assert.equal(test07.items.length, sa.sets['2007/test']);
  const all = [...train.items, ...test07.items];
  assert.equal(all.reduce((n, it) => n + it.objects.length, 0), sa.objects);
  assert.ok(all.every((it) => it.objects.length >= 1 && it.objects.length <= 5));
  assert.ok(sa.difficult > 0 && sa.difficult < sa.objects / 2, `${sa.difficult} difficult of ${sa.objects}`);
  assert.ok(all.every((it) => it.objects.every((o) => o.box[0] >= 0 && o.box[2] <= it.width - 1 && o.box[3] <= it.height - 1 && o.label >= 1 && o.label <= 10)));
});

test('make-voc-synthetic options: a class subset, at most n objects, object sides within the given fractions; bad values refused', async () => {
  const root = path.join(dir, 'easy');
  const s = await makeVocSynthetic(root, { images: 16, seed: 2, classes: 3, maxObjects: 2, minSide: 100, maxSide: 120, minObject: 0.3, maxObject: 0.7 });
  const all = [...openVoc(root, '2007-trainval+2012-trainval').items, ...openVoc(root, '2007-test').items];
  assert.equal(all.reduce((n, it) => n + it.objects.length, 0), s.objects);
  assert.ok(all.every((it) => it.width >= 100 && it.width <= 120 && it.height >= 100 && it.height <= 120));
  assert.ok(all.every((it) => it.objects.length >= 1 && it.objects.length <= 2));
  assert.ok(all.every((it) => it.objects.every((o) => o.label >= 1 && o.label <= 3)));
  // The box is the digit's tight extent inside a pasted square of side ≤ 0.7 × the shorter image side.
  assert.ok(all.every((it) => it.objects.every((o) => Math.max(o.box[2] - o.box[0], o.box[3] - o.box[1]) + 1 <= Math.floor(0.7 * Math.min(it.width, it.height)))));
  await assert.rejects(makeVocSynthetic(path.join(dir, 'bad1'), { images: 8, seed: 0, classes: 11 }), userError(/--classes must be an integer 1 … 10/));
  await assert.rejects(makeVocSynthetic(path.join(dir, 'bad2'), { images: 8, seed: 0, minObject: 0.8, maxObject: 0.5 }), userError(/--min-object ≤ --max-object/));
});

test('bad annotations and paths: one line naming the file; skip counts them', async () => {
  const root = path.join(dir, 'bad');
  await makeVocSynthetic(path.join(dir, 'src'), { images: 16, seed: 1 });
  cpSync(path.join(dir, 'src'), root, { recursive: true });
  const v07 = path.join(root, 'VOC2007');
  const ids = readFileSync(path.join(v07, 'ImageSets/Main/trainval.txt'), 'utf8').trim().split('\n');
  const ann = (id: string) => path.join(v07, 'Annotations', `${id}.xml`);
  const ok = readFileSync(ann(ids[0]!), 'utf8');
  const width = /<width>(\d+)<\/width>/.exec(ok)![1]!;

  assert.throws(() => parseVocAnnotation(ok.replace('</annotation>', ''), 'x.xml'), userError(/^x\.xml: malformed XML/));
  assert.throws(() => parseVocAnnotation(ok.replace(/<xmax>\d+<\/xmax>/, `<xmax>${Number(width) + 5}</xmax>`), 'x.xml'), userError(/^x\.xml: object 1 \(\w+\) box .* lies outside the \d+×\d+ image/));
  assert.throws(() => parseVocAnnotation(ok.replace(/<xmax>\d+<\/xmax>/, '<xmax>1</xmax>').replace(/<xmin>\d+<\/xmin>/, '<xmin>1</xmin>'), 'x.xml'), userError(/zero or negative area/));
  assert.throws(() => parseVocAnnotation(ok.replace(/<name>\w+<\/name>/, '<name>unicorn</name>'), 'x.xml'), userError(/unknown class 'unicorn'/));
  assert.throws(() => parseVocAnnotation(ok.replace(/<xmin>\d+<\/xmin>/, '<xmin>abc</xmin>'), 'x.xml'), userError(/bndbox\/xmin is not a number/));

  writeFileSync(ann(ids[0]!), ok.replace('</annotation>', ''));
  unlinkSync(path.join(v07, 'JPEGImages', `${ids[1]}.jpg`));
  assert.throws(() => openVoc(root, '2007-trainval'), userError(new RegExp(`${ids[0]}\\.xml: malformed XML`)));
  const logs: string[] = [];
  const skipped = openVoc(root, '2007-trainval', { badImages: 'skip', log: (m) => logs.push(m) });
  assert.equal(skipped.items.length, ids.length - 2);
  assert.equal(skipped.skipped.length, 2);
  assert.match(skipped.skipped[1]!, new RegExp(`JPEGImages/${ids[1]}\\.jpg: missing image`));
  assert.match(logs[0]!, /^skipped 2 image\(s\) with bad data/);

  // Ids that climb out, and symlinks that leave the folder, are refused even with skip.
  const list = path.join(v07, 'ImageSets/Main/trainval.txt');
  appendFileSync(list, '../../../etc/passwd\n');
  assert.throws(() => openVoc(root, '2007-trainval', { badImages: 'skip' }), userError(/trainval\.txt: line \d+: '\.\.\/\.\.\/\.\.\/etc\/passwd' is not an image id/));
  writeFileSync(list, `${ids.slice(2).join('\n')}\n`);
  const outside = path.join(dir, 'outside.xml');
  writeFileSync(outside, ok);
  rmSync(ann(ids[2]!));
  symlinkSync(outside, ann(ids[2]!));
  assert.throws(() => openVoc(root, '2007-trainval'), userError(/is a link to a file outside its folder/));
  assert.throws(() => openVoc(root, '2009-trainval'), userError(/has no VOC2009 folder/));
  assert.throws(() => parseVocSets('2007trainval'), userError(/must look like 2007-trainval/));
});

test('loader: eval resize scales boxes exactly; training augmentation keeps boxes inside the image', async () => {
  const root = path.join(dir, 'a');
  const split = openVoc(root, '2007-test');
  const loader = new VocLoader(split, { batchSize: 3, size: 96, train: false, workers: 1 });
  try {
    let seen = 0;
    for await (const b of loader.batches(0)) {
      assert.deepEqual(b.x.shape, [b.items.length, 3, 96, 96]);
      const xs = b.x.dataSync() as Float32Array;
      assert.ok(xs.every((v) => v >= 0 && v <= 1));
      b.items.forEach((it, k) => {
        const boxes = b.targets[k]!.boxes.toArray();
        it.objects.forEach((o, j) => {
          for (let c = 0; c < 4; c++) assert.ok(Math.abs(boxes[4 * j + c]! - o.box[c]! * 96 / (c % 2 ? it.height : it.width)) < 1e-3);
        });
        assert.deepEqual(b.targets[k]!.labels.toArray(), it.objects.map((o) => o.label));
      });
      seen += b.items.length;
      dispose(b);
    }
    assert.equal(seen, split.items.length);
  } finally { await loader.close(); }

  const rng = mulberry32(9);
  for (let t = 0; t < 200; t++) {
    const w = 50 + Math.floor(rng() * 100), h = 50 + Math.floor(rng() * 100);
    const img = { data: new Float32Array(w * h * 3).map(() => rng() * 255), width: w, height: h };
    const a = { boxes: [5, 6, w - 10, h - 20, 20, 10, 30, 40], labels: [3, 7] };
    const out = ssdTrainTransform(img, a, 64, rng);
    assert.equal(out.length, 3 * 64 * 64);
    assert.ok(out.every((v) => v >= 0 && v <= 1));
    assert.equal(a.boxes.length, 4 * a.labels.length);
    for (let i = 0; i < a.boxes.length; i += 4) {
      assert.ok(a.boxes[i]! >= -1e-9 && a.boxes[i + 1]! >= -1e-9 && a.boxes[i + 2]! <= 64 + 1e-9 && a.boxes[i + 3]! <= 64 + 1e-9, `box ${a.boxes.slice(i, i + 4)}`);
      assert.ok(a.boxes[i + 2]! - a.boxes[i]! >= 1 && a.boxes[i + 3]! - a.boxes[i + 1]! >= 1);
    }
    assert.ok(a.labels.every((l) => l === 3 || l === 7));
  }
  // 'light' (photometric + flip) keeps every box and its size; 'none' is the evaluation resize.
  for (let t = 0; t < 20; t++) {
    const img = { data: new Float32Array(80 * 60 * 3).map(() => rng() * 255), width: 80, height: 60 };
    const a = { boxes: [5, 6, 45, 40], labels: [2] };
    ssdTrainTransform(img, a, 40, rng, 'light');
    assert.deepEqual(a.labels, [2]);
    assert.ok(Math.abs(a.boxes[2]! - a.boxes[0]! - 20) < 1e-9 && Math.abs(a.boxes[3]! - a.boxes[1]! - 34 * 40 / 60) < 1e-9);
    assert.ok([2.5, 17.5].some((x0) => Math.abs(a.boxes[0]! - x0) < 1e-9), `x0 ${a.boxes[0]} is the box or its mirror`);
  }
  const img = { data: new Float32Array(8 * 8 * 3).map(() => rng() * 255), width: 8, height: 8 };
  const copy = { ...img, data: img.data.slice() };
  assert.deepEqual(ssdTrainTransform(img, { boxes: [1, 1, 5, 5], labels: [1] }, 4, rng, 'none'), resizeToChw(copy, null, 4));
});

test('catkit data make-voc-synthetic writes the set and refuses a non-empty folder (exit 2, one line)', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
  const out = path.join(dir, 'cli');
  const ok = spawnSync(process.execPath, [bin, 'data', 'make-voc-synthetic', out, '--images', '10', '--seed', '5'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /10 images, \d+ objects/);
  assert.equal(openVoc(out, '2007-trainval+2012-trainval').items.length + openVoc(out, '2007-test').items.length, 10);
  const again = spawnSync(process.execPath, [bin, 'data', 'make-voc-synthetic', out, '--images', '10'], { encoding: 'utf8' });
  assert.equal(again.status, 2);
  assert.match(again.stderr, /^catkit: .*exists and is not empty; choose a new folder\n$/);
});
