// A data-parallel worker for the tests in test/distributed/: started with the torchrun variables
// (or none, for the single-process reference) and CATKIT_TEST_WORKER naming a scenario. Results go
// to files in CATKIT_TEST_OUT, never to stdout. Loaded without CATKIT_TEST_WORKER (e.g. by the
// test runner) it does nothing.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { F, manualSeed, tensor, tidy } from '../../src/tensor/index.js';
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { DataLoader, makeDataset } from '../../src/data/index.js';
import { initFromEnv, type DistributedContext } from '../../src/distributed/index.js';
import { TRAIN_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { buildSession, disposeSession } from '../../src/train/session.js';
import { fit } from '../../src/train/trainer.js';
import { silentProgress } from '../../src/train/progress.js';

const scenario = process.env.CATKIT_TEST_WORKER;
const out = process.env.CATKIT_TEST_OUT ?? '.';
const arg = (name: string, fallback: number): number => Number(process.env[`CATKIT_TEST_${name}`] ?? fallback);

/** 96 random 1×6×6 images, 3 classes: a fixed function of the seed. */
export function syntheticSet(n = 96) {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const images = Uint8Array.from({ length: n * 36 }, () => Math.floor(rnd() * 256));
  const labels = Uint8Array.from({ length: n }, (_, i) => (images[i * 36]! + images[i * 36 + 7]!) % 3);
  return makeDataset({ name: 'synthetic', images, labels, height: 6, width: 6, channels: 1, numClasses: 3, classNames: ['a', 'b', 'c'] });
}

export function smallNet(): Sequential {
  return new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new Flatten(), new Linear(144, 16), new ReLU(), new Linear(16, 3));
}

async function collectives(ctx: DistributedContext): Promise<void> {
  const r = ctx.rank;
  const sums = await ctx.sum([r + 1, 0.5]);
  const a = tensor([r, 2 * r, 3 * r]);
  const b = tensor([r, r + 1], [2], { dtype: 'int64' });
  await ctx.group.broadcast([a, b], 1 % ctx.worldSize);
  const m = tensor([r, -r]);
  await ctx.group.allreduce([m], 'max');
  const gathered = await ctx.allgatherJson({ rank: r, text: 'é'.repeat(r + 1) });
  await ctx.barrier();
  writeFileSync(path.join(out, `rank${r}.json`), JSON.stringify({ sums, a: a.toArray(), b: b.toArray(), m: m.toArray(), gathered }));
}

/** Trains smallNet for EPOCHS epochs at batch BATCH per rank; the initial weights differ per rank until rank 0's are broadcast. */
async function train(ctx: DistributedContext | null): Promise<void> {
  const rank = ctx?.rank ?? 0;
  manualSeed(100 + rank);
  const model = smallNet();
  if (ctx) await ctx.broadcastModule(model);
  const loader = new DataLoader(syntheticSet(), { batchSize: arg('BATCH', 8), shuffle: true, seed: 7, dropLast: true, normalize: false });
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const sync = ctx ? ctx.gradientSync(model, { overlap: arg('OVERLAP', 1) === 1, firstBucketBytes: 512, bucketBytes: 4096 }) : null;
  const dieAt = arg('DIE_AT', -1);
  let step = 0;
  for (let epoch = 0; epoch < arg('EPOCHS', 2); epoch++) {
    for (const batch of loader.batches(epoch, ctx?.trainShard)) {
      if (rank === 1 && step === dieAt) process.kill(process.pid, 'SIGKILL');
      tidy(() => {
        opt.zeroGrad();
        sync?.prepare();
        F.crossEntropy(model.forward(batch.x), batch.y).backward();
        sync?.finish();
        opt.step();
      });
      batch.x.dispose(); batch.y.dispose();
      step++;
    }
  }
  sync?.dispose();
  const params = Object.fromEntries(model.namedParameters().map(([k, t]) => [k, t.toArray()]));
  writeFileSync(path.join(out, ctx ? `rank${rank}.json` : 'single.json'), JSON.stringify({ steps: step, params }));
}

/**
 * The library's fit() on digits with a batch-norm-free network (batch statistics would differ
 * between one batch of 2B and two of B), EPOCHS epochs at BATCH per rank into CATKIT_TEST_RUN.
 */
async function fitRun(ctx: DistributedContext | null): Promise<void> {
  const config: RunConfig = { ...TRAIN_DEFAULTS, model: 'resnet8', dataset: 'digits', limitTrain: 192, limitTest: 300, batchSize: arg('BATCH', 16), epochs: arg('EPOCHS', 2), lr: 0.05 };
  const s = buildSession(config);
  s.model.dispose();
  manualSeed(200 + (ctx?.rank ?? 0)); // different per rank: fit must start every rank from rank 0's weights
  s.model = new Sequential(new Conv2d(1, 6, 3, { padding: 1, stride: 2 }), new ReLU(), new AdaptiveAvgPool2d(4), new Flatten(), new Linear(96, s.numClasses));
  try {
    await fit(s, { outDir: process.env.CATKIT_TEST_RUN!, progress: silentProgress(), dist: ctx ?? undefined });
    const params = Object.fromEntries(s.model.namedParameters().map(([k, t]) => [k, t.toArray()]));
    writeFileSync(path.join(out, ctx ? `rank${ctx.rank}.json` : 'single.json'), JSON.stringify({ params }));
  } finally { await disposeSession(s); }
}

if (scenario) {
  const ctx = await initFromEnv();
  if (scenario === 'collectives') await collectives(ctx!);
  else if (scenario === 'train') await train(ctx);
  else if (scenario === 'fit') await fitRun(ctx);
  else throw new Error(`unknown scenario ${scenario}`);
  ctx?.group.destroy();
}
