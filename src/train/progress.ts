// What the trainer reports while it runs. The command line shows it (cli/progress.ts: a bar on a
// terminal, lines in logs); a library caller passes its own or gets silence.
export interface Progress {
  start(label: string, total: number): void;
  update(done: number, fields: Record<string, string>): void;
  /** A finished line: an epoch's summary, or a note (resuming, calibrated clips, the config). */
  stop(summary: string): void;
}

/** Reports nothing (library default; ranks other than the main one). */
export function silentProgress(): Progress {
  return { start() {}, update() {}, stop() {} };
}
