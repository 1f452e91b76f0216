// `catkit train`, `catkit cat` and `catkit eval`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TRAIN_DEFAULTS, CAT_DEFAULTS, IMAGENET_BATCH_SIZE, IN_MEMORY_ONLY_OPTIONS, IN_MEMORY_OPTIONS_OFF, imagenetTrainDefaults, notForImageFolder, type RunConfig } from '../../train/config.js';
import type { RunReport } from '../../report/index.js';
import { DATASET_NAMES, isImageFolderDataset } from '../../data/registry.js';
import { readCheckpointMeta } from '../../train/checkpoint-meta.js';
import { UserError } from '../user-error.js';
import { addThreadsOption, float, int, oneOf } from '../options.js';

/** Options shared by train and cat; commander leaves unset ones undefined so defaults can layer. */
function addRunOptions(cmd: Command): Command {
  return addThreadsOption(cmd)
    .option('--data <dir>', 'dataset folder (default: the installed/embedded copy; imagenet: required, DIR/train/<wnid>/*.JPEG + DIR/val/)')
    .option('--epochs <n>', 'training epochs', int('--epochs', 1))
    .option('--batch-size <n>', 'batch size', int('--batch-size', 1))
    .option('--lr <x>', 'learning rate', float('--lr', 0))
    .option('--momentum <x>', 'SGD momentum', float('--momentum', 0, 1))
    .option('--weight-decay <x>', 'L2 weight decay', float('--weight-decay', 0))
    .option('--nesterov', 'Nesterov momentum (default for train, except on imagenet)')
    .option('--no-nesterov', 'plain momentum instead of Nesterov')
    .option('--optimizer <name>', 'sgd | adam | adamw', oneOf('--optimizer', ['sgd', 'adam', 'adamw'] as const))
    .option('--schedule <name>', 'cosine | exponential | step | constant', oneOf('--schedule', ['cosine', 'exponential', 'step', 'constant'] as const))
    .option('--gamma <x>', 'exponential: total decay over the run; step: factor per step', float('--gamma', 0))
    .option('--step-size <n>', 'step schedule period in epochs', int('--step-size', 1))
    .option('--warmup <n>', 'linear warm-up epochs', int('--warmup', 0))
    .option('--seed <n>', 'seed for splits, order, augmentation and initialisation', int('--seed', 0))
    .option('--random-crop <pad>', 'random crop with this zero padding (0: off; not for imagenet)', int('--random-crop', 0, 16))
    .option('--hflip', 'random horizontal flips (not for imagenet)')
    .option('--pad-to <size>', 'zero-pad images to this square size (not for imagenet)', int('--pad-to', 0, 4096))
    .option('--image-size <n>', `imagenet: side of the crops fed to the model (default ${TRAIN_DEFAULTS.imageSize})`, int('--image-size', 1, 4096))
    .option('--workers <n>', 'imagenet: image decoding threads per loader (default 0: min(4, cores))', int('--workers', 0, 256))
    .option('--bad-images <policy>', 'imagenet: unreadable image files fail the run or are skipped (default fail)', oneOf('--bad-images', ['skip', 'fail'] as const))
    .option('--resize <size>', 'bilinear resize of every batch to this square size (e.g. 64 for ImageNet backbones on digits; 0: off; not for imagenet)', int('--resize', 0, 4096))
    .option('--validation <fraction>', 'held-out share of the training split', float('--validation', 0, 1))
    .option('--limit-train <n>', 'use at most n training images (stratified)', int('--limit-train', 1))
    .option('--limit-test <n>', 'use at most n test images (stratified)', int('--limit-test', 1))
    .option('--coded-batches <n>', 'entropy-code the activations of the first n test batches (default: all)', int('--coded-batches', 1))
    .requiredOption('--out <dir>', 'run folder: checkpoints and report.json')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--json', 'print the report as JSON on stdout');
}

type Opts = Record<string, unknown>;
const pick = (o: Opts, keys: Record<string, keyof RunConfig>): Partial<RunConfig> =>
  Object.fromEntries(Object.entries(keys).filter(([k]) => o[k] !== undefined).map(([k, c]) => [c, o[k]])) as Partial<RunConfig>;

