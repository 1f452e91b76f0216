// The one atomic writer: replaces a file whole, and a failed write leaves neither a temp file nor a
// changed target behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic-write.js';

test('writeFileAtomic replaces a file whole and cleans up after a failed rename', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-atomic-'));
  try {
    const file = path.join(dir, 'a.json');
    writeFileAtomic(file, 'first');
    writeFileAtomic(file, new Uint8Array([0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64]));
    assert.equal(readFileSync(file, 'utf8'), 'second');
    const big = Buffer.alloc(3 << 20, 7);
    writeFileAtomic(file, big);
    assert.ok(readFileSync(file).equals(big));
    // A directory in the target's place: the rename fails, the temp file is removed, the error surfaces.
    const blocked = path.join(dir, 'blocked');
    mkdirSync(blocked);
    writeFileSync(path.join(blocked, 'keep'), 'x');
    assert.throws(() => writeFileAtomic(blocked, 'data'), /EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'blocked']);
    // A missing folder fails before anything is written.
    assert.throws(() => writeFileAtomic(path.join(dir, 'no', 'such.json'), 'x'), /ENOENT/);
    assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'blocked']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
