import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeFileAction, encodeFileAction } from '../../src/app/codec-files.js';
import { geometricSymbols } from '../../src/codec/synthetic.js';
import { mulberry32 } from './helpers.js';

const COMMANDS = new URL('../../src/cli/commands/codec.js', import.meta.url).href;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));  // so the inline script resolves 'commander'

test('encode → decode of raw symbol files round-trips (u8 and u16)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catkit-codec-'));
  try {
    const a = geometricSymbols(50000, 0.8, 5, mulberry32(1)) as Uint8Array;
    writeFileSync(join(dir, 'a.u8'), a);
    for (const codec of ['huffman', 'rans', 'zerorun', 'auto'] as const) {
      const msg = encodeFileAction(join(dir, 'a.u8'), join(dir, 'a.catk'), { codec, width: 8, bits: 5 });
      assert.match(msg, /round trip ok/);
      decodeFileAction(join(dir, 'a.catk'), join(dir, 'b.u8'), {});
      assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'b.u8'))), a);
    }
    const w = new Uint8Array([1, 0, 0xff, 0xff, 3, 1]);  // 1, 65535, 259 little-endian
    writeFileSync(join(dir, 'w.u16'), w);
    encodeFileAction(join(dir, 'w.u16'), join(dir, 'w.catk'), { codec: 'rans', width: 16 });
    decodeFileAction(join(dir, 'w.catk'), join(dir, 'w2.u16'), {});
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'w2.u16'))), w);
    writeFileSync(join(dir, 'odd.u16'), new Uint8Array(3));
    assert.throws(() => encodeFileAction(join(dir, 'odd.u16'), join(dir, 'x'), { codec: 'auto', width: 16 }), { code: 'bad_input' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decode reports a bad file as a one-line CodecError; the bench command prints a table and a JSON last line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'catkit-codec-'));
  try {
    writeFileSync(join(dir, 'junk.catk'), 'not a container');
    assert.throws(() => decodeFileAction(join(dir, 'junk.catk'), join(dir, 'out'), {}),
      { name: 'CodecError', message: 'container: not a catkit stream (magic "CATK" missing) (at byte 0)' });
    assert.throws(() => decodeFileAction(join(dir, 'missing.catk'), join(dir, 'out'), {}), { code: 'bad_input' });
    // The codec commands alone (the full CLI also loads the native engine, which this test must not need).
    const script = `import { Command } from 'commander'; import { registerCodecCommands } from ${JSON.stringify(COMMANDS)};
      const p = new Command('catkit'); registerCodecCommands(p); await p.parseAsync(process.argv.slice(1), { from: 'user' });`;
    const bench = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'codec', 'bench', '--size', '20000', '--reps', '1', '--quiet'],
      { encoding: 'utf8', cwd: ROOT });
    assert.equal(bench.status, 0, bench.stderr);
    const lines = bench.stdout.trim().split('\n');
    const json = JSON.parse(lines[lines.length - 1]) as { rows: Record<string, number | string>[] };
    assert.deepEqual(json.rows.map((r) => r.source), ['geo5-p0=0.5', 'geo5-p0=0.6', 'geo5-p0=0.7', 'geo5-p0=0.8', 'geo5-p0=0.9', 'uniform8']);
    for (const row of json.rows) {
      for (const k of ['entropy', 'huffman', 'rans', 'zerorun', 'zlib_huffman', 'huffman_dec_msym_s', 'rans_dec_msym_s', 'huffman_enc_msym_s', 'rans_enc_msym_s']) {
        assert.equal(typeof row[k], 'number', k);
      }
      assert.ok((row.huffman as number) >= (row.entropy as number) - 1e-3);
      assert.ok((row.huffman as number) >= 1, 'Huffman cannot go below 1 bit/value');
    }
    assert.match(lines[0], /^source\s+entropy\s+huffman/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
