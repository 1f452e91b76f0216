// The architecture as a test: no import cycle among src/ files, and every import points down the
// layer order of design.md (cli → app → report → train → models → method → data → nn/optim → tensor;
// codec, ledger, errors and io depend on nothing engine-side). Reads the TypeScript sources, so a
// violation fails here before it ships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const SRC = path.join(ROOT, 'src');

/**
 * Rank of each top-level part of src/: a module may import only from its own part or lower ranks.
 * optim builds param groups from nn Modules; detection (boxes, NMS, MultiBox loss, VOC evaluation)
 * is tensor-level code the detection models build on; distributed (process groups, gradient sync)
 * sits on data, nn and tensor, below train.
 */
const RANK: Record<string, number> = {
  'index.ts': 12, cli: 11, app: 10, report: 9, train: 8, models: 7, method: 6, detection: 5.5, distributed: 5.2, data: 5, optim: 4.5, nn: 4, tensor: 3,
  codec: 1, ledger: 1, 'errors.ts': 1, io: 1, export: 2, runtime: 2.5, demo: 2.6,
};
/**
 * The engine-free leaves: they may import only each other (and Node built-ins). export (.catk, ONNX,
 * the layer graph), runtime (TensorFlow.js) and the browser demo sit on codec and errors; a leaf
 * still imports only leaves of lower rank.
 */
const LEAVES = new Set(['codec', 'ledger', 'errors.ts', 'io', 'export', 'runtime', 'demo']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative imports of one file (static, re-exports, type-only and dynamic), resolved to .ts files. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm)].map((m) => m[1]);
  return specs.map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

const part = (file: string): string => path.relative(SRC, file).split(path.sep)[0];

test('src/ has no import cycle', () => {
  const files = sources(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => existsSync(t))]));
  // Tarjan's strongly connected components: any component with more than one file is a cycle.
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.push(path.relative(SRC, w)); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  assert.deepEqual(cycles, [], `import cycles in src/:\n${cycles.map((c) => '  ' + c.join(' ↔ ')).join('\n')}`);
});

test('every import in src/ points down the layer order', () => {
  const bad: string[] = [];
  for (const file of sources(SRC)) {
    const from = part(file);
    assert.ok(from in RANK, `src/${from} is not in the layer table of this test (and design.md): place it`);
    for (const target of importsOf(file)) {
      if (!existsSync(target)) { bad.push(`${path.relative(SRC, file)} imports a missing file ${path.relative(SRC, target)}`); continue; }
      const to = part(target);
      if (to === from) continue;
      const ok = LEAVES.has(from) ? LEAVES.has(to) && RANK[to]! <= RANK[from]! : RANK[to] !== undefined && RANK[to] < RANK[from];
      if (!ok) bad.push(`${path.relative(SRC, file)} (${from}) imports ${path.relative(SRC, target)} (${to})`);
    }
  }
  assert.deepEqual(bad, [], `layer violations:\n${bad.map((b) => '  ' + b).join('\n')}`);
});

test('the import scanner sees static, type-only, re-export and dynamic imports', () => {
  // A scanner that missed a form of import would let violations through unnoticed.
  const file = path.join(SRC, 'cli', 'commands', 'train.ts');
  const seen = importsOf(file).map((f) => path.relative(SRC, f));
  assert.ok(seen.some((f) => f.startsWith('app' + path.sep)), `expected cli/commands/train.ts to import app/, saw ${seen.join(', ')}`);
});
