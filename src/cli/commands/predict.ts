// `catkit predict` and `catkit import --from torch|tfjs|hf`: option parsing only; the work (and the
// engine) loads when the command runs, see app/import.ts and app/import-hf.ts.
import type { Command } from 'commander';
import { DATASET_NAMES } from '../../data/registry.js';
import { addThreadsOption, float, int, oneOf } from '../options.js';
import type { ImportOpts, ModelOpts } from '../../app/import.js';

const addModelOptions = (cmd: Command): Command => addThreadsOption(cmd)
  .requiredOption('--model <name>', 'model name (list them with `catkit models`)')
  .requiredOption('--weights <file>', 'torch: state dict as .safetensors with torchvision/PyTorch names; tfjs: model.json, its folder, or nsfwjs:mobilenet_v2; hf: a folder with config.json + model.safetensors')
  .option('--num-classes <n>', 'classes (default: read off the classifier weights; tfjs: another count replaces the dense head)', int('--num-classes', 1))
  .option('--in-channels <n>', 'input channels (default: from the stem weights; tfjs: 1 sums an RGB stem for grey input)', int('--in-channels', 1))
  .option('--width <x>', 'width multiplier the weights were trained with (mobilenet_v2)', float('--width', 0.01, 64));

/** Registers `predict` and `import`. */
export function registerPredictCommand(program: Command): void {
  addModelOptions(program.command('predict').description('run imported weights once (eval mode) on the tensor `input` of a safetensors file'))
    .requiredOption('--input <file>', 'safetensors file holding a float tensor `input` [N, C, H, W] (already normalized)')
    .requiredOption('--output <file>', 'safetensors file to write; holds the logits as tensor `output`')
    .action(async (o: ModelOpts & { input: string; output: string }) => {
      const { predictAction } = await import('../../app/import.js');
      process.stdout.write(predictAction(o) + '\n');
    });

  addModelOptions(program.command('import').description('turn PyTorch, TensorFlow.js or Hugging Face weights into a catkit run folder for `catkit train|cat --init` and `catkit eval`'))
    .requiredOption('--from <format>', 'torch (a PyTorch state dict saved as safetensors) | tfjs (a Keras MobileNetV2 layers model, into --model mobilenet_v2_keras) | hf (a Hugging Face folder: config.json + model.safetensors, --model bert)', oneOf('--from', ['torch', 'tfjs', 'hf'] as const))
    .option('--head <head>', 'hf: base | classification | mlm (default: from config.json architectures)', oneOf('--head', ['base', 'classification', 'mlm'] as const))
    .requiredOption('--out <dir>', 'run folder to create')
    .option('--dataset <name>', `dataset recorded in the run (any name; \`cat\` and \`eval\` need one catkit loads: ${DATASET_NAMES.join(', ')})`, 'imagenet')
    .option('--data <dir>', 'dataset folder recorded in the run')
    .option('--force', 'replace a run already in --out')
    .action(async (o: ImportOpts) => {
      if (o.from === 'hf') {
        const { importHubAction } = await import('../../app/import-hf.js');
        process.stdout.write(importHubAction(o) + '\n');
        return;
      }
      const { importAction } = await import('../../app/import.js');
      process.stdout.write(importAction(o) + '\n');
    });
}
