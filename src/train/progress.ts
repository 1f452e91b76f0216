// Progress display: a live bar on a terminal, one line per epoch otherwise (CI logs stay readable).
import cliProgress from 'cli-progress';

export interface Progress {
  start(label: string, total: number): void;
  update(done: number, fields: Record<string, string>): void;
  stop(summary: string): void;
}

export function createProgress(o: { quiet?: boolean } = {}): Progress {
  const live = process.stderr.isTTY && !process.env.CI && !o.quiet;
  if (!live) {
    // Logs: a line every 30 s of a long epoch, then the epoch summary.
    let label = '', total = 0, last = 0;
    return {
      start(l, t) { label = l; total = t; last = performance.now(); },
      update(done, fields) {
        if (o.quiet || performance.now() - last < 30_000) return;
        last = performance.now();
        process.stderr.write(`${label} ${done}/${total} ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' ')}\n`);
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
