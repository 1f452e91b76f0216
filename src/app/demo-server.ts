// `catkit serve-demo`: a small static server for the browser demo — the bundled page, the model
// file and sample test images. Fixed routes only (no paths from the request reach the file
// system), bound to 127.0.0.1 by default.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatkitError } from '../errors.js';

export interface DemoSample { label: number; pixels: number[] }

/** dist/demo (the bundle), found from this module's location (dist/src/app). */
export function demoBundleDir(): string {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo');
  if (!existsSync(path.join(dir, 'app.js'))) throw new CatkitError('demo_missing', `the demo bundle is missing (${dir}/app.js); run \`npm run build\``);
  return dir;
}

/** The first `n` test images of the digits dataset, round-robin over classes (pixels as stored). */
export async function digitsSamples(n: number): Promise<DemoSample[]> {
  const { loadDigits } = await import('../data/digits.js');
  const test = loadDigits().test;
  const per = test.height * test.width * test.channels;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < test.labels.length; i++) {
    const l = test.labels[i]!;
    if (!byClass.has(l)) byClass.set(l, []);
    byClass.get(l)!.push(i);
  }
  const order: number[] = [];
  for (let k = 0; order.length < Math.min(n, test.labels.length); k++) {
    for (const [, idx] of [...byClass].sort((a, b) => a[0] - b[0])) if (k < idx.length && order.length < n) order.push(idx[k]!);
  }
  return order.map((i) => ({ label: test.labels[i]!, pixels: Array.from(test.images.subarray(i * per, (i + 1) * per)) }));
}

export interface DemoServerOptions { model: Uint8Array; samples: DemoSample[]; host?: string; port?: number }

/** Starts the server; resolves with it and its URL once listening. */
export async function startDemoServer(o: DemoServerOptions): Promise<{ server: Server; url: string }> {
  const dir = demoBundleDir();
  const files: Record<string, { type: string; body: Uint8Array | string }> = {
    '/': { type: 'text/html; charset=utf-8', body: readFileSync(path.join(dir, 'index.html')) },
    '/index.html': { type: 'text/html; charset=utf-8', body: readFileSync(path.join(dir, 'index.html')) },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(dir, 'app.js')) },
    '/model.catk': { type: 'application/octet-stream', body: o.model },
    '/samples.json': { type: 'application/json', body: JSON.stringify(o.samples) },
  };
  const server = createServer((req, res) => {
    const route = new URL(req.url ?? '/', 'http://localhost').pathname;
    const f = req.method === 'GET' ? files[route] : undefined;
    if (!f) { res.writeHead(route === '/favicon.ico' ? 204 : 404).end(); return; }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' }).end(f.body);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => resolve()); });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return { server, url: `http://${o.host ?? '127.0.0.1'}:${port}/` };
}
