// The README's Library example runs as written: examples/library.ts imports catkit by its package
// names ('catkit/tensor', 'catkit/method', …, resolved through the exports map), trains a small
// network with CAT and codes each site for real; the README block is that file verbatim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runLibraryExample } from '../../examples/library.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('the README Library example trains, lowers the entropy and codes each site', () => {
  const { entropyBefore, entropyAfter, ledger, table } = runLibraryExample();
  assert.ok(entropyAfter < entropyBefore - 0.3, `soft entropy ${entropyBefore} → ${entropyAfter}`);
  assert.deepEqual(ledger.layers.map((l) => [l.name, l.bits, l.elements]), [['act1', 4, 256 * 64], ['act2', 6, 256 * 64]]);
  for (const l of ledger.layers) {
    assert.ok(l.entropyPerValue > 0 && l.entropyPerValue < l.bits, `${l.name}: ${l.entropyPerValue} bits/value`);
    assert.ok(l.adaptive.huffman!.bitsPerValue >= l.entropyPerValue, 'Huffman never beats the entropy bound');
  }
  assert.match(table, /^act1\s+4\s+16384/m);
});

test('the README shows examples/library.ts verbatim', () => {
  const file = readFileSync(`${ROOT}examples/library.ts`, 'utf8');
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('### CAT on any network'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  assert.equal(block, file.slice(file.indexOf('import ')));
});
