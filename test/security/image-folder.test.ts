// ImageNet-style folders: the labels file of a flat val/ must be a regular file inside the
// dataset folder (a link out or a device is refused); image names that are devices are not listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openImageFolder } from '../../src/data/image-folder.js';
import { sandbox } from './helpers.js';

test('a labels file linked outside the dataset folder, or to a device, is refused; device "images" are skipped', () => {
  const box = sandbox();
  try {
    const make = (name: string): string => {
      const root = path.join(box.inside, name);
      mkdirSync(path.join(root, 'train', 'n01'), { recursive: true });
      mkdirSync(path.join(root, 'val'), { recursive: true });
      writeFileSync(path.join(root, 'train', 'n01', 'a.JPEG'), 'x');
      writeFileSync(path.join(root, 'val', 'v1.JPEG'), 'x');
      return root;
    };
    const out = make('out');
    writeFileSync(path.join(box.outside, 'labels.txt'), 'v1.JPEG n01\n');
    symlinkSync(path.join(box.outside, 'labels.txt'), path.join(out, 'val_labels.txt'));
    assert.throws(() => openImageFolder(out, { split: 'val' }), { code: 'path_outside', message: /labels file 'val_labels\.txt' is a link to a file outside its folder/ });

    const dev = make('dev');
    symlinkSync('/dev/zero', path.join(dev, 'val', 'val_labels.txt'));
    assert.throws(() => openImageFolder(dev, { split: 'val' }), { code: 'path_outside' });

    const ok = make('ok');
    writeFileSync(path.join(ok, 'val', 'val_labels.txt'), 'v1.JPEG n01\n');
    symlinkSync('/dev/urandom', path.join(ok, 'val', 'v2.JPEG'));
    symlinkSync('/dev/zero', path.join(ok, 'train', 'n01', 'b.JPEG'));
    const val = openImageFolder(ok, { split: 'val' });
    assert.deepEqual(val.files.map((f) => path.basename(f)), ['v1.JPEG']);
    assert.deepEqual(openImageFolder(ok).files.map((f) => path.basename(f)), ['a.JPEG']);
  } finally { box.dispose(); }
});
