// ResNet-18 benchmark, in one run:
//  1. Engine: ResNet-18 (ImageNet layout, torchvision-compatible) at 224×224, batch 32, trained with
//     catkit in this process (SGD step: forward, cross-entropy, backward, step) and run in eval mode
//     without grad, then the same with torchvision.models.resnet18 in a PyTorch child process
//     (sequentially, never concurrently), same thread count, channels-last on both sides.
//     (catkit at 1 thread, batch 8: channels-last and contiguous within ~2 % of each other in CPU
//     time, channels-last ahead; engine.ts uses channels-last too.)
//  2. Data pipeline: images/s of ImageFolderLoader (sharp, worker threads) over a JPEG fixture in the
//     ImageNet layout it writes to a temp dir, for the train transform (RandomResizedCrop 224 + flip)
//     and the eval transform (Resize 256 + CenterCrop 224) with 1 and 2 workers; then torchvision's
//     ImageFolder + DataLoader (PIL decode) on the same files, same worker counts, as a reference.
// Prints tables and, as the last line, a JSON object. Ratios are catkit/PyTorch of the quantity
// named (for images/s above 1 means catkit is faster; for ms above 1 means catkit is slower).
//
//   npm run bench:resnet18 -- [--threads N] [--steps N] [--warmup N] [--batch N] [--rounds N] [--decode-only]
//
// --steps/--warmup count engine steps, and timed/warm-up epochs over the decode fixture (at most one
// warm-up epoch there: it starts the worker pools). --batch is also the loaders' batch size.
// --rounds N alternates catkit and PyTorch N times (still one at a time) and reports the median of
// the per-round medians, so load from other processes on a shared machine hits both sides alike.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { libtorchVersion, memory } from '../src/tensor/index.js';
import { resnet18 } from '../src/models/resnet.js';
import { timeModel } from './time-model.js';
import { loadNote, median, parseBenchArgs, runPythonJson, table, type BenchArgs } from './common.js';
import { ImageFolderLoader, openImageFolder } from '../src/data/image-folder.js';
import { mulberry32 } from '../src/data/random.js';

const SIZE = 224;
const CLASSES = 1000;
const WORKERS = [1, 2] as const;
const TRANSFORMS = ['train', 'eval'] as const;
type Transform = (typeof TRANSFORMS)[number];
/** Decode images/s keyed `${transform}_w${workers}`, e.g. train_w2. */
type DecodeRates = Record<string, number>;

// ---------------------------------------------------------------------------------------------
// Engine

/** train_cpu_ms: process CPU time per step, all threads (well below threads × train_ms means the machine was busy). */
interface EngineResult { train_ms: number; train_cpu_ms: number; eval_ms: number; rss_mb: number; threads: number; params: number }

function runCatkit(a: BenchArgs): EngineResult {
  const { forward_ms, ...rest } = timeModel(() => resnet18({ numClasses: CLASSES }), [3, SIZE, SIZE], CLASSES, a);
  return { ...rest, eval_ms: forward_ms };
}

const runPython = <T>(args: string[], threads: number): T => runPythonJson<T>('resnet18', 'pytorch_resnet18.py', args, threads);

type PytorchEngineResult = EngineResult & { torch: string; torchvision: string };

const runPytorch = (a: BenchArgs): PytorchEngineResult =>
  runPython<PytorchEngineResult>(['model', String(a.threads), String(a.steps), String(a.warmup), String(a.batch)], a.threads);

// ---------------------------------------------------------------------------------------------
// Data pipeline

// Four ImageNet wnids (tench, English springer, cassette player, chain saw).
const WNIDS = ['n01440764', 'n02102040', 'n02979186', 'n03000684'];
const PER_CLASS = 32;

/**
 * root/train/<wnid>/<wnid>_<k>.JPEG and root/val/<wnid>/ILSVRC2012_val_<n>.JPEG, PER_CLASS each:
 * 500×375 (every fourth 375×500), smooth random colour waves plus pixel noise, JPEG quality 90, so
 * files are photo-sized (~100 kB) and decoding costs what it does on real data.
 */
