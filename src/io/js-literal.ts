// Reads data out of JavaScript source text without running it: a strict parser for the literal
// subset that minified bundles use for data (objects with bare or quoted keys, arrays, strings,
// numbers, true/false/null and the minifier's !0/!1). Anything else is an error, so a file
// holding code yields a parse error and nothing is ever evaluated.
import { CatkitError } from '../errors.js';

export type JsLiteral = null | boolean | number | string | JsLiteral[] | { [k: string]: JsLiteral };

/** Deeper nesting than any model topology needs; bounds the recursion on hostile input. */
const MAX_DEPTH = 256;

export class JsLiteralError extends CatkitError {
  override name = 'JsLiteralError';
  constructor(source: string, at: number, message: string) {
    super('js_literal_invalid', `${source}: not a data literal at character ${at}: ${message}`, { file: source });
  }
}

/**
 * Parses the literal that starts at `start` (whitespace allowed before it) and returns it with the
 * index just after it. `source` names the file in errors.
 */
export function parseJsLiteral(text: string, start: number, source: string): { value: JsLiteral; end: number } {
  let i = start;
  const fail = (msg: string): never => { throw new JsLiteralError(source, i, msg); };
  const ws = (): void => { while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++; };

  const str = (): string => {
    const q = text[i]!;
    const close = text.indexOf(q, i + 1);
    // Fast path for long escape-free strings (base64 weight shards).
    if (close > 0) {
      const s = text.slice(i + 1, close);
      if (!s.includes('\\') && !s.includes('\n')) { i = close + 1; return s; }
    }
    let out = '';
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i]!;
      if (c === q) { i++; return out; }
      if (c === '\n') fail('newline in a string');
      if (c !== '\\') { out += c; i++; continue; }
      const e = text[i + 1];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0', '"': '"', "'": "'", '\\': '\\', '/': '/' };
      if (e !== undefined && e in simple) { out += simple[e]; i += 2; continue; }
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16)); i += 6; continue; }
      if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) { out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16)); i += 4; continue; }
      fail(`unsupported escape \\${e ?? ''}`);
    }
  };

  const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
  const IDENT = /[A-Za-z_$][\w$]*/y;

  const value = (depth: number): JsLiteral => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === undefined) fail('unexpected end of text');
    if (c === '{') {
      i++;
      const obj: { [k: string]: JsLiteral } = Object.create(null) as { [k: string]: JsLiteral };
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        let key: string;
        const k = text[i];
        if (k === '"' || k === "'") key = str();
        else {
          IDENT.lastIndex = i; NUMBER.lastIndex = i;
          const m = IDENT.exec(text) ?? NUMBER.exec(text);
          if (!m) fail('expected a property name');
          key = m![0];
          i += key.length;
        }
        ws();
        if (text[i] !== ':') fail(`expected ':' after property '${key}'`);
        i++;
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`property '${key}' appears twice`);
        obj[key] = value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsLiteral[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"' || c === "'") return str();
    if (c === '!' && (text[i + 1] === '0' || text[i + 1] === '1') && !/[\w$.]/.test(text[i + 2] ?? '')) {
      const v = text[i + 1] === '0';
      i += 2;
      return v;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num) { i += num[0].length; return Number(num[0]); }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text)?.[0];
    const words: Record<string, JsLiteral> = { true: true, false: false, null: null, NaN: NaN, Infinity: Infinity };
    if (id !== undefined && id in words) { i += id.length; return words[id]!; }
    return fail(`expected data, found '${text.slice(i, i + 20)}'`);
  };

  const v = value(0);
  return { value: v, end: i };
}

/**
 * The value a browserify/UMD data bundle exports: the literal after `<m>.exports=` in its first
 * module definition (`{1:[function(a,b,c){b.exports=…`), parsed as data, never run.
 */
export function bundleExport(text: string, source: string): JsLiteral {
  const m = /\{1:\[function\(([\w$]+),([\w$]+),([\w$]+)\)\{\s*\2\.exports\s*=/.exec(text);
  if (!m) {
    throw new CatkitError('js_literal_invalid', `${source}: not a data bundle (no 'module.exports = <data>' in its first module)`, { file: source });
  }
  return parseJsLiteral(text, m.index + m[0].length, source).value;
}
