// How much a CAT run's test accuracy depends on its batch-norm statistics: the run's final weights
// evaluated (eval mode) with the statistics it saved, with batch statistics of each test batch, and
// after re-estimating them on the first n training batches (n = 5, 20, 40, 78 by default).
// At a low target rate the accuracy swings by many points between these, while the statistics
// themselves move by a few hundredths of a standard deviation (the largest shift is printed).
//   node scripts/bn-sensitivity.mjs RUN [n,n,…]        (after npm run build; CATKIT_THREADS=1)
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src');
const load = (m) => import(path.join(root, m));
const [{ buildSession, disposeSession }, { loadCheckpoint }, { evaluateAccuracy }, { recalibrateBatchNorm }, { setNumThreads, noGrad, tidy }] =
  await Promise.all(['train/session.js', 'train/checkpoint.js', 'train/evaluate.js', 'train/bn-recalibration.js', 'tensor/index.js'].map(load));
setNumThreads(Number(process.env.CATKIT_THREADS ?? 1));
const run = process.argv[2];
if (!run) { console.error('usage: node scripts/bn-sensitivity.mjs RUN [n,n,…]'); process.exit(2); }
const counts = (process.argv[3] ?? '5,20,40,78').split(',').map(Number);
const ck = loadCheckpoint(run);
const s = buildSession({ ...ck.meta.config, init: undefined });
const stats = () => new Map([...s.model.stateDict()].filter(([k]) => /running_(mean|var)$/.test(k)).map(([k, v]) => [k, v.toArray()]));
const top1 = async () => (100 * (await evaluateAccuracy(s.model, s.test, {})).top1).toFixed(2);
try {
  s.model.loadStateDict(ck.model);
  const saved = stats();
  const savedTop1 = await top1();
  s.model.train();
  let correct = 0, n = 0;
  for await (const b of s.test.batches(0)) noGrad(() => tidy(() => { correct += s.model.forward(b.x).argmax(1).eq(b.y).sum().item(); n += b.y.shape[0]; }));
  console.log(`${run}, ${n} test images`);
  console.log(`saved statistics: ${savedTop1} %`);
  console.log(`batch statistics (train-mode BN, each test batch its own): ${(100 * correct / n).toFixed(2)} %`);
  for (const k of counts) {
    s.model.loadStateDict(ck.model);
    const xs = [];
    for await (const b of s.train.batches(1)) { b.y.dispose(); xs.push(b.x); if (xs.length >= k) break; }
    recalibrateBatchNorm(s.model, xs);
    xs.forEach((x) => x.dispose());
    const now = stats();
    let shift = 0;
    for (const [name, mean] of now) if (name.endsWith('running_mean')) {
      const v = now.get(name.replace('mean', 'var')), old = saved.get(name);
      mean.forEach((m, c) => { shift = Math.max(shift, Math.abs(m - old[c]) / Math.sqrt(v[c] + 1e-5)); });
    }
    console.log(`re-estimated on ${k} training batches: ${await top1()} % (largest mean shift vs saved: ${shift.toFixed(3)} σ)`);
  }
} finally { await disposeSession(s); }
