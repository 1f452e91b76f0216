// The text tasks BERT trains on, by name: the offline ones (fine_foods: sentiment, SST-2-shaped;
// brown_cola / brown_cola_fw: acceptability, CoLA-shaped, any or function-word corruptions; the _pairs
// variants hold each sentence both as written and corrupted) and GLUE-format folders (cola, sst2, mnli_m, mnli_mm,
// tsv). Each gives train/dev data, label names and its metric (MCC for acceptability, accuracy otherwise).
import { CatkitError } from '../../errors.js';
import { loadFineFoods } from '../../data/text/fine-foods.js';
import { brownAcceptability } from '../../data/text/acceptability.js';
import { loadBrown } from '../../data/text/brown.js';
import { loadGlue, loadTsv, type TextDataset } from '../../data/text/glue.js';
import type { TextTask } from './finetune.js';

export const TEXT_TASKS = ['fine_foods', 'brown_cola', 'brown_cola_fw', 'brown_cola_scramble', 'brown_cola_pairs', 'brown_cola_fw_pairs', 'brown_cola_initial', 'cola', 'sst2', 'mnli_m', 'mnli_mm', 'tsv'] as const;
export type TextTaskName = (typeof TEXT_TASKS)[number];

export interface TaskOptions {
  /** GLUE-format folder (cola, sst2, mnli_*, tsv). */
  data?: string;
  /** First N training examples only (seeded tasks stay deterministic). */
  trainLimit?: number;
  devLimit?: number;
  /** tsv: files inside --data and columns. */
  trainFile?: string;
  devFile?: string;
  textColumns?: string[];
  labelColumn?: string;
  header?: boolean;
}

const limit = (ds: TextDataset, n?: number): TextDataset => (n === undefined ? ds : { ...ds, examples: ds.examples.slice(0, n) });

function needData(name: string, o: TaskOptions): string {
  if (!o.data) throw new CatkitError('bad_option', `--task ${name} reads a GLUE-format folder: give --data DIR`);
  return o.data;
}

export function loadTextTask(name: TextTaskName, o: TaskOptions = {}): TextTask {
  let t: TextTask;
  switch (name) {
    case 'fine_foods': {
      const train = loadFineFoods('train'), dev = loadFineFoods('test');
      t = { name, labels: train.labels, metric: 'accuracy', train, dev };
      break;
    }
    case 'brown_cola': case 'brown_cola_fw': case 'brown_cola_scramble': case 'brown_cola_pairs': case 'brown_cola_fw_pairs': case 'brown_cola_initial': {
      // The dev split is fixed (1,000 sentences); --train-limit shortens the training set.
      const corruptions = ({ brown_cola: 'any', brown_cola_fw: 'function-word', brown_cola_scramble: 'scramble', brown_cola_pairs: 'any', brown_cola_fw_pairs: 'function-word', brown_cola_initial: 'initial' } as const)[name];
      const task = brownAcceptability(loadBrown(), { trainSize: o.trainLimit ?? 8000, devSize: o.devLimit ?? 1000, corruptions, pairs: name.endsWith('_pairs') });
      t = { name, labels: task.train.labels, metric: 'mcc', train: task.train, dev: task.dev };
      break;
    }
    case 'cola': case 'sst2': {
      const dir = needData(name, o);
      const train = loadGlue(name, dir, 'train');
      t = { name, labels: train.labels, metric: name === 'cola' ? 'mcc' : 'accuracy', train, dev: loadGlue(name, dir, 'dev') };
      break;
    }
    case 'mnli_m': case 'mnli_mm': {
      const dir = needData(name, o);
      const train = loadGlue('mnli', dir, 'train');
      t = { name, labels: train.labels, metric: 'accuracy', train, dev: loadGlue('mnli', dir, name === 'mnli_m' ? 'dev_matched' : 'dev_mismatched') };
      break;
    }
    case 'tsv': {
      const dir = needData(name, o);
      if (!o.textColumns || !o.labelColumn) throw new CatkitError('bad_option', '--task tsv needs --text-columns and --label-column');
      const cols = { textColumns: o.textColumns, labelColumn: o.labelColumn, header: o.header };
      const train = loadTsv(dir, o.trainFile ?? 'train.tsv', cols);
      const dev = loadTsv(dir, o.devFile ?? 'dev.tsv', { ...cols, labels: train.labels });
      t = { name, labels: train.labels, metric: 'accuracy', train, dev };
      break;
    }
    default: throw new CatkitError('bad_option', `unknown text task '${String(name)}' (${TEXT_TASKS.join(', ')})`);
  }
  return { ...t, train: limit(t.train, o.trainLimit), dev: limit(t.dev, o.devLimit) };
}
