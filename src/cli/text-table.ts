// Plain aligned text tables for console output.

/** Joins rows into aligned columns: the first `leftColumns` columns left-aligned, the rest right-aligned. */
export function alignColumns(rows: readonly (readonly string[])[], leftColumns = 1): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
}
