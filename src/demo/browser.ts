// The browser demo (bundled by scripts/build-demo.mjs into dist/demo/app.js, served by
// `catkit serve-demo`): loads model.catk with catkit/runtime, classifies the sample test images and
// what the user draws, and shows each activation site's bytes raw and entropy-coded (decoded live).
import * as tf from '@tensorflow/tfjs';
import { CatkRuntime, type Prediction, type SiteTraffic } from '../runtime/index.js';

interface Sample { label: number; pixels: number[] }
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = (s: string): void => { $('status').textContent = s; };

function showLedger(traffic: readonly SiteTraffic[]): void {
  const body = $('ledger').querySelector('tbody')!, foot = $('ledger').querySelector('tfoot')!;
  body.replaceChildren(...traffic.map((t) => {
    const tr = document.createElement('tr');
    const saved = t.codedBytes === null ? '–' : `${(100 * (1 - t.codedBytes / t.rawBytes)).toFixed(0)} %`;
    for (const v of [t.site, t.shape.slice(1).join('×'), t.bits, t.rawBytes, t.codedBytes ?? '–', t.entropy === null ? '–' : t.entropy.toFixed(2), saved]) {
      const td = document.createElement('td'); td.textContent = String(v); tr.append(td);
    }
    return tr;
  }));
  const raw = traffic.reduce((a, t) => a + t.rawBytes, 0);
  const coded = traffic.every((t) => t.codedBytes !== null) ? traffic.reduce((a, t) => a + t.codedBytes!, 0) : null;
  foot.innerHTML = '';
  const tr = document.createElement('tr');
  for (const v of ['total', '', '', raw, coded ?? '–', '', coded === null ? '–' : `${(100 * (1 - coded / raw)).toFixed(0)} %`]) {
    const td = document.createElement('th'); td.textContent = String(v); tr.append(td);
  }
  foot.append(tr);
  foot.dataset.raw = String(raw);
  foot.dataset.coded = String(coded ?? '');
}

function softmaxTop(p: Prediction): number {
  const row = Array.from(p.logits), m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m)), z = e.reduce((a, b) => a + b, 0);
  return e[p.top1[0]!]! / z;
}

async function main(): Promise<void> {
  const wanted = new URLSearchParams(location.search).get('backend');
  for (const b of wanted ? [wanted] : ['webgl', 'cpu']) { try { if (await tf.setBackend(b)) break; } catch { /* next */ } }
  await tf.ready();
  const [modelBytes, samples] = await Promise.all([
    fetch('model.catk').then((r) => { if (!r.ok) throw new Error(`model.catk: HTTP ${r.status}`); return r.arrayBuffer(); }),
    fetch('samples.json').then((r) => (r.ok ? r.json() as Promise<Sample[]> : [])),
  ]);
  const rt = CatkRuntime.fromBytes(new Uint8Array(modelBytes), 'model.catk');
  const [c, h, w] = rt.inputShape;
  const meta = rt.model.meta;
  status(`model ${meta.model} on ${meta.dataset} (${(modelBytes.byteLength / 1024).toFixed(1)} KiB .catk, ${rt.model.graph.sites.length} activation sites), TF.js backend ${tf.getBackend()}`);
  const code = (): boolean => ($('code') as HTMLInputElement).checked;

  // Samples: classify each on its own, show label vs prediction.
  let correct = 0;
  const cells = samples.map((s, i) => {
    const p = rt.predict(rt.preprocess(s.pixels), 1, { code: code() });
    if (p.top1[0] === s.label) correct++;
    const div = document.createElement('div');
    div.className = 'sample';
    div.dataset.index = String(i); div.dataset.label = String(s.label); div.dataset.pred = String(p.top1[0]);
    const cv = document.createElement('canvas'); cv.width = w; cv.height = h;
    const img = cv.getContext('2d')!.createImageData(w, h);
    for (let k = 0; k < w * h; k++) { const v = s.pixels[k * c]!; img.data.set([v, v, s.pixels[k * c + (c > 1 ? 1 : 0)]!, 255], 4 * k); }
    cv.getContext('2d')!.putImageData(img, 0, 0);
    const cap = document.createElement('div');
    cap.className = p.top1[0] === s.label ? 'ok' : 'bad';
    cap.textContent = `${meta.classNames[p.top1[0]!]} (${meta.classNames[s.label]})`;
    div.append(cv, cap);
    showLedger(p.traffic);
    return div;
  });
  $('samples').replaceChildren(...cells);
  $('sample-summary').textContent = `${correct} of ${samples.length} sample images classified correctly (prediction (label))`;
  $('sample-summary').dataset.correct = String(correct);

  // Drawing pad: white strokes on black, downsampled to the model's input.
  const pad = $('pad') as HTMLCanvasElement, ctx = pad.getContext('2d')!;
  const clear = (): void => { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, pad.width, pad.height); };
  clear();
  let drawing = false;
  const at = (e: PointerEvent): [number, number] => { const r = pad.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  pad.addEventListener('pointerdown', (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); });
  pad.addEventListener('pointermove', (e) => { if (!drawing) return; ctx.lineTo(...at(e)); ctx.strokeStyle = '#fff'; ctx.lineWidth = 16; ctx.lineCap = 'round'; ctx.stroke(); });
  const classify = (): void => {
    const small = document.createElement('canvas'); small.width = w; small.height = h;
    const sctx = small.getContext('2d')!;
    sctx.drawImage(pad, 0, 0, w, h);
    const p = rt.predict(rt.preprocess(sctx.getImageData(0, 0, w, h).data, { rgba: true }), 1, { code: code() });
    $('prediction').textContent = meta.classNames[p.top1[0]!]!;
    $('confidence').textContent = `(${(100 * softmaxTop(p)).toFixed(0)} %)`;
    showLedger(p.traffic);
  };
  window.addEventListener('pointerup', () => { if (drawing) { drawing = false; classify(); } });
  $('clear').addEventListener('click', clear);
  $('classify').addEventListener('click', classify);
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => { status(`error: ${(e as Error).message}`); console.error(e); document.body.dataset.ready = 'error'; });
