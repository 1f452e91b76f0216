// The package as a user gets it: build with tsconfig.build.json into a staging folder, `npm pack` it,
// install the tarball into a fresh project (offline: its dependencies are copied from this checkout's
// node_modules, and the already built addon is copied in instead of compiling libtorch again), then
// import every entry point in ESM, load the engine-free ones with native addons blocked, run the CLI,
// and type-check a consumer file under moduleResolution NodeNext and bundler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; exports: Record<string, unknown>; files: string[]; dependencies: Record<string, string>;
};
const SUBPATHS = Object.keys(pkg.exports).filter((k) => !k.endsWith('.json')).map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The production dependency folders of this checkout, relative to it (npm's own view of the tree). */
function productionDependencies(): string[] {
  const out = execFileSync(NPM, ['ls', '--all', '--omit=dev', '--parseable'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`${path.sep}node_modules${path.sep}`)).map((l) => path.relative(ROOT, l));
}

/** The ```ts blocks of the README's "## Library" section. */
function readmeExamples(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Library')) ?? '';
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('the packed tarball installs offline, every entry point imports and type-checks', { timeout: 240_000 }, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'catkit-pack-'));
  try {
    // 1. Stage what the package ships and build it with the publishing config (src only, no test/ or bench/).
    const stage = path.join(tmp, 'stage');
    mkdirSync(stage);
    for (const f of ['package.json', ...pkg.files.filter((f) => !f.startsWith('dist'))]) cpSync(path.join(ROOT, f), path.join(stage, f), { recursive: true });
    run(process.execPath, [TSC, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(stage, 'dist')], ROOT);
    run(process.execPath, [path.join(ROOT, 'scripts', 'build-demo.mjs'), '--release', path.join(stage, 'dist', 'demo')], ROOT); // what build:lib adds
    const packed = JSON.parse(run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], stage)) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    for (const need of ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'native/src/addon.cc', 'native/libtorch-paths.cjs',
      'data/digits/digits-images-idx3-ubyte.gz', 'schema/run-config.schema.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/bin.js',
      'dist/demo/app.js', 'dist/demo/index.html']) {
      assert.ok(files.includes(need), `tarball lacks ${need}`);
    }
    const stray = files.filter((f) => /^(test|bench|dist\/test|dist\/bench|build|src)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'));
    assert.deepEqual(stray, [], 'tarball ships test/bench/build files or TypeScript sources');

    // 2. A fresh project: dependencies copied from this checkout so npm resolves them without the network.
    const proj = path.join(tmp, 'consumer');
    mkdirSync(proj);
    writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    for (const dep of productionDependencies()) cpSync(path.join(ROOT, dep), path.join(proj, dep), { recursive: true });
    run(NPM, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', path.join(tmp, packed[0]!.filename)], proj);
    const installed = path.join(proj, 'node_modules', pkg.name);
    assert.ok(existsSync(path.join(installed, 'dist', 'src', 'index.js')));
    // `npm install` would compile the addon against libtorch (minutes); the one built here is the same.
    cpSync(path.join(ROOT, 'build', 'Release', 'catkit_native.node'), path.join(installed, 'build', 'Release', 'catkit_native.node'));

    // 3. Every entry point imports in ESM (by package name, through the exports map).
    const probe = `${SUBPATHS.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}
const mods = { ${SUBPATHS.map((s, i) => `'${s}': m${i}`).join(', ')} };
for (const [name, m] of Object.entries(mods)) if (Object.keys(m).length === 0) throw new Error(name + ' exports nothing');
const { tensor, buildModel, codec, TRAIN_DEFAULTS } = m0;
const x = tensor.ones([2, 3]);
if (x.sum().item() !== 6) throw new Error('tensor sum');
const net = buildModel('resnet8', { inChannels: 1, numClasses: 10 });
if (!net.namedParameters().some(([n]) => n === 'conv1.weight')) throw new Error('resnet8 parameters');
const bytes = codec.encodeContainer(Uint8Array.from([0, 0, 1, 2, 0, 3]), { alphabetSize: 4 });
if (codec.decodeContainer(bytes).join() !== '0,0,1,2,0,3') throw new Error('codec round trip');
console.log('ok', Object.keys(mods).length, TRAIN_DEFAULTS.model);
`;
    writeFileSync(path.join(proj, 'probe.mjs'), probe);
    assert.match(run(process.execPath, ['probe.mjs'], proj), new RegExp(`^ok ${SUBPATHS.length} resnet20`));

    // 4. The engine-free entry points load where libtorch cannot: any .node addon load throws.
    const guard = path.join(proj, 'no-native.cjs');
    writeFileSync(guard, "require('module')._extensions['.node'] = (m, f) => { throw new Error('native addon loaded: ' + f); };\n");
    writeFileSync(path.join(proj, 'engine-free.mjs'), `import { encodeContainer, decodeContainer } from '${pkg.name}/codec';
import { buildLedger } from '${pkg.name}/ledger';
import { quantize, dequantize } from '${pkg.name}/export';
import { CatkRuntime } from '${pkg.name}/runtime';
const s = Uint8Array.from({ length: 1000 }, (_, i) => (i % 5 === 0 ? 2 : 0));
const back = decodeContainer(encodeContainer(s, { alphabetSize: 4 }));
const ledger = buildLedger([{ name: 'relu1', bits: 2, symbols: s }], { codecs: ['huffman'] });
const w = dequantize(quantize(Float32Array.from([0, 0.5, 1]), [3], 1, null), [3]);
let refused = '';
try { CatkRuntime.fromBytes(Uint8Array.from([1, 2, 3]), 'x.catk'); } catch (e) { refused = e.code; }
console.log(back.length, ledger.layers.length, w.join(), refused);
`);
    assert.match(run(process.execPath, ['-r', guard, 'engine-free.mjs'], proj), /^1000 1 0,0,1 catk_\w+/);
    // …and the guard does block the engine (or the check above proves nothing).
    const blocked = spawnSync(process.execPath, ['-r', guard, '--input-type=module', '-e', `await import('${pkg.name}/tensor')`], { cwd: proj, encoding: 'utf8' });
    assert.notEqual(blocked.status, 0);
    assert.match(blocked.stderr, /native addon loaded/);

    // 5. The CLI runs from the installed package, through the bin link npm made.
    assert.match(run(path.join(proj, 'node_modules', '.bin', 'catkit'), ['cat', '--help'], proj), /--recipe <name>/);

    // 6. A consumer file type-checks with both module resolutions users pick (Node's types as a user would have them).
    mkdirSync(path.join(proj, 'node_modules', '@types'), { recursive: true });
    // (a dependency may already bring its own @types/node, e.g. protobufjs 6 through onnx-proto)
    if (!existsSync(path.join(proj, 'node_modules', '@types', 'node'))) symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(proj, 'node_modules', '@types', 'node'));
    writeFileSync(path.join(proj, 'consumer.ts'), `import { buildModel, buildCatConfig, TRAIN_DEFAULTS, type RunConfig, type RunReport } from '${pkg.name}';
import { Tensor, ones } from '${pkg.name}/tensor';
import { Module, Conv2d } from '${pkg.name}/nn';
import { SGD } from '${pkg.name}/optim';
import * as method from '${pkg.name}/method';
import { encodeContainer, type CodecName } from '${pkg.name}/codec';
import { buildLedger, type BandwidthLedger } from '${pkg.name}/ledger';
import { DataLoader, type BatchSource } from '${pkg.name}/data';
import { resnet18, type ModelSpec } from '${pkg.name}/models';
const spec: ModelSpec = { inChannels: 3, numClasses: 10 };
const net: Module = buildModel('resnet8', spec);
const conv: Conv2d = new Conv2d(3, 8, 3);
const t: Tensor = ones([1]);
const opt = new SGD(net.parameters(), { lr: 0.1 });
const config: RunConfig = buildCatConfig({ init: { ...TRAIN_DEFAULTS }, flags: { init: 'runs/fp', lambda: 1 } });
const c: CodecName = 'rans';
const bytes: Uint8Array = encodeContainer(new Uint8Array(4), { alphabetSize: 2 });
let ledger: BandwidthLedger | undefined = buildLedger([], {});
let source: BatchSource | undefined = undefined as DataLoader | undefined;
let report: RunReport | undefined;
// @ts-expect-error lr is a number
buildCatConfig({ init: TRAIN_DEFAULTS, flags: { init: 'x', lr: 'fast' } });
export { net, conv, t, opt, config, c, bytes, ledger, source, report, method, resnet18 };
`);
    // The README's Library examples are consumer code too.
    const examples = readmeExamples();
    assert.ok(examples.length > 0, 'README has no ```ts example in its Library section');
    examples.forEach((code, i) => writeFileSync(path.join(proj, `readme-${i}.ts`), `${code}\nexport {};\n`));
    for (const [module, moduleResolution] of [['NodeNext', 'NodeNext'], ['ESNext', 'Bundler']]) {
      writeFileSync(path.join(proj, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2022', module, moduleResolution, strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
        files: ['consumer.ts', ...examples.map((_, i) => `readme-${i}.ts`)],
      }));
      run(process.execPath, [TSC, '-p', 'tsconfig.json'], proj);
    }
  } finally { rmSync(tmp, { recursive: true, force: true }); }
});
