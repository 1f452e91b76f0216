// The codec commands and every --help work without loading libtorch (the codecs are pure TS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

test('codec commands and help text never load the native engine', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-lazy-'));
  try {
    // Preloaded into the child: any attempt to load a .node addon fails loudly.
    const guard = path.join(dir, 'guard.cjs');
    writeFileSync(guard, "require('module')._extensions['.node'] = (m, f) => { throw new Error('native addon loaded: ' + f); };\n");
    const symbols = path.join(dir, 'in.u8');
    writeFileSync(symbols, Uint8Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? 3 : 0)));
    const runs = [
      ['--help'], ['train', '--help'], ['cat', '--help'], ['eval', '--help'], ['predict', '--help'], ['demo', '--help'],
      ['codec', 'encode', symbols, path.join(dir, 'out.catk'), '--bits', '2'],
      ['codec', 'decode', path.join(dir, 'out.catk'), path.join(dir, 'back.u8')],
    ];
    for (const args of runs) {
      const r = spawnSync(process.execPath, ['-r', guard, BIN, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, `catkit ${args.join(' ')} failed:\n${r.stderr}`);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