async function writeFixture(): Promise<{ root: string; bytes: number; files: number }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'catkit-bench-r18-'));
  const rng = mulberry32(18);
  let bytes = 0;
  let files = 0;
  let valId = 0;
  for (const split of ['train', 'val'] as const) {
    for (const wnid of WNIDS) {
      const dir = path.join(root, split, wnid);
      mkdirSync(dir, { recursive: true });
      for (let k = 0; k < PER_CLASS; k++) {
        const [w, h] = k % 4 === 3 ? [375, 500] : [500, 375];
        const px = Buffer.alloc(w * h * 3);
        const waves = Array.from({ length: 3 }, () => ({
          fx: 0.005 + 0.05 * rng(), fy: 0.005 + 0.05 * rng(), px: 6.3 * rng(), py: 6.3 * rng(), base: 60 + 135 * rng(), amp: 30 + 40 * rng(),
        }));
        const sx = waves.map((v) => Float64Array.from({ length: w }, (_, xx) => v.amp * Math.sin(v.fx * xx + v.px)));
        const cy = waves.map((v) => Float64Array.from({ length: h }, (_, yy) => Math.cos(v.fy * yy + v.py)));
        for (let yy = 0; yy < h; yy++) {
          for (let xx = 0; xx < w; xx++) {
            for (let c = 0; c < 3; c++) {
              const noise = (rng() + rng() - 1) * 48;
              px[(yy * w + xx) * 3 + c] = Math.max(0, Math.min(255, waves[c]!.base + sx[c]![xx]! * cy[c]![yy]! + noise));
            }
          }
        }
        const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
        const name = split === 'train' ? `${wnid}_${k}.JPEG` : `ILSVRC2012_val_${String(++valId).padStart(8, '0')}.JPEG`;
        writeFileSync(path.join(dir, name), jpeg);
        bytes += jpeg.length;
        files++;
      }
    }
  }
  return { root, bytes, files };
}

async function runCatkitDecode(root: string, a: BenchArgs): Promise<DecodeRates> {
  const out: DecodeRates = {};
  const warm = Math.min(a.warmup, 1);
  for (const t of TRANSFORMS) {
    const split = openImageFolder(root, { split: t === 'train' ? 'train' : 'val' });
    for (const workers of WORKERS) {
      const loader = new ImageFolderLoader(split, { batchSize: a.batch, size: SIZE, augment: t === 'train', workers });
      const rates: number[] = [];
      try {
        for (let e = 0; e < warm + a.steps; e++) {
          const t0 = performance.now();
          let n = 0;
          for await (const b of loader.batches(e)) {
            n += b.x.shape[0]!;
            b.x.dispose();
            b.y.dispose();
          }
          if (e >= warm) rates.push(n / ((performance.now() - t0) / 1000));
        }
      } finally {
        await loader.close();
      }
      out[`${t}_w${workers}`] = median(rates);
    }
  }
  return out;
}

const runPytorchDecode = (root: string, a: BenchArgs): DecodeRates =>
  runPython<{ img_s: DecodeRates }>(['decode', root, String(a.batch), String(a.steps), String(a.warmup), ...WORKERS.map(String)], a.threads).img_s;

// ---------------------------------------------------------------------------------------------
// Output

const decodeOnly = process.argv.includes('--decode-only');  // skip the engine part (its table then shows NaN)
const args = parseBenchArgs('resnet18', process.argv.slice(2).filter((a) => a !== '--decode-only'), { steps: 5, warmup: 2, batch: 32, rounds: 1 });
const tensorsAtStart = memory().numTensors;
console.log(`ResNet-18 (ImageNet), ${SIZE}×${SIZE}, batch ${args.batch}, channels-last, SGD momentum 0.9, ${args.threads} thread(s), ` +
  `median of ${args.steps} steps after ${args.warmup} warm-up; libtorch ${libtorchVersion()}; ${loadNote()}`);