const COMMON_KEYS: Record<string, keyof RunConfig> = {
  data: 'data', epochs: 'epochs', batchSize: 'batchSize', lr: 'lr', momentum: 'momentum', weightDecay: 'weightDecay',
  optimizer: 'optimizer', schedule: 'schedule', gamma: 'gamma', stepSize: 'stepSize', warmup: 'warmupEpochs', seed: 'seed',
  randomCrop: 'randomCrop', hflip: 'hflip', padTo: 'padTo', resize: 'resize', validation: 'validation', limitTrain: 'limitTrain', limitTest: 'limitTest',
  imageSize: 'imageSize', workers: 'workers', badImages: 'badImages',
};

/** Options that only make sense for one kind of dataset are refused, not silently ignored. */
function checkDataOptions(o: Opts, dataset: string): void {
  const image = isImageFolderDataset(dataset);
  const wrong = image
    ? IN_MEMORY_ONLY_OPTIONS.find(([k]) => o[k] !== undefined)
    : ([['imageSize', '--image-size'], ['workers', '--workers'], ['badImages', '--bad-images']] as const).find(([k]) => o[k] !== undefined);
  if (!wrong) return;
  throw new UserError(image
    ? notForImageFolder(wrong[1], dataset)
    : `${wrong[1]} applies to image-folder datasets (--dataset ${DATASET_NAMES.filter(isImageFolderDataset).join(', ')}) only, not to ${dataset}`);
}

const TRAIN_HELP = `
Defaults of options not given:
  digits, fashion-mnist, cifar10/100: model ${TRAIN_DEFAULTS.model}, ${TRAIN_DEFAULTS.epochs} epochs, batch ${TRAIN_DEFAULTS.batchSize}, SGD lr ${TRAIN_DEFAULTS.lr}
    momentum ${TRAIN_DEFAULTS.momentum} Nesterov, weight decay ${TRAIN_DEFAULTS.weightDecay}, cosine schedule, random crop with padding ${TRAIN_DEFAULTS.randomCrop}.
  imagenet (--data DIR with DIR/train/<wnid>/*.JPEG and DIR/val/<wnid>/*.JPEG): model resnet18, 90 epochs,
    batch ${IMAGENET_BATCH_SIZE} (sized for a CPU machine; torchvision's recipe uses 256), lr 0.1 × batch / 256, SGD momentum 0.9
    without Nesterov, weight decay 1e-4, lr × 0.1 every 30 epochs; the loader does RandomResizedCrop(--image-size, 224)
    + horizontal flip (Resize + CenterCrop for evaluation), so --random-crop, --hflip and --pad-to do not apply.
    --limit-train counts images of train/ before the --validation share is held out; --limit-test counts val/.
The run's first log line shows the effective config.`;

const CAT_HELP = `
Defaults of options not given: the paper's fine-tuning setting, SGD lr ${CAT_DEFAULTS.lr} momentum ${CAT_DEFAULTS.momentum} without
Nesterov, weight decay ${CAT_DEFAULTS.weightDecay}, constant lr, ${CAT_DEFAULTS.epochs} epochs. Dataset, data settings, seed and batch size
come from the --init run, except on imagenet, where the batch is ${IMAGENET_BATCH_SIZE} (CPU-sized) unless --batch-size is given.
The run's first log line shows the effective config.`;

// The engine (libtorch) loads only when a command that trains runs, so `catkit codec …` and
// `--help` work without it.
const engine = async () => {
  const [run, report, progress] = await Promise.all([import('../../train/run.js'), import('../../report/index.js'), import('../../train/progress.js')]);
  return { ...run, ...report, ...progress };
};

/** The config saved in a run folder (its JSON only: no tensors, no engine). */
const savedConfig = (dir: string): RunConfig => readCheckpointMeta(dir).meta.config;

async function finishRun(config: RunConfig, o: Opts): Promise<void> {
  const outDir = o.out as string;
  if (o.resume) {
    if (!existsSync(path.join(outDir, 'checkpoint.json'))) throw new UserError(`--resume: no checkpoint in ${outDir}`);
    // The run's own config; only --epochs may extend it, and --workers (which does not change results) may differ.
    config = { ...savedConfig(outDir), ...pick(o, { epochs: 'epochs', workers: 'workers' }) };
  } else if (existsSync(path.join(outDir, 'checkpoint.json'))) {
    throw new UserError(`${outDir} already holds a run; pass --resume to continue it or choose another --out`);
  }
  const { runTraining } = await engine();
  const report = await runTraining(config, { outDir, resume: Boolean(o.resume), codedBatches: o.codedBatches as number | undefined });
  await printReport(report, o, outDir);
}

