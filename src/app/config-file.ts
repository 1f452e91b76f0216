// `--config run.json`: a run described in a file, checked against schema/run-config.schema.json (the
// fields checkpoint.json records under `config`). A checkpoint.json itself is accepted too: its
// `config` is used, so a past run's settings can seed a new one. The file is data: parsed, bounded,
// validated, never evaluated.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { RunConfig } from '../train/config.js';
import { CatkitError } from '../errors.js';

/** Config files are a few kilobytes; anything far larger is not one. */
const MAX_CONFIG_BYTES = 1 << 20;
export const RUN_CONFIG_SCHEMA_FILE = 'schema/run-config.schema.json';

/** The schema file in the package root, found by walking up from this module (src/app or dist/src/app). */
export function runConfigSchemaPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, RUN_CONFIG_SCHEMA_FILE);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new CatkitError('package_incomplete', `${RUN_CONFIG_SCHEMA_FILE} not found above ${fileURLToPath(import.meta.url)}; the catkit package is incomplete`, { userFacing: false });
}

let validator: ValidateFunction | null = null;
function validate(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(runConfigSchemaPath(), 'utf8')) as object;
    validator = new Ajv({ allErrors: false, strict: true }).compile(schema);
  }
  return validator;
}

/** One line per schema error, naming the field the way the file spells it. */
function describe(e: ErrorObject): string {
  const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '';
  if (e.keyword === 'additionalProperties') return `unknown field '${String(e.params.additionalProperty)}'`;
  if (e.keyword === 'enum') return `'${field}' must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return `'${field || '(top level)'}' ${e.message ?? 'is invalid'}`;
}

/** Checks an object against the run-config schema; throws one error naming the first problem. */
export function checkRunConfigFields(value: unknown, where: string): Partial<RunConfig> {
  const v = validate();
  if (!v(value)) throw new CatkitError('bad_config', `${where}: ${describe(v.errors![0]!)} (see ${RUN_CONFIG_SCHEMA_FILE})`, { file: where });
  const { $schema: _, ...fields } = value as Partial<RunConfig> & { $schema?: string };
  return fields;
}

/** Reads a --config file: a run-config object, or a checkpoint.json whose `config` is taken. */
export function readConfigFile(file: string): Partial<RunConfig> {
  if (!existsSync(file)) throw new CatkitError('bad_config', `--config ${file}: no such file`, { file });
  const size = statSync(file).size;
  if (size > MAX_CONFIG_BYTES) throw new CatkitError('bad_config', `--config ${file}: ${size} bytes, more than a config file holds (limit ${MAX_CONFIG_BYTES})`, { file });
  let value: unknown;
  try { value = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new CatkitError('bad_config', `--config ${file} is not valid JSON: ${(e as Error).message}`, { file });
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && (value as { format?: unknown }).format === 'catkit-checkpoint') {
    return checkRunConfigFields((value as { config?: unknown }).config, `${file} (config of the checkpoint)`);
  }
  return checkRunConfigFields(value, file);
}
