// Pascal VOC in the VOCdevkit layout: ROOT/VOC2007, ROOT/VOC2012 (or ROOT itself being one VOCyyyy
// folder), each with Annotations/<id>.xml, JPEGImages/<id>.jpg and ImageSets/Main/<split>.txt.
// Inputs are data: ids are plain file stems, every file is resolved (realpath) and must stay inside
// its year folder (no `..`, no symlinks out), every read is bounded, and XML is parsed by
// fast-xml-parser as data only. Problems (malformed XML, missing image, a box outside the image or
// with zero area, an unknown class) are one-line errors naming the file, or with badImages 'skip'
// the image is left out and counted.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CatkitError } from '../errors.js';
import { readFileBounded, resolveInside as resolveInsideFolder } from '../io/safe-files.js';

/** The 20 VOC classes in the devkit's order; label k + 1 (0 is background). */
export const VOC_CLASSES: readonly string[] = Object.freeze([
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
]);
export const VOC_LAYOUT = 'VOCdevkit/VOC<year>/{Annotations/<id>.xml, JPEGImages/<id>.jpg, ImageSets/Main/<split>.txt}';

export const MAX_LIST_BYTES = 16 << 20;
export const MAX_XML_BYTES = 1 << 20;
export const MAX_IMAGE_BYTES = 64 << 20;
const MAX_OBJECTS = 1000;
const MAX_SIDE = 20000;

export interface VocObject {
  /** Label 1 … 20 (index in VOC_CLASSES + 1). */
  label: number;
  /** 0-based pixel corners [x1, y1, x2, y2] (the XML's 1-based values − 1, as torchvision / lufficc). */
  box: [number, number, number, number];
  difficult: boolean;
}
export interface VocItem { year: string; id: string; image: string; annotation: string; width: number; height: number; objects: VocObject[] }
export interface VocSetSpec { year: string; split: string }
export interface VocSplit {
  name: string;
  root: string;
  items: VocItem[];
  classNames: readonly string[];
  /** Images left out with badImages 'skip', each with its one-line reason. */
  skipped: string[];
}
export interface VocOptions {
  /** Default 'fail'. */
  badImages?: 'fail' | 'skip';
  /** Where the count of skipped images goes (default console.warn). */
  log?: (message: string) => void;
  /** At most this many images (the first of the lists, in order). */
  limit?: number;
}

const bad = (file: string, problem: string): CatkitError => new CatkitError('VOC_DATA', `${file}: ${problem}`, { file });

/** '2007-trainval+2012-trainval' → [{2007, trainval}, {2012, trainval}]. */
export function parseVocSets(spec: string): VocSetSpec[] {
  const sets = spec.split('+').map((s) => s.trim()).filter(Boolean).map((s) => {
    const m = /^(\d{4})-([A-Za-z0-9_]+)$/.exec(s);
    if (!m) throw new CatkitError('BAD_OPTION', `VOC set '${s}' must look like 2007-trainval (year-split), several joined by +`);
    return { year: m[1]!, split: m[2]! };
  });
  if (!sets.length) throw new CatkitError('BAD_OPTION', `no VOC set in '${spec}'`);
  return sets;
}

/** `rel` under `dir`, resolved through symlinks, refused if it leaves `dir` or does not exist. */
export function resolveInside(dir: string, rel: string, what: string): string {
  const joined = path.join(dir, rel);
  if (!existsSync(joined)) throw bad(joined, `missing ${what}`);
  return resolveInsideFolder(dir, rel, joined, { what });
}

/** The VOCyyyy folder of a year: ROOT/VOCyyyy, or ROOT itself when it is that folder. */
function yearDir(root: string, year: string): string {
  const sub = path.join(root, `VOC${year}`);
  if (existsSync(sub) && statSync(sub).isDirectory()) return sub;
  if (path.basename(path.resolve(root)) === `VOC${year}`) return root;
  throw new CatkitError('VOC_DATA', `${root} has no VOC${year} folder; expected ${VOC_LAYOUT}`, { file: root });
}

/** Whether `dir` is laid out as a VOCdevkit (VOCyyyy/Annotations inside) or is one VOCyyyy folder: a detection dataset. */
export function looksLikeVoc(dir: string): boolean {
  const isYear = (d: string) => /^VOC\d{4}$/.test(path.basename(path.resolve(d))) && existsSync(path.join(d, 'Annotations'));
  try {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
    return isYear(dir) || readdirSync(dir).some((n) => isYear(path.join(dir, n)));
  } catch { return false; }
}

const ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, processEntities: false, isArray: (name) => name === 'object' });

function num(v: unknown, file: string, what: string): number {
  const s = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
  const x = Number(s);
  if (s === '' || !Number.isFinite(x)) throw bad(file, `${what} is not a number (${JSON.stringify(v)})`);
  return x;
}

