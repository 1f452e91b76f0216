// Bundles the browser demo (src/demo/browser.ts + catkit/runtime + TensorFlow.js) into dist/demo/app.js
// and copies demo/index.html beside it. Run by `npm run build` (with a source map) and by
// `npm run build:lib` for the published package (`--release`: no 5 MB source map).
// Usage: node scripts/build-demo.mjs [--release] [OUT_DIR]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const release = args.includes('--release');
const out = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(root, 'dist', 'demo'));
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(root, 'src', 'demo', 'browser.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
  outfile: path.join(out, 'app.js'), minify: true, sourcemap: !release, logLevel: 'warning',
});
copyFileSync(path.join(root, 'demo', 'index.html'), path.join(out, 'index.html'));
