// --help groups each command's options and states every default, from the same constants the config
// builders use (so help cannot drift from behaviour).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { CAT_DEFAULTS, CAT_RECIPES, TRAIN_DEFAULTS } from '../../src/train/config.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const help = (name: string): string => {
  const cmd = buildProgram().commands.find((c: Command) => c.name() === name)!;
  return cmd.helpInformation({ error: false }).replace(/\n {20,}/g, ' ');  // unwrap continuation lines
};
/** The help line of one option. */
const line = (text: string, flag: string): string => text.split('\n').find((l) => l.trimStart().startsWith(flag + ' ') || l.trim() === flag) ?? '';

test('train and cat --help group their options and show every default inline', () => {
  const train = help('train'), cat = help('cat');
  for (const [text, groups] of [[train, ['Model and data:', 'Image folders only (--dataset imagenet):', 'Optimisation:', 'Run:']], [cat, ['Model and data:', 'Image folders only (--dataset imagenet):', 'Optimisation:', 'CAT:', 'Run:']]] as const) {
    let at = -1;
    for (const g of groups) { const i = text.indexOf(`\n${g}\n`); assert.ok(i > at, `group '${g}' missing or out of order`); at = i; }
    // Every option that takes a value states its default, except the run folder and the file inputs.
    const valued = text.split('\n').filter((l) => /^\s+--[a-z-]+ <[^>]+>/.test(l)).filter((l) => !/--(out|config|init|checkpoint) </.test(l));
    assert.ok(valued.length > 15);
    for (const l of valued) assert.match(l, /\(default: [^)]+\)/, `no default in: ${l.trim()}`);
  }
  assert.match(line(train, '--lr <x>'), new RegExp(`default: ${TRAIN_DEFAULTS.lr};`));
  assert.match(line(train, '--model <name>'), new RegExp(`default: ${TRAIN_DEFAULTS.model};`));
  assert.match(line(cat, '--lr <x>'), new RegExp(`default: ${CAT_RECIPES.default.lr}; --recipe paper 0\\.0001, reference 0\\.1`));
  assert.match(line(cat, '--sample-images <n>'), new RegExp(`default: ${CAT_RECIPES.default.sampleImages}; --recipe paper 1, reference 1`));
  assert.match(line(cat, '--bn-recalibrate <n>'), new RegExp(`default: ${CAT_RECIPES.default.bnRecalibration};`));
  assert.match(line(cat, '--act-bits <b>'), new RegExp(`default: ${CAT_DEFAULTS.actBits}\\)`));
  assert.match(line(cat, '--epochs <n>'), new RegExp(`default: ${CAT_DEFAULTS.epochs}\\)`));
  // The text after the options (printed by --help itself) spells out each recipe.
  const full = spawnSync(process.execPath, [BIN, 'cat', '--help'], { encoding: 'utf8' });
  assert.equal(full.status, 0, full.stderr);
  assert.match(full.stdout, /\n  reference SGD lr 0\.1 Nesterov, momentum 0\.9, weight decay 0\.0004, exponential decay to 1 % over the run/);
  assert.match(full.stdout, /\n  paper +SGD lr 0\.0001, momentum 0\.9, weight decay 0\.00004, constant, T 10/);
});
