// A small trained CAT run in a temp folder (ResNet-8 at half width on a few hundred digits), for the
// export / ONNX / runtime tests. Training takes a few seconds on one thread.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TRAIN_DEFAULTS, CAT_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { runTraining } from '../../src/app/run.js';
import { silentProgress } from '../../src/train/progress.js';

export interface CatRunFixture { root: string; fp: string; cat: string }

export async function makeCatRun(o: Partial<RunConfig> = {}): Promise<CatRunFixture> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'catkit-export-'));
  const progress = silentProgress();
  const fp: RunConfig = { ...TRAIN_DEFAULTS, model: 'resnet8', widthMultiplier: 0.5, dataset: 'digits', limitTrain: 320, limitTest: 160, batchSize: 32, epochs: 2, lr: 0.05 };
  await runTraining(fp, { outDir: path.join(root, 'fp'), progress });
  const cat: RunConfig = { ...fp, ...CAT_DEFAULTS, task: 'cat', init: path.join(root, 'fp'), actBits: 4, weightBits: 8, lambda: 0.5, epochs: 1, lr: 0.01, ...o } as RunConfig;
  await runTraining(cat, { outDir: path.join(root, 'cat'), progress });
  return { root, fp: path.join(root, 'fp'), cat: path.join(root, 'cat') };
}
