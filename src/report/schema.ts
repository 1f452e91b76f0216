// report.json's JSON Schema (schema/report.schema.json, units documented there) and a validator:
// reports read back from disk (`catkit report RUN…`) are data from a file, checked before use.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvModule from 'ajv';
import type { ValidateFunction } from 'ajv';
import { CatkitError } from '../errors.js';
import type { RunReport } from './report.js';

/** The schema file, at the package root (dist/src/report → ../../../schema). */
export const REPORT_SCHEMA_FILE = fileURLToPath(new URL('../../../schema/report.schema.json', import.meta.url));

let validator: ValidateFunction | null = null;

function compiled(): ValidateFunction {
  if (!validator) {
    // ajv is CommonJS: its class is the default export's `default` under NodeNext.
    const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
    const ajv = new (Ajv as unknown as new (o: object) => { compile(s: object): ValidateFunction })({ allErrors: true, strict: true, allowUnionTypes: true });
    validator = ajv.compile(JSON.parse(readFileSync(REPORT_SCHEMA_FILE, 'utf8')) as object);
  }
  return validator;
}

/** The schema violations of `value` as "path: message" lines (empty: valid). */
export function reportSchemaErrors(value: unknown): string[] {
  const v = compiled();
  if (v(value)) return [];
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
}

/** Throws a one-line user-facing error naming the file and the first problems. */
export function assertReport(value: unknown, file: string): asserts value is RunReport {
  const errors = reportSchemaErrors(value);
  if (errors.length) {
    throw new CatkitError('report_invalid', `${file} is not a catkit report: ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? ` (+${errors.length - 3} more)` : ''}`, { file });
  }
}
