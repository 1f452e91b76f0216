// Run configs: defaults, recipes, --init, --config file and flags layer in one documented order; every
// mistake is one error naming it; the JSON Schema covers exactly the fields a checkpoint records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCatConfig, buildTrainConfig, buildResumeConfig, catInitPath } from '../../src/app/run-config.js';
import { checkRunConfigFields, readConfigFile, runConfigSchemaPath } from '../../src/app/config-file.js';
import { CAT_RECIPES, TRAIN_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { rateTargetOptions } from '../../src/train/rate-target.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const FP: RunConfig = { ...TRAIN_DEFAULTS, model: 'resnet8', dataset: 'digits', batchSize: 32, seed: 3, lr: 0.05, epochs: 8, randomCrop: 2 };
const cat = (flags: Parameters<typeof buildCatConfig>[0]['flags'], file?: Partial<RunConfig>, init: RunConfig = FP) => buildCatConfig({ init, flags, file });

test('cat without optimisation options uses the default recipe, the --init run\'s model and data, 4/8 bits', () => {
  const c = cat({ init: 'runs/fp', lambda: 1 });
  assert.deepEqual(
    [c.task, c.init, c.model, c.dataset, c.batchSize, c.seed, c.randomCrop, c.epochs, c.lr, c.schedule, c.momentum, c.nesterov, c.weightDecay, c.sampleImages, c.bnRecalibration, c.temperature, c.actBits, c.weightBits, c.lambda],
    ['cat', 'runs/fp', 'resnet8', 'digits', 32, 3, 2, 10, 0.01, 'cosine', 0.9, false, 4e-5, 16, 50, 10, 4, 8, 1],
  );
});

test('--recipe paper and reference give the paper\'s and the reference code\'s settings', () => {
  const p = cat({ init: 'fp', recipe: 'paper' });
  assert.deepEqual([p.lr, p.schedule, p.momentum, p.nesterov, p.weightDecay, p.temperature, p.sampleImages, p.bnRecalibration], [1e-4, 'constant', 0.9, false, 4e-5, 10, 1, 0]);
  const r = cat({ init: 'fp', recipe: 'reference' });
  assert.deepEqual([r.lr, r.schedule, r.gamma, r.momentum, r.nesterov, r.weightDecay, r.sampleImages], [0.1, 'exponential', 0.01, 0.9, true, 4e-4, 1]);
  assert.deepEqual(Object.keys(CAT_RECIPES), ['default', 'paper', 'reference']);
});

test('precedence: flags > config file > recipe > --init run > defaults', () => {
  const file = { lr: 0.02, epochs: 3, sampleImages: 4, seed: 9 };
  const c = cat({ init: 'fp', recipe: 'paper', epochs: 5 }, file);
  assert.deepEqual([c.lr, c.epochs, c.sampleImages, c.seed, c.schedule], [0.02, 5, 4, 9, 'constant']);
  // --weight-bits 32 (flag or file) means float weights, recorded as no weightBits.
  assert.equal(cat({ init: 'fp', weightBits: 32 }).weightBits, undefined);
  assert.equal('weightBits' in cat({ init: 'fp' }, { weightBits: 32 }), false);
  assert.equal(cat({ init: 'fp', quantEdges: false }).noQuantEdges, true);
  // --freeze-bn and --target-measure-every reach the config; the rate target takes the spacing.
  const frozen = cat({ init: 'fp', freezeBn: 4, targetBits: 1.5, targetMeasureEvery: 3 });
  assert.deepEqual([frozen.freezeBatchNorm, frozen.targetMeasureEvery], [4, 3]);
  assert.equal(rateTargetOptions(frozen, 100)!.measureEvery, 3);
  assert.equal('freezeBatchNorm' in cat({ init: 'fp' }), false);
  // The file may name the --init run; a flag wins.
  assert.equal(catInitPath({}, { init: 'a' }), 'a');
  assert.equal(catInitPath({ init: 'b' }, { init: 'a' }), 'b');
  const t = buildTrainConfig({ flags: { lr: 0.3 }, file: { lr: 0.2, epochs: 2, model: 'resnet14' } });
  assert.deepEqual([t.task, t.lr, t.epochs, t.model, t.nesterov], ['train', 0.3, 2, 'resnet14', true]);
  const imagenet = buildTrainConfig({ flags: { dataset: 'imagenet', data: '/x', batchSize: 64 } });
  assert.deepEqual([imagenet.model, imagenet.lr, imagenet.nesterov, imagenet.randomCrop], ['resnet18', 0.025, false, 0]);
  const resumed = buildResumeConfig({ ...FP, task: 'cat', lambda: 2 }, { epochs: 12 });
  assert.deepEqual([resumed.epochs, resumed.lambda, resumed.lr], [12, 2, 0.05]);
});

test('each mistake is one error that names it', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => cat({ init: 'w.safetensors' }), /--init takes a run folder/],
    [() => catInitPath({}, {}), /cat needs --init RUN \(or "init" in the --config file\)/],
    [() => cat({ init: 'fp' }, undefined, { ...FP, task: 'cat' }), /--init fp is a 'cat' run/],
    [() => cat({ init: 'fp' }, { task: 'train' }), /the config file describes a 'train' run/],
    [() => cat({ init: 'fp' }, { model: 'resnet20' }), /model resnet20 conflicts with the --init run's model resnet8/],
    [() => cat({ init: 'fp', imageSize: 64 }), /--image-size applies to image-folder datasets/],
    [() => cat({ init: 'fp', hflip: true }, undefined, { ...FP, dataset: 'imagenet', data: '/x' }), /--hflip does not apply to --dataset imagenet/],
    [() => cat({ init: 'fp', lr: 0 }), /--lr must be positive, got 0/],
    [() => cat({ init: 'fp', targetMeasureEvery: 4 }), /--target-measure-every go with --target-bits/],
    [() => cat({ init: 'fp', targetBits: 2, targetMeasureEvery: 0 }), /--target-measure-every must be a positive integer, got 0/],
    [() => cat({ init: 'fp', freezeBn: 0 }), /--freeze-bn takes the first epoch with fixed statistics \(1 or more\), got 0/],
    [() => buildTrainConfig({ flags: { dataset: 'imagenet' } }), /--dataset imagenet needs --data DIR/],
    [() => buildTrainConfig({ flags: { dataset: 'cifar10' }, init: FP }), /dataset cifar10 conflicts with the --init run's dataset digits/],
  ];
  for (const [fn, re] of cases) assert.throws(fn, (e: Error & { code?: string; userFacing?: boolean }) => re.test(e.message) && e.userFacing === true && !e.message.includes('\n'), String(re));
});

