// `catkit detect train | cat | eval`: SSD detectors on VOCdevkit-layout data (real VOC or
// `catkit data make-voc-synthetic`), with mAP and bits/value in report.json.
import type { Command } from 'commander';
import { addThreadsOption, float, int, oneOf } from '../options.js';

type Opts = Record<string, unknown>;

function addDetectionOptions(cmd: Command): Command {
  return addThreadsOption(cmd)
    .requiredOption('--data <dir>', 'VOCdevkit folder (holding VOC2007/, VOC2012/)')
    .requiredOption('--out <dir>', 'new run folder: model.safetensors and report.json')
    .option('--model <name>', 'ssdlite320_mobilenet_v3_large | ssd300_vgg16 | ssd512_vgg16', 'ssdlite320_mobilenet_v3_large')
    .option('--train-sets <sets>', 'training sets, year-split joined by +', '2007-trainval+2012-trainval')
    .option('--test-sets <sets>', 'evaluation sets', '2007-test')
    .option('--num-classes <n>', 'classes including background', int('--num-classes', 2), 21)
    .option('--image-size <n>', "model input side (default: the model's: 300, 320 or 512)", int('--image-size', 32, 4096))
    .option('--epochs <n>', 'training epochs', int('--epochs', 0), 10)
    .option('--batch-size <n>', 'batch size', int('--batch-size', 1), 8)
    .option('--optimizer <name>', 'sgd (momentum 0.9, the reference) | adamw', oneOf('--optimizer', ['sgd', 'adamw'] as const), 'sgd')
    .option('--lr <x>', 'peak learning rate (warm-up, then cosine to 0)', float('--lr', 0), 0.01)
    .option('--weight-decay <x>', 'L2 weight decay (not on BN/biases)', float('--weight-decay', 0), 5e-4)
    .option('--warmup-iters <n>', 'linear warm-up iterations from lr/3', int('--warmup-iters', 0), 100)
    .option('--seed <n>', 'order and augmentation seed', int('--seed', 0), 0)
    .option('--workers <n>', 'image decoding threads', int('--workers', 1, 256), 2)
    .option('--bad-images <policy>', 'fail | skip images with bad annotations or undecodable files', oneOf('--bad-images', ['fail', 'skip'] as const), 'fail')
    .option('--limit-train <n>', 'use the first n training images', int('--limit-train', 1))
    .option('--limit-test <n>', 'use the first n test images', int('--limit-test', 1))
    .option('--init <run>', 'start from this run folder (or .safetensors) weights')
    .option('--area-metric', 'VOC2010+ area-under-curve AP instead of VOC07 11-point');
}

async function run(o: Opts, cat: boolean): Promise<void> {
  const { runDetection, DETECTION_DEFAULTS } = await import('../../train/detection.js');
  const report = await runDetection({
    ...DETECTION_DEFAULTS,
    model: o.model as string, data: o.data as string, trainSets: o.trainSets as string, testSets: o.testSets as string,
    numClasses: o.numClasses as number, imageSize: (o.imageSize as number | undefined) ?? null, epochs: o.epochs as number, batchSize: o.batchSize as number,
    optimizer: o.optimizer as 'sgd' | 'adamw', lr: o.lr as number, weightDecay: o.weightDecay as number, warmupIters: o.warmupIters as number, seed: o.seed as number, workers: o.workers as number,
    badImages: o.badImages as 'fail' | 'skip', limitTrain: (o.limitTrain as number | undefined) ?? null, limitTest: (o.limitTest as number | undefined) ?? null,
    init: (o.init as string | undefined) ?? null, use07Metric: !o.areaMetric,
    cat: cat ? { actBits: o.actBits as number, weightBits: o.weightBits as number, lambda: o.lambda as number, sites: o.sites as 'reference' | 'all', calibrationBatches: o.calibrationBatches as number } : null,
  }, { outDir: o.out as string });
  const e = report.evaluation;
  process.stdout.write(`mAP ${(100 * e.map).toFixed(2)}${e.bitsPerValue ? `  bits/value ${e.bitsPerValue.entropy.toFixed(3)} (entropy) ${e.bitsPerValue.huffman.toFixed(3)} (Huffman) ${e.bitsPerValue.rans.toFixed(3)} (rANS)` : ''}  → ${o.out}/report.json\n`);
}

export function registerDetectionCommands(program: Command): void {
  const det = program.command('detect').description('SSD detection on VOCdevkit-layout data: train, CAT fine-tune, evaluate (VOC mAP + bits/value)');
  addDetectionOptions(det.command('train').description('train a detector in full precision')).action((o: Opts) => run(o, false));
  addDetectionOptions(det.command('cat').description('CAT fine-tuning: quantized activation sites (learned clips, mean+3σ init), 8-bit weights, loss + λ·Σ site entropies'))
    .option('--act-bits <b>', 'activation bits', int('--act-bits', 1, 16), 6)
    .option('--weight-bits <b>', 'weight bits of every conv', int('--weight-bits', 2, 16), 8)
    .option('--lambda <x>', 'weight of the summed per-site soft entropies (reference 0.08)', float('--lambda', 0), 0)
    .option('--sites <which>', 'reference (VGG base ReLUs for VGG SSDs; every ReLU/ReLU6 otherwise) | all', oneOf('--sites', ['reference', 'all'] as const), 'reference')
    .option('--calibration-batches <n>', 'training batches for the clip statistics', int('--calibration-batches', 1), 8)
    .action((o: Opts) => run(o, true));
  addThreadsOption(det.command('eval').description('re-evaluate a detection run (mAP, bits/value) on its test sets or others'))
    .argument('<run>', 'run folder')
    .option('--data <dir>', 'VOCdevkit folder (default: the run\'s)')
    .option('--test-sets <sets>', 'evaluation sets (default: the run\'s)')
    .option('--limit-test <n>', 'first n test images', int('--limit-test', 1))
    .option('--json', 'print the evaluation as JSON')
    .action(async (runDir: string, o: Opts) => {
      const { evaluateDetectionRun } = await import('../../train/detection.js');
      const e = await evaluateDetectionRun(runDir, { data: o.data as string | undefined, testSets: o.testSets as string | undefined, limitTest: o.limitTest as number | undefined });
      if (o.json) { process.stdout.write(`${JSON.stringify(e)}\n`); return; }
      process.stdout.write(`mAP ${(100 * e.map).toFixed(2)} on ${e.images} images${e.bitsPerValue ? `; bits/value ${e.bitsPerValue.entropy.toFixed(3)} (entropy), ${e.bitsPerValue.huffman.toFixed(3)} (Huffman)` : ''}\n`);
      for (const c of e.perClass) if (c.ap !== null) process.stdout.write(`  class ${c.label}: AP ${(100 * c.ap).toFixed(2)} (${c.positives} objects)\n`);
    });
}