async function printReport(report: RunReport, o: Opts, dir: string): Promise<void> {
  const { formatComparison, formatLayers } = await engine();
  if (o.json) { process.stdout.write(JSON.stringify(report, null, 1) + '\n'); return; }
  if (report.layers.length) process.stdout.write(formatLayers(report) + '\n\n');
  process.stdout.write(formatComparison([{ label: path.basename(dir), report }]) + '\n');
  process.stdout.write(`report: ${path.join(dir, report.task === 'eval' ? 'eval-report.json' : 'report.json')}\n`);
}

export function registerTrainCommands(program: Command): void {
  addRunOptions(program.command('train').description('train a full-precision model'))
    .option('--model <name>', `model name (list them with \`catkit models\`; default ${TRAIN_DEFAULTS.model}, imagenet: resnet18)`)
    .option('--dataset <name>', `dataset: ${DATASET_NAMES.join(', ')}`, TRAIN_DEFAULTS.dataset)
    .option('--width <x>', 'width multiplier', float('--width', 0.01, 64))
    .option('--init <run>', 'start from the weights of this run folder (e.g. from `catkit import`); its model, width, dataset and data folder are used')
    .addHelpText('after', TRAIN_HELP)
    .action(async (o: Opts) => {
      const base = o.init !== undefined ? savedConfig(o.init as string) : null;
      const dataset = base ? base.dataset : o.dataset as string;
      checkDataOptions(o, dataset);
      const given = pick(o, { ...COMMON_KEYS, model: 'model', width: 'widthMultiplier' });
      const imagenet = isImageFolderDataset(dataset);
      const config: RunConfig = {
        ...TRAIN_DEFAULTS, dataset, ...(imagenet ? imagenetTrainDefaults(given.batchSize ?? IMAGENET_BATCH_SIZE) : {}), ...given,
        ...(base ? { model: base.model, widthMultiplier: base.widthMultiplier, data: given.data ?? base.data, init: o.init as string } : {}),
        nesterov: (o.nesterov as boolean | undefined) ?? (imagenet ? false : TRAIN_DEFAULTS.nesterov),
      };
      await finishRun(config, o);
    });

  addRunOptions(program.command('cat').description('fine-tune a trained model with compression-aware training'))
    .requiredOption('--init <run>', 'full-precision run folder, checkpoint.json or .safetensors weights to start from')
    .option('--act-bits <b>', 'activation bit width', int('--act-bits', 1, 16), CAT_DEFAULTS.actBits)
    .option('--weight-bits <b>', 'weight bit width (32: float weights)', int('--weight-bits', 1, 32), CAT_DEFAULTS.weightBits)
    .option('--lambda <x>', 'weight of the activation entropy term', float('--lambda', 0), 0)
    .option('--lambda-w <x>', 'weight of the weight entropy term', float('--lambda-w', 0), 0)
    .option('--method <name>', 'entropy | compression (L1/L2) | none', oneOf('--method', ['entropy', 'compression', 'none'] as const), 'entropy')
    .option('--gradual <epochs>', 'quantize one more layer every this many epochs (0: all at once)', int('--gradual', 0), 0)
    .option('--temperature <T>', 'soft-histogram temperature', float('--temperature', 0), 10)
    .option('--temperature-anneal <g>', 'multiply the temperature by g every epoch', float('--temperature-anneal', 0), 1)
    .option('--sample-random <k>', 'entropy sample: k random values of the whole tensor instead of strided positions', int('--sample-random', 0), 0)
    .option('--quantize-linear', 'also quantize Linear weights to --weight-bits')
    .option('--bn-recalibrate <n>', 're-estimate batch-norm statistics on n training batches after each epoch (0: off)', int('--bn-recalibrate', 0), 0)
    .option('--no-quant-edges', 'keep the last activation unquantized (reference --noQuantEdges)')
    .option('--clip-init <rule>', 'mean+3std | aciq-laplace | aciq-gauss', oneOf('--clip-init', ['mean+3std', 'aciq-laplace', 'aciq-gauss'] as const), 'mean+3std')
    .option('--range <mode>', 'quantization range: tensor (batch min/max) | clip | channel', oneOf('--range', ['tensor', 'clip', 'channel'] as const), 'tensor')
    .option('--sample-stride <n>', 'entropy sample: every n-th spatial position', int('--sample-stride', 1), 16)
    .option('--sample-images <n>', 'entropy sample: images per batch', int('--sample-images', 1), 1)
    .addHelpText('after', CAT_HELP)
    .action(async (o: Opts) => {
      const init = o.init as string;
      if (init.endsWith('.safetensors')) {
        throw new UserError('--init takes a run folder (from `catkit train` or `catkit import`), not a bare .safetensors file');
      }
      const base = savedConfig(init);
      if (base.task !== 'train') throw new UserError(`--init ${init} is a '${base.task}' run; start CAT from a full-precision 'catkit train' run`);
      checkDataOptions(o, base.dataset);
      const weightBits = o.weightBits as number;
      const config: RunConfig = {
        ...TRAIN_DEFAULTS, model: base.model, dataset: base.dataset, data: base.data, widthMultiplier: base.widthMultiplier, padTo: base.padTo, resize: base.resize ?? 0,
        randomCrop: base.randomCrop, hflip: base.hflip, validation: base.validation, seed: base.seed, batchSize: base.batchSize,
        imageSize: base.imageSize, workers: base.workers, badImages: base.badImages,
        // An imported run may carry the in-memory augmentation defaults; the image loader does its own.
        ...(isImageFolderDataset(base.dataset) ? { batchSize: IMAGENET_BATCH_SIZE, ...IN_MEMORY_OPTIONS_OFF } : {}),
        ...CAT_DEFAULTS, ...pick(o, COMMON_KEYS), nesterov: (o.nesterov as boolean | undefined) ?? CAT_DEFAULTS.nesterov ?? false,
        task: 'cat', init, actBits: o.actBits as number, weightBits: weightBits >= 32 ? undefined : weightBits,
        lambda: o.lambda as number, lambdaW: o.lambdaW as number, method: o.method as RunConfig['method'], gradual: o.gradual as number,
        temperature: o.temperature as number, temperatureAnneal: o.temperatureAnneal as number, sampleRandom: o.sampleRandom as number,
        quantizeLinear: Boolean(o.quantizeLinear), bnRecalibration: o.bnRecalibrate as number, noQuantEdges: o.quantEdges === false, clipInit: o.clipInit as RunConfig['clipInit'],
        range: o.range as RunConfig['range'], sampleStride: o.sampleStride as number, sampleImages: o.sampleImages as number,
      };
      await finishRun(config, o);
    });

  addThreadsOption(program.command('eval').description('measure accuracy and bits per value of a saved run'))
    .requiredOption('--checkpoint <run>', 'run folder or its checkpoint.json')
    .option('--coded-batches <n>', 'entropy-code the activations of the first n test batches (default: all)', int('--coded-batches', 1))
    .option('--data <dir>', 'read the run\'s dataset from this folder instead of the one it recorded')
    .option('--workers <n>', 'imagenet: image decoding threads per loader (default: the run\'s)', int('--workers', 0, 256))
    .option('--json', 'print the report as JSON on stdout')
    .action(async (o: Opts) => {
      const { runEvaluation, createProgress } = await engine();
      const report = await runEvaluation(o.checkpoint as string, {
        codedBatches: o.codedBatches as number | undefined, data: o.data as string | undefined, workers: o.workers as number | undefined, progress: createProgress(),
      });
      const dir = (o.checkpoint as string).endsWith('.json') ? path.dirname(o.checkpoint as string) : (o.checkpoint as string);
      await printReport(report, o, dir);
    });

  program.command('models').description('list the model names --model accepts').action(async () => {
    const { MODEL_NAMES } = await import('../../models/registry.js');
    process.stdout.write(MODEL_NAMES().join('\n') + '\n');
  });
}
