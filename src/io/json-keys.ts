// JSON.parse keeps the last of two equal keys in an object without a word. For files where that
// would hide a forged or corrupt entry (safetensors headers), this finds the first duplicate.

/**
 * The first key that appears twice in one object of a JSON text, described with the object it
 * is in (e.g. `'w' in the top-level object`), or null. Call it on text JSON.parse accepted.
 */
export function findDuplicateKey(text: string): string | null {
  let i = 0;
  let found: string | null = null;
  const ws = (): void => { while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++; };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (where: string, depth: number): void => {
    if (found !== null || depth > 512) return;
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        const key = str();
        if (keys.has(key)) { found = `'${key}' in ${where}`; return; }
        keys.add(key);
        ws();
        i++; // ':'
        value(`the object of '${key}'`, depth + 1);
        if (found !== null) return;
        ws();
        if (text[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(`an element of ${where}`, depth + 1);
        if (found !== null) return;
        ws();
        if (text[i++] === ']') return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++;
    }
  };
  value('the top-level object', 0);
  return found;
}
