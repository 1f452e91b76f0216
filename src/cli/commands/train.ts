// `catkit train`, `catkit cat`, `catkit eval` and `catkit models`: option declarations, grouped in
// --help with every default stated; the configs are built by app/ and the engine loads only when a
// command runs.
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CAT_DEFAULTS, CAT_RECIPES, CAT_RECIPE_NAMES, DETECTION_SETTINGS_DEFAULTS, IMAGENET_BATCH_SIZE, TASK_KINDS, TRAIN_DEFAULTS, parseSiteBits } from '../../train/config.js';
import { DETECTION_CAT_DEFAULTS, DETECTION_TRAIN_DEFAULTS } from '../../app/detection-config.js';
import type { DetectionFlags } from '../../app/detection-config.js';
import type { RunReport } from '../../report/index.js';
import { DATASET_NAMES } from '../../data/registry.js';
import { configureCat, configureTrain, type RunTarget } from '../../app/configure.js';
import type { CatFlags, TrainFlags } from '../../app/run-config.js';
import { addThreadsOption, float, int, oneOf } from '../options.js';
import { addLaunchOptions, launchIfRequested } from '../launch.js';
import type { RunConfig } from '../../train/config.js';
import { formatComparison, formatLayers } from '../tables.js';
import { parseSiteTarget } from '../../train/rate-controller.js';
import { CatkitError } from '../../errors.js';

type Task = 'train' | 'cat';
interface OutputFlags { json?: boolean; codedBatches?: number; noReportLine?: boolean; codeFraction?: number; codingWorkers?: number; codingBackend?: 'native' | 'typescript' }

const g = (x: number): string => String(Number(x.toPrecision(4)));
const R = CAT_RECIPES;
/** A cat default as the default recipe's value, then the other recipes' where they differ: "0.01 (paper 0.0001, reference 0.1)". */
function byRecipe(key: 'lr' | 'momentum' | 'weightDecay' | 'schedule' | 'sampleImages' | 'bnRecalibration'): string {
  const show = (v: number | string): string => (typeof v === 'number' ? g(v) : v);
  const base = show(R.default[key]);
  const others = CAT_RECIPE_NAMES.filter((r) => r !== 'default' && show(R[r][key]) !== base).map((r) => `${r} ${show(R[r][key])}`);
  return others.length ? `${base}; --recipe ${others.join(', ')}` : base;
}

