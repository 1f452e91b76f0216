// small_fine_foods (Amazon fine-food reviews, great/other; 4,000 train / 1,000 test; MIT, from R's
// modeldata): the committed extraction in data/small_fine_foods/ (see its README and
// scripts/extract_small_fine_foods.py, which rebuilds it from Debian's r-cran-modeldata).
// Label 1 = great, 0 = other: the SST-2-shaped sentiment task.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { CatkitError } from '../../errors.js';
import { dataError, type TextDataset } from './glue.js';

export const FINE_FOODS_LABELS = ['other', 'great'];
const MAX_GZ_BYTES = 16 << 20;
const MAX_TEXT_BYTES = 64 << 20;

export function fineFoodsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 7; i++) {
    const candidate = path.join(dir, 'data', 'small_fine_foods');
    if (existsSync(path.join(candidate, 'train.jsonl.gz'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new CatkitError('no_such_file', 'data/small_fine_foods is missing from the catkit package', { userFacing: false });
}

/** Parses `{product, review, label}` lines; a bad line is an error naming the file and line. */
export function parseFineFoods(text: string, file: string): TextDataset['examples'] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l, i) => {
    let row: unknown;
    try { row = JSON.parse(l); } catch (e) { throw dataError(file, i + 1, `not JSON (${(e as Error).message})`); }
    const r = row as { review?: unknown; label?: unknown };
    if (typeof r.review !== 'string' || r.review.trim() === '') throw dataError(file, i + 1, 'review must be a non-empty string');
    const label = FINE_FOODS_LABELS.indexOf(String(r.label));
    if (label < 0) throw dataError(file, i + 1, `label '${String(r.label)}' is not one of ${FINE_FOODS_LABELS.join(', ')}`);
    return { a: r.review, b: null, label };
  });
}

export function loadFineFoods(split: 'train' | 'test', dir = fineFoodsDir()): TextDataset {
  const file = path.join(dir, `${split}.jsonl.gz`);
  if (!existsSync(file)) throw new CatkitError('no_such_file', `${file}: no such file`, { file });
  const size = statSync(file).size;
  if (size > MAX_GZ_BYTES) throw dataError(file, null, `${size} bytes exceeds the ${MAX_GZ_BYTES}-byte limit`);
  let text: string;
  try { text = gunzipSync(readFileSync(file), { maxOutputLength: MAX_TEXT_BYTES }).toString('utf8'); } catch (e) {
    throw dataError(file, null, `cannot gunzip (${(e as Error).message})`);
  }
  return { name: `fine_foods/${split}`, labels: [...FINE_FOODS_LABELS], examples: parseFineFoods(text, file), file };
}