const ckRounds: EngineResult[] = [];
const ptRounds: PytorchEngineResult[] = [];
const NO_ENGINE = { train_ms: NaN, train_cpu_ms: NaN, eval_ms: NaN, rss_mb: NaN, threads: args.threads, params: 0 };
for (let r = 0; r < args.rounds; r++) {
  ckRounds.push(decodeOnly ? NO_ENGINE : runCatkit(args));
  ptRounds.push(decodeOnly ? { ...NO_ENGINE, torch: '-', torchvision: '-' } : runPytorch(args));
  if (args.rounds > 1) {
    const [c, p] = [ckRounds[r]!, ptRounds[r]!];
    console.log(`engine round ${r + 1}/${args.rounds}: train ${c.train_ms.toFixed(0)} / ${p.train_ms.toFixed(0)} ms, eval ${c.eval_ms.toFixed(0)} / ${p.eval_ms.toFixed(0)} ms (catkit / PyTorch), load avg ${os.loadavg()[0]!.toFixed(2)}`);
  }
}

const fixture = await writeFixture();
const ckDecodeRounds: DecodeRates[] = [];
const ptDecodeRounds: DecodeRates[] = [];
try {
  for (let r = 0; r < args.rounds; r++) {
    ckDecodeRounds.push(await runCatkitDecode(fixture.root, args));
    ptDecodeRounds.push(runPytorchDecode(fixture.root, args));
    if (args.rounds > 1) {
      const [c, p] = [ckDecodeRounds[r]!, ptDecodeRounds[r]!];
      console.log(`decode round ${r + 1}/${args.rounds}: ` + Object.keys(c).map((k) => `${k} ${c[k]!.toFixed(0)} / ${p[k]!.toFixed(0)}`).join(', ') +
        ` img/s (catkit / torchvision), load avg ${os.loadavg()[0]!.toFixed(2)}`);
    }
  }
} finally {
  rmSync(fixture.root, { recursive: true, force: true });
}
const leaked = memory().numTensors - tensorsAtStart;

// Peak RSS from the first round, taken before the decode benchmark: later catkit rounds reuse this
// process (and its heap), while every PyTorch round is a fresh process.
const combine = <T extends EngineResult>(rs: T[]): T => ({
  ...rs[0]!,
  train_ms: median(rs.map((r) => r.train_ms)), train_cpu_ms: median(rs.map((r) => r.train_cpu_ms)), eval_ms: median(rs.map((r) => r.eval_ms)),
});
const combineRates = (rs: DecodeRates[]): DecodeRates => Object.fromEntries(Object.keys(rs[0]!).map((k) => [k, median(rs.map((r) => r[k]!))]));
const ck = combine(ckRounds);
const pt = combine(ptRounds);
const ckDec = combineRates(ckDecodeRounds);
const ptDec = combineRates(ptDecodeRounds);
const imgS = (ms: number): number => args.batch / (ms / 1000);