/** Model and data options. */
export function addDataOptions(cmd: Command, task: Task): Command {
  const fromInit = task === 'cat' ? 'the --init run\'s' : '';
  return cmd.optionsGroup('Model and data:')
    .option('--data <dir>', `dataset folder (default: ${task === 'cat' ? 'the --init run\'s' : 'the installed/embedded copy'}; imagenet: required, DIR/train/<wnid>/*.JPEG + DIR/val/)`)
    .option('--batch-size <n>', `batch size (default: ${task === 'cat' ? `the --init run's; imagenet ${IMAGENET_BATCH_SIZE}` : `${TRAIN_DEFAULTS.batchSize}; imagenet ${IMAGENET_BATCH_SIZE}`})`, int('--batch-size', 1))
    .option('--seed <n>', `seed for splits, order, augmentation and initialisation (default: ${fromInit || TRAIN_DEFAULTS.seed})`, int('--seed', 0))
    .option('--random-crop <pad>', `random crop with this zero padding, 0: off (default: ${fromInit || TRAIN_DEFAULTS.randomCrop})`, int('--random-crop', 0, 16))
    .option('--hflip', `random horizontal flips (default: ${fromInit || 'off'})`)
    .option('--pad-to <size>', `zero-pad images to this square size, 0: off (default: ${fromInit || TRAIN_DEFAULTS.padTo})`, int('--pad-to', 0, 4096))
    .option('--resize <size>', `bilinear resize of every batch to this square size, e.g. 64 for ImageNet backbones on digits; 0: off (default: ${fromInit || 0})`, int('--resize', 0, 4096))
    .option('--validation <fraction>', `held-out share of the training split (default: ${fromInit || TRAIN_DEFAULTS.validation})`, float('--validation', 0, 1))
    .option('--limit-train <n>', 'use at most n training images, stratified (default: all)', int('--limit-train', 1))
    .option('--limit-test <n>', 'use at most n test images, stratified (default: all)', int('--limit-test', 1))
    .optionsGroup('Image folders only (--dataset imagenet):')
    .option('--image-size <n>', `side of the crops fed to the model (default: ${fromInit || TRAIN_DEFAULTS.imageSize})`, int('--image-size', 1, 4096))
    .option('--workers <n>', `image decoding threads per loader, 0: min(4, cores) (default: ${fromInit || TRAIN_DEFAULTS.workers})`, int('--workers', 0, 256))
    .option('--bad-images <policy>', `unreadable image files fail the run or are skipped: skip | fail (default: ${fromInit || TRAIN_DEFAULTS.badImages})`, oneOf('--bad-images', ['skip', 'fail'] as const));
}

/** Optimisation options. */
export function addOptimOptions(cmd: Command, task: Task): Command {
  cmd.optionsGroup('Optimisation:');
  if (task === 'cat') {
    cmd.option('--recipe <name>', `optimisation recipe the options below override: ${CAT_RECIPE_NAMES.join(' | ')} (default: default; see below)`, oneOf('--recipe', CAT_RECIPE_NAMES));
  }
  const t = TRAIN_DEFAULTS;
  const d = (train: string, cat: string): string => `(default: ${task === 'cat' ? cat : train})`;
  return cmd
    .option('--epochs <n>', `training epochs ${d(`${t.epochs}; imagenet 90`, String(CAT_DEFAULTS.epochs))}`, int('--epochs', 1))
    .option('--optimizer <name>', `sgd | adam | adamw ${d(t.optimizer, 'sgd')}`, oneOf('--optimizer', ['sgd', 'adam', 'adamw'] as const))
    .option('--lr <x>', `learning rate ${d(`${g(t.lr)}; imagenet 0.1 × batch / 256`, byRecipe('lr'))}`, float('--lr', 0))
    .option('--schedule <name>', `cosine | exponential | step | constant ${d(`${t.schedule}; imagenet step`, byRecipe('schedule'))}`, oneOf('--schedule', ['cosine', 'exponential', 'step', 'constant'] as const))
    .option('--gamma <x>', `exponential: total decay over the run; step: factor per step ${d(`${g(t.gamma)}; imagenet 0.1`, g(CAT_DEFAULTS.gamma))}`, float('--gamma', 0))
    .option('--step-size <n>', `step schedule period in epochs ${d(`${t.stepSize}; imagenet 30`, String(t.stepSize))}`, int('--step-size', 1))
    .option('--warmup <n>', `linear warm-up epochs ${d(String(t.warmupEpochs), String(t.warmupEpochs))}`, int('--warmup', 0))
    .option('--momentum <x>', `SGD momentum ${d(g(t.momentum), byRecipe('momentum'))}`, float('--momentum', 0, 1))
    .option('--nesterov', `Nesterov momentum ${d('on; imagenet off', 'reference recipe only')}`)
    .option('--no-nesterov', 'plain momentum instead of Nesterov')
    .option('--weight-decay <x>', `L2 weight decay ${d(`${g(t.weightDecay)}; imagenet 0.0001`, byRecipe('weightDecay'))}`, float('--weight-decay', 0));
}

/** --task and the detection options (train and cat); `cat` adds the CAT site choice. */
function addTaskOptions(cmd: Command, task: Task): Command {
  const fromInit = task === 'cat' ? "the --init run's" : '';
  cmd.optionsGroup('Task:')
    .option('--task <kind>', 'classification | detection (default: the --init run\'s; detection when --model is a detector or --data a VOCdevkit folder)', oneOf('--task', TASK_KINDS))
    .optionsGroup('Detection only (SSD on VOCdevkit-layout data; see README "Detection"):')
    .option('--train-sets <sets>', `VOC sets to train on, year-split joined by + (default: ${fromInit || DETECTION_SETTINGS_DEFAULTS.trainSets})`)
    .option('--test-sets <sets>', `VOC sets to evaluate on (default: ${fromInit || DETECTION_SETTINGS_DEFAULTS.testSets})`)
    .option('--num-classes <n>', `classes including background (default: ${fromInit || DETECTION_SETTINGS_DEFAULTS.numClasses})`, int('--num-classes', 2))
    .option('--augment <mode>', `training augmentation: ssd (photometric, zoom-out, IoU crop, flip) | light (photometric, flip) | none (default: ${fromInit || DETECTION_SETTINGS_DEFAULTS.augment})`, oneOf('--augment', ['ssd', 'light', 'none'] as const))
    .option('--warmup-iters <n>', `linear warm-up iterations from lr/3, then cosine per iteration (default: ${task === 'cat' ? 0 : DETECTION_SETTINGS_DEFAULTS.warmupIters})`, int('--warmup-iters', 0))
    .option('--area-metric', 'VOC2010+ area-under-curve AP instead of the VOC07 11-point AP');
  if (task === 'cat') {
    cmd.option('--sites <which>', 'activation sites: reference (the VGG base ReLUs of VGG SSDs, as CAT\'s SSD code; every ReLU/ReLU6 of SSDLite) | all (default: reference)', oneOf('--sites', ['reference', 'all'] as const));
  }
  return cmd;
}

/** A share in (0, 1]. */
const fraction = (name: string) => (v: string): number => {
  const f = float(name, 0, 1)(v);
  if (f === 0) throw new InvalidArgumentError(`${name} must be above 0 and at most 1, got '${v}'`);
  return f;
};

/** Run folder and output options. */
export function addRunOptions(cmd: Command): Command {
  return addLaunchOptions(addThreadsOption(cmd.optionsGroup('Run:'))
    .requiredOption('--out <dir>', 'run folder: checkpoints and report.json (refused if it holds a run, unless --resume or --force)')
    .option('--config <file>', 'run settings as JSON (schema/run-config.schema.json: the fields checkpoint.json records, or a checkpoint.json); options given here override it')
    .option('--resume', 'continue the run in --out from its last checkpoint (only --epochs and --workers may change)')
    .option('--force', 'replace a run already in --out (and clear the lock of a run that died); with --resume: only clear that lock and continue the run')
    .option('--coded-batches <n>', 'entropy-code the activations of the first n test batches (default: all)', int('--coded-batches', 1))
    .option('--code-fraction <f>', 'entropy-code this share of each coded batch\'s images, 0 < f ≤ 1; the report gives 95 % intervals (default: 1)', fraction('--code-fraction'))
    .option('--coding-workers <n>', 'threads that code feature maps while the next batch runs; 0 = main thread; same numbers (default: cores − 1)', int('--coding-workers', 0, 64))
    .addOption(new Option('--coding-backend <name>', "feature-map coders: the addon's (native) or src/codec's in worker threads (typescript); same numbers (default: native)").choices(['native', 'typescript']))
    .option('--json', 'print the report as JSON on stdout'));
}

/** --act-bits-at: each PATTERN=BITS parsed and collected in order. */
function collectSiteBits(v: string, list: { pattern: string; bits: number }[] | undefined): { pattern: string; bits: number }[] {
  try { return [...(list ?? []), parseSiteBits(v)]; } catch (e) { throw new InvalidArgumentError((e as Error).message); }
}

export function addCatOptions(cmd: Command): Command {
  const c = CAT_DEFAULTS, t = TRAIN_DEFAULTS;
  return cmd.optionsGroup('CAT:')
    .option('--act-bits <b>', `activation bit width (default: ${c.actBits})`, int('--act-bits', 1, 16))
    .option('--act-bits-at <glob=b>', "bits of the sites a dotted-name glob matches, e.g. 'layer1.*=6'; repeatable, later wins (default: none)", collectSiteBits)
    .option('--weight-bits <b>', `weight bit width, 32: float weights (default: ${c.weightBits})`, int('--weight-bits', 1, 32))
    .option('--lambda <x>', `weight of the activation entropy term (default: ${t.lambda})`, float('--lambda', 0))
    .option('--lambda-w <x>', `weight of the weight entropy term (default: ${t.lambdaW})`, float('--lambda-w', 0))
    .option('--method <name>', `entropy | compression (L1/L2) | none (default: ${t.method})`, oneOf('--method', ['entropy', 'compression', 'none'] as const))
    .option('--sample-images <n>', `entropy sample: images per batch (default: ${byRecipe('sampleImages')})`, int('--sample-images', 1))
    .option('--sample-stride <n>', `entropy sample: every n-th spatial position (default: ${t.sampleStride})`, int('--sample-stride', 1))
    .option('--sample-random <k>', `entropy sample: k random values of the whole tensor instead of strided positions, 0: off (default: ${t.sampleRandom})`, int('--sample-random', 0))
    .option('--bn-recalibrate <n>', `re-estimate batch-norm statistics on n training batches after each epoch, 0: off (default: ${byRecipe('bnRecalibration')})`, int('--bn-recalibrate', 0))
    .option('--freeze-bn <epoch>', 'hold batch-norm statistics fixed from this epoch on (1: the whole run, re-estimated once before it on --bn-recalibrate batches): training normalises as evaluation does (default: off, statistics follow the batches)', int('--freeze-bn', 1))
    .option('--temperature <T>', `soft-histogram temperature (default: ${c.temperature})`, float('--temperature', 0))
    .option('--temperature-anneal <g>', `multiply the temperature by g every epoch (default: ${t.temperatureAnneal})`, float('--temperature-anneal', 0))
    .option('--gradual <epochs>', `quantize one more layer every this many epochs, 0: all at once (default: ${t.gradual})`, int('--gradual', 0))
    .option('--quantize-linear', 'also quantize Linear weights to --weight-bits (default: convolutions only)')
    .option('--no-quant-edges', 'keep the last activation unquantized, as the reference\'s --noQuantEdges (default: all quantized)')
    .option('--clip-init <rule>', `mean+3std | aciq-laplace | aciq-gauss | max (the calibration maximum: clips nothing at the start; detection's SSDLite needs it) (default: ${t.clipInit}; detection ${DETECTION_CAT_DEFAULTS.clipInit})`, oneOf('--clip-init', ['mean+3std', 'aciq-laplace', 'aciq-gauss', 'max'] as const))
    .option('--calibration-batches <n>', `held-out training batches for the clip statistics (default: ${t.calibrationBatches}; detection ${DETECTION_CAT_DEFAULTS.calibrationBatches})`, int('--calibration-batches', 1))
    .option('--range <mode>', `quantization range: tensor (batch min/max) | clip | channel (default: ${t.range})`, oneOf('--range', ['tensor', 'clip', 'channel'] as const))
    .optionsGroup('Rate target (λ is found during training):')
    .option('--target-bits <B>', 'target activation bits/value (entropy, or --target-metric); --lambda then applies only to sites outside every target (default: none, λ fixed)', float('--target-bits', 0))
    .option('--target-bits-at <pattern=B>', 'per-site target by dotted-name glob, e.g. \'layer1.*=1.5\'; repeatable, first match wins, other sites follow --target-bits (default: none)',
      (v: string, prev: { pattern: string; bits: number }[] = []) => {
        try { return [...prev, parseSiteTarget(v)]; } catch (e) { throw new InvalidArgumentError((e as Error).message); }
      })
    .option('--target-metric <m>', 'what the target measures: entropy | huffman | rans | zerorun, the last three real coded sizes (default: entropy)', oneOf('--target-metric', ['entropy', 'huffman', 'rans', 'zerorun'] as const))
    .option('--target-tolerance <bits>', 'a target counts as reached within ± this (default: 0.1)', float('--target-tolerance', 0))
    .option('--target-measure-every <n>', 'count codes and update λ on every n-th step only (the controller\'s cost divided by n) (default: 1)', int('--target-measure-every', 1));
}

const TRAIN_HELP = `
imagenet (--data DIR with DIR/train/<wnid>/*.JPEG and DIR/val/<wnid>/*.JPEG) follows torchvision's recipe
with the lr scaled to the batch: model resnet18, 90 epochs, batch ${IMAGENET_BATCH_SIZE} (sized for a CPU machine), lr 0.1 × batch / 256,
SGD momentum 0.9 without Nesterov, weight decay 1e-4, lr × 0.1 every 30 epochs; its loader does
RandomResizedCrop(--image-size) + flip, so --random-crop, --hflip, --pad-to and --resize do not apply.
--limit-train counts images of train/ before the --validation share is held out; --limit-test counts val/.
Detection (--task detection, implied by a detector --model or a VOCdevkit --data; see \`catkit models\`): model
${DETECTION_TRAIN_DEFAULTS.model} at its native size (--image-size changes it), batch ${DETECTION_TRAIN_DEFAULTS.batchSize}, ${DETECTION_TRAIN_DEFAULTS.epochs} epochs, SGD momentum ${DETECTION_TRAIN_DEFAULTS.momentum},
lr ${DETECTION_TRAIN_DEFAULTS.lr}, weight decay ${DETECTION_TRAIN_DEFAULTS.weightDecay}, warm-up ${DETECTION_SETTINGS_DEFAULTS.warmupIters} iterations then cosine per iteration; --limit-train/--limit-test count VOC images.
Precedence: options > --config file > defaults. The run's first log line shows the effective config.`;

const recipeLine = (r: keyof typeof CAT_RECIPES): string => {
  const x = CAT_RECIPES[r];
  const schedule = x.schedule === 'exponential' ? `exponential decay to ${g(x.gamma * 100)} % over the run` : x.schedule;
  return `  ${r.padEnd(9)} SGD lr ${g(x.lr)}${x.nesterov ? ' Nesterov' : ''}, momentum ${g(x.momentum)}, weight decay ${g(x.weightDecay)}, ${schedule}, `
    + `T ${x.temperature}, entropy sample of ${x.sampleImages} image${x.sampleImages > 1 ? 's' : ''}, BN re-estimation ${x.bnRecalibration ? `on ${x.bnRecalibration} batches` : 'off'}`;
};

const CAT_HELP = `
Recipes (--recipe; any option above overrides its value):
${CAT_RECIPE_NAMES.map(recipeLine).join('\n')}
  default lowers the entropy within a few epochs on small data (the λ sweep, scripts/lambda-sweep.sh);
  paper is the seed's ImageNet fine-tuning value; reference is the reference code's training setting.
Model, dataset, data settings, seed and batch size come from the --init run (imagenet: batch ${IMAGENET_BATCH_SIZE} unless given).
Detection (--init a detection run): SGD lr ${DETECTION_CAT_DEFAULTS.lr}, momentum ${DETECTION_CAT_DEFAULTS.momentum}, weight decay ${DETECTION_CAT_DEFAULTS.weightDecay}, ${DETECTION_CAT_DEFAULTS.epochs} epochs, ${DETECTION_CAT_DEFAULTS.actBits}-bit activations,
${DETECTION_CAT_DEFAULTS.weightBits}-bit conv weights, clips from the calibration maximum, loss MultiBox + λ·Σ_l H_l (a plain sum over the sites, as CAT's SSD code); --recipe does not apply.
Precedence: options > --config file > recipe > the --init run > defaults. The run's first log line shows the effective config.`;

// The engine (libtorch) loads only when a command that trains runs, so `catkit codec …` and
// `--help` work without it.
const engine = () => import('../../app/run.js');

function printReport(report: RunReport, o: OutputFlags, dir: string): void {
  if (o.json) { process.stdout.write(JSON.stringify(report, null, 1) + '\n'); return; }
  if (report.layers.length) process.stdout.write(formatLayers(report) + '\n\n');
  process.stdout.write(formatComparison([{ label: path.basename(dir), report }]) + '\n');
  if (!o.noReportLine) process.stdout.write(`report: ${path.join(dir, report.task === 'eval' ? 'eval-report.json' : 'report.json')}\n`);
}

/** Trains (as one rank when started by a data-parallel launcher) and prints the report from the main rank. */
async function trainAndReport(config: RunConfig, o: RunTarget & OutputFlags): Promise<void> {
  const { runTrainingFromEnv } = await engine();
  const { createProgress } = await import('../progress.js');
  const { report, isMain } = await runTrainingFromEnv(config, { outDir: o.out, resume: o.resume, force: o.force, codedBatches: o.codedBatches, coding: { codeFraction: o.codeFraction, codingWorkers: o.codingWorkers, codingBackend: o.codingBackend }, progress: createProgress() });
  if (isMain) printReport(report, o, o.out);
}

export function registerTrainCommands(program: Command): void {
  const train = program.command('train').description('train a full-precision model');
  addDataOptions(train.optionsGroup('Model and data:')
    .option('--model <name>', `model name, list them with \`catkit models\` (default: ${TRAIN_DEFAULTS.model}; imagenet resnet18)`)
    .option('--dataset <name>', `dataset: ${DATASET_NAMES.join(', ')} (default: ${TRAIN_DEFAULTS.dataset})`)
    .option('--width <x>', `width multiplier (default: ${TRAIN_DEFAULTS.widthMultiplier})`, float('--width', 0.01, 64))
    .option('--init <run>', 'start from the weights of this run folder (e.g. from `catkit import`); its model, width, dataset and data folder are used. Detection: also a .safetensors file (torchvision names)'), 'train');
  addOptimOptions(train, 'train');
  addTaskOptions(train, 'train');
  addRunOptions(train)
    .addHelpText('after', TRAIN_HELP)
    .action(async (o: TrainFlags & DetectionFlags & RunTarget & OutputFlags, cmd: Command) => {
      const config = configureTrain(o);
      if (await launchIfRequested(o, cmd)) return; // this process started the workers
      await trainAndReport(config, o);
    });

  const cat = program.command('cat').description('fine-tune a trained model with compression-aware training');
  addDataOptions(cat.optionsGroup('Model and data:')
    .option('--init <run>', 'full-precision run folder to start from (from `catkit train` or `catkit import`); required unless the --config file names it'), 'cat');
  addOptimOptions(cat, 'cat');
  addCatOptions(cat);
  addTaskOptions(cat, 'cat');
  addRunOptions(cat)
    .addHelpText('after', CAT_HELP)
    .action(async (o: CatFlags & DetectionFlags & RunTarget & OutputFlags, cmd: Command) => {
      const config = configureCat(o);
      if (await launchIfRequested(o, cmd)) return; // this process started the workers
      await trainAndReport(config, o);
    });

  addLaunchOptions(addThreadsOption(program.command('eval').description('measure accuracy and bits per value of a saved run'))
    .option('--checkpoint <run>', 'run folder or its checkpoint.json')
    .option('--model-file <file>', 'a .catk model file from `catkit export` (evaluated on the test split of the run it came from)')
    .option('--coded-batches <n>', 'entropy-code the activations of the first n test batches (default: all)', int('--coded-batches', 1))
    .option('--code-fraction <f>', 'entropy-code this share of each coded batch\'s images, 0 < f ≤ 1; the report gives 95 % intervals (default: 1)', fraction('--code-fraction'))
    .option('--coding-workers <n>', 'threads that code feature maps while the next batch runs; 0 = main thread; same numbers (default: cores − 1)', int('--coding-workers', 0, 64))
    .addOption(new Option('--coding-backend <name>', "feature-map coders: the addon's (native) or src/codec's in worker threads (typescript); same numbers (default: native)").choices(['native', 'typescript']))
    .option('--data <dir>', 'read the run\'s dataset from this folder instead of the one it recorded (default: the recorded one)')
    .option('--workers <n>', 'imagenet, detection: image decoding threads per loader (default: the run\'s)', int('--workers', 0, 256))
    .option('--test-sets <sets>', 'detection: VOC sets to evaluate on, e.g. 2007-test (default: the run\'s)')
    .option('--json', 'print the report as JSON on stdout'))
    .action(async (o: { checkpoint?: string; modelFile?: string; codedBatches?: number; codeFraction?: number; codingWorkers?: number; codingBackend?: 'native' | 'typescript'; data?: string; workers?: number; testSets?: string; json?: boolean }, cmd: Command) => {
      if ((o.checkpoint === undefined) === (o.modelFile === undefined)) throw new CatkitError('bad_option', 'eval needs exactly one of --checkpoint RUN and --model-file FILE');
      if (o.modelFile !== undefined) {
        const { evaluateModelFile } = await import('../../app/export/model-file.js');
        printReport(await evaluateModelFile(o.modelFile, { codedBatches: o.codedBatches, data: o.data }), { ...o, noReportLine: true }, o.modelFile);
        return;
      }
      if (await launchIfRequested(o, cmd)) return; // this process started the workers
      const { runEvaluation } = await engine();
      const { createProgress } = await import('../progress.js');
      const { initFromEnv } = await import('../../distributed/index.js');
      const dist = await initFromEnv();
      const main = !dist || dist.isMain;
      const checkpoint = o.checkpoint!;
      const report = await runEvaluation(checkpoint, {
        codedBatches: o.codedBatches, coding: { codeFraction: o.codeFraction, codingWorkers: o.codingWorkers, codingBackend: o.codingBackend }, data: o.data, workers: o.workers, testSets: o.testSets, progress: createProgress({ quiet: !main }), dist: dist ?? undefined,
      });
      if (main) printReport(report, o, checkpoint.endsWith('.json') ? path.dirname(checkpoint) : checkpoint);
      dist?.group.destroy();
    });

  program.command('models').description('list the model names --model accepts (detectors marked; they imply --task detection)').action(async () => {
    const { MODEL_NAMES } = await import('../../models/registry.js');
    const { DETECTOR_MODEL_NAMES } = await import('../../models/detection/names.js');
    process.stdout.write([...MODEL_NAMES(), ...DETECTOR_MODEL_NAMES.map((n) => `${n}  (detection)`)].join('\n') + '\n');
  });
}
