// `catkit import --from hf --model bert --weights DIR --out RUN`: a Hugging Face folder
// (config.json + model.safetensors) → a catkit run folder holding the weights as a checkpoint and
// the model's config.json (what the BERT tasks rebuild the model from).
import { existsSync, mkdirSync } from 'node:fs';
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
  if (existsSync(path.join(o.out, CHECKPOINT_JSON))) throw new CatkitError('run_exists', `${o.out} already holds a run; choose another --out`);
  const { model, head, report } = loadBertFromHub(o.weights, { head: o.head });
  try {
    mkdirSync(o.out, { recursive: true });
    const config = buildImportConfig({ model: 'bert', dataset: o.dataset, data: o.data });
    const hub = hubConfigJson(model);
    writeFileAtomic(path.join(o.out, 'config.json'), JSON.stringify(hub, null, 2));
    tidy(() => saveCheckpoint(o.out, {
      epoch: 0, config, schedule: null, history: [],
      extra: { importedFrom: path.resolve(o.weights), importedFormat: 'hf', head, bertConfig: hub as Json },
    }, model.stateDict(), null));
    return `${formatBertLoad(report)}\nimport: bert (${head}, ${model.config.numHiddenLayers} layers, hidden ${model.config.hiddenSize}) → ${path.join(o.out, CHECKPOINT_JSON)}`;
  } finally {
    model.dispose();
  }
}