test('the JSON Schema covers exactly the fields a checkpoint records and accepts the defaults', () => {
  const schema = JSON.parse(readFileSync(runConfigSchemaPath(), 'utf8')) as { properties: Record<string, unknown> };
  const optional = ['data', 'resize', 'limitTrain', 'limitTest', 'init', 'actBits', 'actBitsAt', 'weightBits', 'targetBits', 'targetBitsAt', 'targetMetric', 'targetTolerance', 'targetMeasureEvery', 'freezeBatchNorm', 'taskKind', 'detection'];
  const fields = new Set([...Object.keys(TRAIN_DEFAULTS), ...optional]);
  assert.deepEqual(Object.keys(schema.properties).filter((k) => k !== '$schema').sort(), [...fields].sort());
  assert.deepEqual(checkRunConfigFields({ ...TRAIN_DEFAULTS }, 'defaults'), TRAIN_DEFAULTS);
  assert.deepEqual(checkRunConfigFields(cat({ init: 'fp', recipe: 'reference' }), 'cat'), cat({ init: 'fp', recipe: 'reference' }));
  const bad: [unknown, RegExp][] = [
    [{ lr: 0 }, /f: 'lr' must be > 0/],
    [{ lr: '0.1' }, /'lr' must be number/],
    [{ learningRate: 0.1 }, /unknown field 'learningRate'/],
    [{ actBitsAt: [{ pattern: 'layer1.*', bits: 17 }] }, /actBitsAt/],
    [{ schedule: 'linear' }, /'schedule' must be one of "cosine", "exponential", "step", "constant"/],
    [{ actBits: 2.5 }, /'actBits' must be integer/],
    [[1, 2], /must be object/],
  ];
  for (const [value, re] of bad) assert.throws(() => checkRunConfigFields(value, 'f'), re);
});

test('--config files: a run config or a checkpoint.json; bad files are one-line errors before the engine loads', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-config-'));
  try {
    const file = path.join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({ $schema: '../schema/run-config.schema.json', lambda: 1.5, epochs: 2 }));
    assert.deepEqual(readConfigFile(file), { lambda: 1.5, epochs: 2 });
    const ck = path.join(dir, 'checkpoint.json');
    writeFileSync(ck, JSON.stringify({ format: 'catkit-checkpoint', version: 1, config: { ...FP, task: 'train' } }));
    assert.equal(readConfigFile(ck).lr, 0.05);
    writeFileSync(path.join(dir, 'broken.json'), '{ "lr": ');
    assert.throws(() => readConfigFile(path.join(dir, 'broken.json')), /broken\.json is not valid JSON/);
    assert.throws(() => readConfigFile(path.join(dir, 'none.json')), /--config .*none\.json: no such file/);

    // Through the CLI, with native addons blocked: the error is one line, exit 2, libtorch never loads.
    const guard = path.join(dir, 'guard.cjs');
    writeFileSync(guard, "require('module')._extensions['.node'] = (m, f) => { throw new Error('native addon loaded: ' + f); };\n");
    const fp = path.join(dir, 'fp');
    mkdirSync(fp);
    writeFileSync(path.join(fp, 'checkpoint.json'), JSON.stringify({ format: 'catkit-checkpoint', version: 1, epoch: 1, tensorsFile: 'x.safetensors', config: FP, history: [{ epoch: 1 }], extra: {} }));
    writeFileSync(path.join(fp, 'x.safetensors'), ''); // checkpoint.json is checked against the files present
    writeFileSync(path.join(dir, 'typo.json'), JSON.stringify({ lamda: 1 }));
    for (const [args, re] of [
      [['cat', '--init', fp, '--config', path.join(dir, 'typo.json'), '--out', path.join(dir, 'o')], /^catkit: .*typo\.json: unknown field 'lamda'/],
      [['cat', '--config', file, '--out', path.join(dir, 'o')], /^catkit: cat needs --init RUN/],
      [['cat', '--init', fp, '--config', ck, '--out', path.join(dir, 'o')], /^catkit: the config file describes a 'train' run/],
      [['train', '--config', file, '--out', path.join(dir, 'o')], /^catkit: lambda/],
    ] as [string[], RegExp][]) {
      const r = spawnSync(process.execPath, ['-r', guard, BIN, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, `catkit ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
