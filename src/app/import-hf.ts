// `catkit import --from hf --model bert --weights DIR --out RUN`: a Hugging Face folder
// (config.json + model.safetensors) → a catkit run folder holding the weights as a checkpoint and
// the model's config.json (what the BERT tasks rebuild the model from).
import { existsSync } from 'node:fs';
import { refuseOutputIsInput } from '../io/same-path.js';
import { acquireRunLock } from '../io/run-lock.js';
import path from 'node:path';
import { tidy } from '../tensor/index.js';
import { formatBertLoad, hubConfigJson, loadBertFromHub } from '../models/bert/index.js';
import { saveCheckpoint, CHECKPOINT_JSON } from '../train/checkpoint.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { buildImportConfig } from './run-config.js';
import { CatkitError } from '../errors.js';
import type { Json } from '../optim/index.js';
import type { ImportOpts } from './import.js';

export function importHubAction(o: ImportOpts): string {
  if (o.model !== 'bert') throw new CatkitError('bad_option', `--from hf imports --model bert, got --model ${o.model}`);
  for (const [flag, v] of [['--num-classes', o.numClasses], ['--in-channels', o.inChannels], ['--width', o.width]] as const) {
    if (v !== undefined) throw new CatkitError('bad_option', `--from hf reads the model's shape from config.json; drop ${flag}`);
  }
  if (!existsSync(o.weights)) throw new CatkitError('no_such_file', `--weights ${o.weights}: no such folder`);
  // The run folder gets its own config.json: it must not be the Hugging Face folder being read.
  refuseOutputIsInput([['--out', o.out]], [['--weights', o.weights]]);
  if (existsSync(path.join(o.out, CHECKPOINT_JSON)) && !o.force) {
    throw new CatkitError('run_exists', `${o.out} already holds a run`, { hint: 'choose another --out, or pass --force to replace it' });
  }
  const { model, head, report } = loadBertFromHub(o.weights, { head: o.head });
  const lock = acquireRunLock(o.out, { force: o.force });
  try {
    const config = buildImportConfig({ model: 'bert', dataset: o.dataset, data: o.data });
    const hub = hubConfigJson(model);
    writeFileAtomic(path.join(o.out, 'config.json'), JSON.stringify(hub, null, 2));
    tidy(() => saveCheckpoint(o.out, {
      epoch: 0, config, schedule: null, history: [],
      extra: { importedFrom: path.resolve(o.weights), importedFormat: 'hf', head, bertConfig: hub as Json },
    }, model.stateDict(), null));
    return `${formatBertLoad(report)}\nimport: bert (${head}, ${model.config.numHiddenLayers} layers, hidden ${model.config.hiddenSize}) → ${path.join(o.out, CHECKPOINT_JSON)}`;
  } finally {
    lock.release();
    model.dispose();
  }
}
