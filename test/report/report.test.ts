// report.json: the schema accepts what buildReport writes and refuses broken reports; per-image
// bytes, baseline delta and the Pareto marks are checked against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reportSchemaErrors, readReport, reportToJSON, readBaseline } from '../../src/report/index.js';
import { paretoPoints } from '../../src/report/charts.js';
import { combineReports } from '../../src/report/combine.js';
import { CatkitError } from '../../src/errors.js';
import { buildLedger } from '../../src/ledger/index.js';
import { catReport, fpReport, sweepFixture } from './fixtures.js';

const roundTrip = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

test('reports of every kind satisfy the schema, after a JSON round trip', () => {
  for (const { label, report } of sweepFixture()) assert.deepEqual(reportSchemaErrors(JSON.parse(reportToJSON(report))), [], label);
});

test('the schema refuses a report with a wrong type, a missing field or an accuracy in percent', () => {
  const good = roundTrip(catReport({ lambda: 1, peak: 1, accuracy: 0.97 })) as Record<string, unknown>;
  assert.match(reportSchemaErrors({ ...good, accuracy: 97 }).join(), /accuracy: must be <= 1/);
  const { layers: _drop, ...noLayers } = good;
  assert.match(reportSchemaErrors(noLayers).join(), /must have required property 'layers'/);
  assert.match(reportSchemaErrors({ ...good, history: [{ epoch: 0 }] }).join(), /history\/0\/epoch: must be >= 1/);
});

test('per-image bytes and the baseline delta follow from the measurements', () => {
  const r = catReport({ lambda: 1, peak: 1, accuracy: 0.965 });
  // Site 0: 4096 values per image at 4 bits = 2048 raw bytes; entropy bytes = 4096 × H / 8.
  const l0 = r.layers[0]!;
  assert.equal(l0.bytesPerImage.raw, 2048);
  assert.ok(Math.abs(l0.bytesPerImage.entropy - (4096 * l0.entropy) / 8) < 1e-9);
  assert.equal(r.bytesPerImage!.raw, (4096 * 3 + 2048) * 4 / 8);
  const sumRans = r.layers.reduce((a, l) => a + (l.numel / r.codedImages) * l.rans / 8, 0);
  assert.ok(Math.abs(r.bytesPerImage!.rans - sumRans) < 1e-9);
  assert.ok(Math.abs(r.baseline!.accuracyDelta - (0.965 - 0.975)) < 1e-12);
  assert.ok(Math.abs(r.compression!.vsActBits.zerorun - 4 / r.bitsPerValue!.zerorun) < 1e-12);
  assert.equal(fpReport().baseline, null);
});

test('Pareto-optimal points: none dominated, every dominated point has a dominator', () => {
  const pts = paretoPoints(sweepFixture());
  assert.deepEqual(pts.filter((p) => p.pareto).map((p) => p.label), ['λ=0', 'λ=0.5', 'target 1.5']);
  assert.equal(pts.length, 4); // the float run is not a point
  // Ties: an identical point does not dominate.
  const twin = paretoPoints([{ label: 'a', report: catReport({ lambda: 1, peak: 1, accuracy: 0.9 }) }, { label: 'b', report: catReport({ lambda: 1, peak: 1, accuracy: 0.9 }) }]);
  assert.deepEqual(twin.map((p) => p.pareto), [true, true]);
});

test('the ledger counts each code (the histograms the report plots)', () => {
  const ledger = buildLedger([{ name: 'a', bits: 2, symbols: Uint8Array.from([0, 0, 3, 1, 0]) }, { name: 'a', bits: 2, symbols: Uint8Array.from([3, 3]) }]);
  assert.deepEqual(ledger.layers[0]!.histogram, [3, 1, 0, 3]);
});

test('catkit report reads run folders, refuses bad files with their name, and reads a baseline', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'catkit-report-'));
  try {
    const runs = sweepFixture().map(({ label, report }, i) => {
      const d = path.join(dir, `run${i}`);
      mkdirSync(d);
      writeFileSync(path.join(d, 'report.json'), reportToJSON(report));
      return d;
    });
    const { file, runs: read } = combineReports(runs, path.join(dir, 'all.html'));
    assert.equal(read.length, 5);
    assert.equal(readReport(runs[1]!).lambda, 0);
    assert.deepEqual(readBaseline(runs[0]), { run: runs[0], accuracy: 0.975 });
    assert.equal(readBaseline(runs[1]), null); // a CAT run is no float baseline
    assert.ok(file.endsWith('all.html'));
    writeFileSync(path.join(runs[2]!, 'report.json'), '{"task": "cat"');
    assert.throws(() => readReport(runs[2]!), (e: unknown) => e instanceof CatkitError && e.code === 'report_invalid' && /run2.report\.json is not valid JSON/.test(e.message));
    writeFileSync(path.join(runs[2]!, 'report.json'), JSON.stringify({ task: 'cat', accuracy: 2 }));
    assert.throws(() => readReport(runs[2]!), /run2.report\.json is not a catkit report: .*must have required property 'model'/);
    assert.throws(() => readReport(path.join(dir, 'nothing')), (e: unknown) => e instanceof CatkitError && e.code === 'report_missing');
    assert.throws(() => combineReports(runs.slice(0, 1), path.join(dir, 'x.txt')), /is an \.html file/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