if (ck.params !== pt.params) console.log(`WARNING: parameter counts differ: catkit ${ck.params}, PyTorch ${pt.params}`);
if (ck.threads !== pt.threads) console.log(`WARNING: thread counts differ: catkit ${ck.threads}, PyTorch ${pt.threads}`);
if (leaked !== 0) console.log(`WARNING: ${leaked} tensor(s) still alive after the benchmark`);
const f = (v: number, d = 1): string => v.toFixed(d);
console.log(`\nEngine (PyTorch ${pt.torch}, torchvision ${pt.torchvision})`);
console.log(table([
  ['', 'catkit', 'PyTorch', 'catkit/PyTorch'],
  ['train step (ms, median)', f(ck.train_ms), f(pt.train_ms), f(ck.train_ms / pt.train_ms, 3)],
  ['train step CPU time (ms, median)', f(ck.train_cpu_ms), f(pt.train_cpu_ms), f(ck.train_cpu_ms / pt.train_cpu_ms, 3)],
  ['train images/s', f(imgS(ck.train_ms)), f(imgS(pt.train_ms)), f(imgS(ck.train_ms) / imgS(pt.train_ms), 3)],
  ['eval forward (ms, median)', f(ck.eval_ms), f(pt.eval_ms), f(ck.eval_ms / pt.eval_ms, 3)],
  ['eval images/s', f(imgS(ck.eval_ms)), f(imgS(pt.eval_ms)), f(imgS(ck.eval_ms) / imgS(pt.eval_ms), 3)],
  ['peak RSS (MB)', f(ck.rss_mb, 0), f(pt.rss_mb, 0), f(ck.rss_mb / pt.rss_mb, 3)],
  ['parameters', String(ck.params), String(pt.params), ck.params === pt.params ? 'same' : 'DIFFERENT'],
  ['threads', String(ck.threads), String(pt.threads), ''],
]));
console.log(`\nData pipeline: ${fixture.files} JPEGs (${WNIDS.length} classes × ${PER_CLASS} per split, ~500×375, ` +
  `${f(fixture.bytes / fixture.files / 1024, 0)} kB avg), batch ${args.batch}, median of ${args.steps} epoch(s) after ${Math.min(args.warmup, 1)} warm-up`);
const label: Record<Transform, string> = { train: 'RandomResizedCrop 224 + flip', eval: 'Resize 256 + CenterCrop 224' };
console.log(table([
  ['images/s', 'catkit (sharp)', 'torchvision (PIL)', 'catkit/torchvision'],
  ...TRANSFORMS.flatMap((t) => WORKERS.map((w) => {
    const k = `${t}_w${w}`;
    return [`${t}: ${label[t]}, ${w} worker${w > 1 ? 's' : ''}`, f(ckDec[k]!), f(ptDec[k]!), f(ckDec[k]! / ptDec[k]!, 3)];
  })),
]));
console.log(`live tensors leaked: ${leaked}`);

const round = (v: number): number => Math.round(v * 1000) / 1000;
const wMax = WORKERS[WORKERS.length - 1]!;
const decodeKeys = Object.fromEntries(TRANSFORMS.flatMap((t) => WORKERS.flatMap((w) => [
  [`decode_${t}_w${w}_img_s`, round(ckDec[`${t}_w${w}`]!)],
  [`pil_decode_${t}_w${w}_img_s`, round(ptDec[`${t}_w${w}`]!)],
])));
console.log(JSON.stringify({
  catkit_train_img_s: round(imgS(ck.train_ms)), pytorch_train_img_s: round(imgS(pt.train_ms)), train_ratio: round(imgS(ck.train_ms) / imgS(pt.train_ms)),
  catkit_eval_img_s: round(imgS(ck.eval_ms)), pytorch_eval_img_s: round(imgS(pt.eval_ms)), eval_ratio: round(imgS(ck.eval_ms) / imgS(pt.eval_ms)),
  catkit_train_ms: round(ck.train_ms), pytorch_train_ms: round(pt.train_ms), catkit_eval_ms: round(ck.eval_ms), pytorch_eval_ms: round(pt.eval_ms),
  catkit_rss_mb: round(ck.rss_mb), pytorch_rss_mb: round(pt.rss_mb),
  // decode_*_img_s without a worker count: at the largest (2 workers).
  decode_train_img_s: round(ckDec[`train_w${wMax}`]!), decode_eval_img_s: round(ckDec[`eval_w${wMax}`]!),
  pil_decode_train_img_s: round(ptDec[`train_w${wMax}`]!), pil_decode_eval_img_s: round(ptDec[`eval_w${wMax}`]!),
  decode_train_ratio: round(ckDec[`train_w${wMax}`]! / ptDec[`train_w${wMax}`]!), decode_eval_ratio: round(ckDec[`eval_w${wMax}`]! / ptDec[`eval_w${wMax}`]!),
  ...decodeKeys,
  batch: args.batch, threads: ck.threads, steps: args.steps, warmup: args.warmup, rounds: args.rounds, leaked_tensors: leaked,
}));