/** Parses one annotation file's text (exported for tests). */
export function parseVocAnnotation(text: string, file: string, classNames: readonly string[] = VOC_CLASSES): { width: number; height: number; objects: VocObject[] } {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw bad(file, `malformed XML (${valid.err.msg.replace(/\s+/g, ' ')} at line ${valid.err.line})`);
  const doc = xml.parse(text) as { annotation?: Record<string, unknown> };
  const ann = doc.annotation;
  if (!ann || typeof ann !== 'object') throw bad(file, 'no <annotation> element');
  const size = ann.size as Record<string, unknown> | undefined;
  if (!size || typeof size !== 'object') throw bad(file, 'no <size> element');
  const width = num(size.width, file, 'size/width'), height = num(size.height, file, 'size/height');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) throw bad(file, `image size ${width}×${height} is not a positive integer size up to ${MAX_SIDE}`);
  const objs = (ann.object ?? []) as Record<string, unknown>[];
  if (objs.length > MAX_OBJECTS) throw bad(file, `${objs.length} objects, more than ${MAX_OBJECTS}`);
  const objects = objs.map((o, k): VocObject => {
    const name = typeof o.name === 'string' ? o.name.trim() : '';
    const label = classNames.indexOf(name) + 1;
    if (label < 1) throw bad(file, `object ${k + 1} has unknown class '${name}' (known: ${classNames.join(', ')})`);
    const bb = o.bndbox as Record<string, unknown> | undefined;
    if (!bb || typeof bb !== 'object') throw bad(file, `object ${k + 1} (${name}) has no <bndbox>`);
    const [xmin, ymin, xmax, ymax] = (['xmin', 'ymin', 'xmax', 'ymax'] as const).map((c) => num(bb[c], file, `object ${k + 1} bndbox/${c}`)) as [number, number, number, number];
    if (!(xmax > xmin && ymax > ymin)) throw bad(file, `object ${k + 1} (${name}) has zero or negative area: (${xmin}, ${ymin}, ${xmax}, ${ymax})`);
    if (xmin < 0 || ymin < 0 || xmax > width || ymax > height) throw bad(file, `object ${k + 1} (${name}) box (${xmin}, ${ymin}, ${xmax}, ${ymax}) lies outside the ${width}×${height} image`);
    const d = o.difficult === undefined ? 0 : num(o.difficult, file, `object ${k + 1} difficult`);
    return { label, box: [xmin - 1, ymin - 1, xmax - 1, ymax - 1], difficult: d !== 0 };
  });
  return { width, height, objects };
}

/** Lists, validates and parses the images of one or more VOC sets (e.g. 2007-trainval + 2012-trainval). */
export function openVoc(root: string, sets: readonly VocSetSpec[] | string, o: VocOptions = {}): VocSplit {
  const specs = typeof sets === 'string' ? parseVocSets(sets) : [...sets];
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new CatkitError('VOC_DATA', `${root}: not a folder; expected ${VOC_LAYOUT}`, { file: root });
  const policy = o.badImages ?? 'fail';
  const items: VocItem[] = [], skipped: string[] = [];
  for (const { year, split } of specs) {
    const dir = yearDir(root, year);
    const listFile = resolveInside(dir, path.join('ImageSets', 'Main', `${split}.txt`), `image list for split '${split}'`);
    const lines = readFileBounded(listFile, { maxBytes: MAX_LIST_BYTES }).toString('utf8').split(/\r?\n/);
    for (const [n, line] of lines.entries()) {
      const id = line.trim().split(/\s+/)[0];
      if (!id) continue;
      if (!ID.test(id) || id === '.' || id === '..') throw bad(listFile, `line ${n + 1}: '${id}' is not an image id (letters, digits, _ - . only)`);
      if (o.limit !== undefined && items.length >= o.limit) break;
      try {
        const annotation = resolveInside(dir, path.join('Annotations', `${id}.xml`), 'annotation');
        const image = resolveInside(dir, path.join('JPEGImages', `${id}.jpg`), 'image');
        const ann = parseVocAnnotation(readFileBounded(annotation, { maxBytes: MAX_XML_BYTES }).toString('utf8'), annotation);
        const st = statSync(image);
        if (!st.isFile()) throw bad(image, 'not a regular file');
        if (st.size > MAX_IMAGE_BYTES) throw bad(image, `${st.size} bytes, more than the ${MAX_IMAGE_BYTES}-byte limit`);
        items.push({ year, id, image, annotation, ...ann });
      } catch (e) {
        if (policy === 'fail' || !(e instanceof CatkitError)) throw e;
        skipped.push(e.message);
      }
    }
  }
  if (skipped.length) (o.log ?? console.warn)(`skipped ${skipped.length} image(s) with bad data (--bad-images skip): ${skipped[0]}${skipped.length > 1 ? ' …' : ''}`);
  if (!items.length) throw new CatkitError('VOC_DATA', `${root}: no usable images in ${specs.map((s) => `${s.year}-${s.split}`).join('+')}`, { file: root });
  return { name: `voc/${specs.map((s) => `${s.year}-${s.split}`).join('+')}`, root, items, classNames: VOC_CLASSES, skipped };
}
