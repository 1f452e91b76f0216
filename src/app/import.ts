// `catkit predict` (one eval-mode forward pass of imported weights on a saved tensor) and
// `catkit import --from torch|tfjs` (PyTorch/torchvision or TensorFlow.js weights → a catkit run folder
// that `catkit cat --init` and `catkit eval` accept). Both build the model from the weights' shapes.
import { existsSync } from 'node:fs';
import { refuseOutputIsInput } from '../io/same-path.js';
import { acquireRunLock } from '../io/run-lock.js';
import path from 'node:path';
import { dispose, noGrad, tidy, isFloating, type Tensor } from '../tensor/index.js';
import { loadSafetensors, saveSafetensors } from '../nn/index.js';
import { formatImport, importTorchModel } from '../models/import.js';
import { importKerasMobileNetV2 } from '../models/keras-mobilenetv2.js';
import { saveCheckpoint, CHECKPOINT_JSON } from '../train/checkpoint.js';
import { buildImportConfig } from './run-config.js';
import { DATASET_NAMES, isImageFolderDataset } from '../data/registry.js';
import { CatkitError } from '../errors.js';

const KERAS_MODEL = 'mobilenet_v2_keras';

export interface ModelOpts { model: string; weights: string; numClasses?: number; width?: number; inChannels?: number }
export type ImportOpts = ModelOpts & { from: 'torch' | 'tfjs' | 'hf'; out: string; dataset: string; data?: string; head?: 'base' | 'classification' | 'mlm'; force?: boolean };

function requireFile(file: string, flag: string): void {
  if (!existsSync(file)) throw new CatkitError('no_such_file', `${flag} ${file}: no such file`);
}

function importFor(o: ModelOpts): ReturnType<typeof importTorchModel> {
  requireFile(o.weights, '--weights');
  return importTorchModel(o.model, o.weights, { numClasses: o.numClasses, widthMultiplier: o.width, inChannels: o.inChannels });
}

/** Keras MobileNetV2 from tfjs artifacts, as the registry model that rebuilds it in `cat`/`eval`. */
function importTfjs(o: ImportOpts): ReturnType<typeof importTorchModel> {
  if (o.model !== KERAS_MODEL) throw new CatkitError('bad_input', `--from tfjs imports Keras MobileNetV2 into --model ${KERAS_MODEL}, got --model ${o.model}`);
  if (o.width !== undefined) throw new CatkitError('bad_input', '--from tfjs reads the width multiplier off the weights; drop --width');
  const { model, architecture: a, result } = importKerasMobileNetV2(o.weights, { numClasses: o.numClasses, inChannels: o.inChannels });
  if (a.hidden.length || a.padding !== 'keras' || a.bnEps !== 1e-3) {
    model.dispose();
    const what = a.hidden.length ? `a dense head (${a.hidden.join(', ')}) that catkit runs cannot rebuild; pass --num-classes N for a new Linear classifier`
      : `padding '${a.padding}' / BN eps ${a.bnEps}, which ${KERAS_MODEL} does not use`;
    throw new CatkitError('bad_input', `${o.weights}: the Keras model has ${what}`);
  }
  return { model, spec: { inChannels: a.inChannels, numClasses: a.numClasses, widthMultiplier: a.widthMultiplier }, result };
}

/** Reads the tensor named `input` as float32 [N, C, H, W]. The caller disposes it. */
function readInput(file: string): Tensor {
  requireFile(file, '--input');
  const { tensors } = loadSafetensors(file);
  const x = tensors.get('input');
  const names = [...tensors.keys()];
  tensors.delete('input');
  dispose([...tensors.values()]);
  if (!x) throw new CatkitError('bad_input', `--input ${file} has no tensor named 'input' (it holds: ${names.join(', ') || 'nothing'})`);
  if (!isFloating(x.dtype) || x.rank !== 4) {
    const msg = `--input ${file}: tensor 'input' must be floating point [N, C, H, W], got ${x.dtype} [${x.shape.join(', ')}]`;
    x.dispose();
    throw new CatkitError('bad_input', msg);
  }
  if (x.dtype === 'float32') return x;
  const y = x.to('float32'); // the model's dtype; float16/float64 inputs are converted, not refused
  x.dispose();
  return y;
}

export function predictAction(o: ModelOpts & { input: string; output: string }): string {
  refuseOutputIsInput([['--output', o.output]], [['--weights', o.weights], ['--input', o.input]]);
  const { model, spec, result } = importFor(o);
  try {
    const x = readInput(o.input);
    try {
      if (x.shape[1] !== spec.inChannels) {
        throw new CatkitError('bad_input', `--input ${o.input}: tensor 'input' has ${x.shape[1]} channels, the weights expect ${spec.inChannels}`);
      }
      model.eval();
      noGrad(() => tidy(() => {
        saveSafetensors(o.output, new Map([['output', model.forward(x)]]), { model: o.model, weights: path.basename(o.weights) });
      }));
      return `${formatImport(result)}\npredict: ${o.model} on input [${x.shape.join(', ')}] → 'output' in ${o.output}`;
    } finally {
      x.dispose();
    }
  } finally {
    model.dispose();
  }
}

export function importAction(o: ImportOpts): string {
  refuseOutputIsInput([['--out', o.out]], [['--weights', o.weights]]);
  if (existsSync(path.join(o.out, CHECKPOINT_JSON)) && !o.force) {
    throw new CatkitError('run_exists', `${o.out} already holds a run`, { hint: 'choose another --out, or pass --force to replace it' });
  }
  const { model, spec, result } = o.from === 'tfjs' ? importTfjs(o) : importFor(o);
  const lock = acquireRunLock(o.out, { force: o.force });
  try {
    // A float run that trained 0 epochs here: `cat --init` rebuilds the model from model/dataset/width,
    // so the dataset must be one catkit loads, with spec.inChannels channels and spec.numClasses classes.
    const config = buildImportConfig({ model: o.model, dataset: o.dataset, data: o.data, widthMultiplier: spec.widthMultiplier });
    tidy(() => saveCheckpoint(o.out, {
      epoch: 0, config, schedule: null, history: [],
      extra: { importedFrom: o.weights.startsWith('nsfwjs:') ? o.weights : path.resolve(o.weights), importedFormat: o.from, inChannels: spec.inChannels, numClasses: spec.numClasses },
    }, model.stateDict(), null));
    const note = !(DATASET_NAMES as readonly string[]).includes(o.dataset)
      ? `\nnote: '${o.dataset}' is not a dataset catkit loads (${DATASET_NAMES.join(', ')}); \`catkit cat --init ${o.out}\` needs one`
      : isImageFolderDataset(o.dataset) && o.data === undefined
        ? `\nnote: no --data recorded; give \`catkit cat --init ${o.out}\` (and \`catkit eval\`) --data DIR, the ${o.dataset} folder`
        : '';
    return `${formatImport(result)}\nimport: ${o.model} (${spec.inChannels} → ${spec.numClasses} classes) → ${path.join(o.out, CHECKPOINT_JSON)}${note}`;
  } finally {
    lock.release();
    model.dispose();
  }
}

