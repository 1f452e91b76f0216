// Progress display for the command line: a live bar on a terminal, one line per epoch otherwise
// (CI logs stay readable). The trainer only knows the Progress interface (train/progress.ts).
import cliProgress from 'cli-progress';
import type { Progress } from '../train/progress.js';

export type { Progress };

export function createProgress(o: { quiet?: boolean } = {}): Progress {
  const live = process.stderr.isTTY && !process.env.CI && !o.quiet;
  if (!live) {
    // Logs: a line every 30 s of a long epoch, then the epoch summary.
    let label = '', total = 0, last = 0, began = 0;
    return {
      start(l, t) { label = l; total = t; last = began = performance.now(); },
      update(done, fields) {
        if (o.quiet || performance.now() - last < 30_000) return;
        last = performance.now();
        const eta = done > 0 && total > done ? ` eta ${formatSeconds(((last - began) / 1000) * (total - done) / done)}` : '';
        process.stderr.write(`${label} ${done}/${total}${eta} ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' ')}\n`);
      },
      stop(summary) { if (!o.quiet) process.stderr.write(`${summary}\n`); },
    };
  }
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(label, total) {
      bar = new cliProgress.SingleBar({
        format: `${label} [{bar}] {value}/{total} {eta_formatted} | {stats}`, barsize: 24, hideCursor: true, stream: process.stderr,
      }, cliProgress.Presets.shades_classic);
      bar.start(total, 0, { stats: '' });
    },
    update(done, fields) { bar?.update(done, { stats: Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' ') }); },
    stop(summary) { bar?.stop(); bar = null; process.stderr.write(`${summary}\n`); },
  };
}

/** 75 → "1m15s", 3 → "3s". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  if (r < 3600) return `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s`;
  return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
}
