// The sweep flow with a stand-in trainer (no engine): points, folders, skip/resume after an
// interruption, the summary files and the Pareto marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSweep, sweepPoints, type SweepPoint } from '../../src/app/sweep.js';
import { reportToJSON, reportSchemaErrors } from '../../src/report/index.js';
import { TRAIN_DEFAULTS, CAT_DEFAULTS, type RunConfig } from '../../src/train/config.js';
import { catReport, fpReport } from '../report/fixtures.js';

const config = (p: SweepPoint): RunConfig => ({ ...TRAIN_DEFAULTS, ...CAT_DEFAULTS, task: 'cat', init: 'fp', lambda: p.lambda, targetBits: p.targetBits } as RunConfig);

/** A stand-in for runTraining: writes checkpoint.json first, then (unless told to fail) report.json. */
function fakeRunner(calls: string[], failOn?: string) {
  return async (c: RunConfig, dir: string, resume: boolean) => {
    calls.push(`${path.basename(dir)}${resume ? ' (resumed)' : ''}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'checkpoint-epoch1.safetensors'), '');
    writeFileSync(path.join(dir, 'checkpoint.json'), JSON.stringify({ format: 'catkit-checkpoint', version: 1, tensorsFile: 'checkpoint-epoch1.safetensors', config: c, epoch: 1, history: [{ epoch: 1 }], extra: {} }));
    if (path.basename(dir) === failOn) throw new Error('interrupted');
    // More bits for a higher target; accuracy rises with bits except for the dominated λ point.
    const bits = c.targetBits ?? (c.lambda > 0 ? 1.2 : 2.6);
    const report = catReport({ lambda: c.lambda, peak: 3 / bits - 0.5, accuracy: c.lambda > 0 ? 0.95 : 0.96 + bits / 100, ...(c.targetBits ? { target: c.targetBits } : {}) });
    writeFileSync(path.join(dir, 'report.json'), reportToJSON(report));
    return report;
  };
}

test('sweep points: the λ = 0 control first, then targets, then fixed λ; bad values refused', () => {
  assert.deepEqual(sweepPoints([1.5, 2, 2], [0, 0.3]).map((p) => p.id), ['lambda-0', 'target-1.5', 'target-2', 'lambda-0.3']);
  assert.throws(() => sweepPoints([-1]), /--targets/);
});

test('a sweep runs every point, and after an interruption only the missing ones', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'catkit-sweep-'));
  try {
    const init = path.join(root, 'fp');
    mkdirSync(init);
    writeFileSync(path.join(init, 'report.json'), reportToJSON(fpReport()));
    const out = path.join(root, 'sweep');
    const points = sweepPoints([1.5, 2, 2.5]);
    const logs: string[] = [];
    const first: string[] = [];
    await assert.rejects(runSweep({ out, init, points, configFor: config, run: fakeRunner(first, 'target-2'), log: (l) => logs.push(l) }), /interrupted/);
    assert.deepEqual(first, ['lambda-0', 'target-1.5', 'target-2']);
    const second: string[] = [];
    const summary = await runSweep({ out, init, points, configFor: config, run: fakeRunner(second), log: (l) => logs.push(l) });
    assert.deepEqual(second, ['target-2 (resumed)', 'target-2.5']);
    assert.ok(logs.some((l) => /\[2\/4\] target 1.5: done before, skipped/.test(l)));
    assert.ok(logs.some((l) => /ETA/.test(l)));
    assert.deepEqual(summary.rows.map((r) => r.id), ['lambda-0', 'target-1.5', 'target-2', 'target-2.5']);
    for (const f of [summary.json, summary.markdown, summary.html]) assert.ok(existsSync(f), f);
    const json = JSON.parse(readFileSync(summary.json, 'utf8'));
    assert.equal(json.baseline.accuracy, 0.975);
    // Every point is on the front here (more bits, more accuracy), the control included.
    assert.deepEqual(json.rows.map((r: { pareto: boolean }) => r.pareto), [true, true, true, true]);
    const md = readFileSync(summary.markdown, 'utf8');
    assert.match(md, /\| target 2 \| 2 \|/);
    assert.equal(md.split('\n').filter((l) => l.startsWith('| ')).length, 1 + 4);
    for (const p of points) assert.deepEqual(reportSchemaErrors(JSON.parse(readFileSync(path.join(out, p.id, 'report.json'), 'utf8'))), []);
    // A third run has nothing left to do; a changed setting is refused instead of mixing runs.
    const third: string[] = [];
    await runSweep({ out, init, points, configFor: config, run: fakeRunner(third), log: () => {} });
    assert.deepEqual(third, []);
    await assert.rejects(runSweep({ out, init, points, configFor: (p) => ({ ...config(p), epochs: 99 }), run: fakeRunner([]), log: () => {} }), /other settings \(epochs/);
  } finally { rmSync(root, { recursive: true, force: true }); }
});
