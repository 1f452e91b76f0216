// Bundles the browser demo (src/demo/browser.ts + catkit/runtime + TensorFlow.js) into dist/demo/app.js
// and copies demo/index.html beside it. Run by `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'dist', 'demo');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(root, 'src', 'demo', 'browser.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
  outfile: path.join(out, 'app.js'), minify: true, sourcemap: true, logLevel: 'warning',
});
copyFileSync(path.join(root, 'demo', 'index.html'), path.join(out, 'index.html'));
