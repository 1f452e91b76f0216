// Hugging Face Hub folders for BERT: `config.json` + `model.safetensors`. The weights load by name
// into BertModel / BertForSequenceClassification / BertForMaskedLM, with the adaptations
// transformers itself makes: old TF-era `LayerNorm.gamma/beta` names, a missing or extra `bert.`
// prefix, tied MLM decoder tensors omitted from the file, the non-persistent `position_ids` buffer,
// and heads the target does not use (pre-training's `cls.seq_relationship`, the pooler under an MLM
// head) reported as unused. Pickled `pytorch_model.bin` files are refused, never unpickled.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { dispose, isFloating, type Tensor } from '../../tensor/index.js';
import { loadSafetensors } from '../../nn/index.js';
import { CatkitError } from '../../errors.js';
import { bertConfigFromJson, bertConfigToJson, type BertConfig } from './config.js';
import { BertForMaskedLM, BertForSequenceClassification, BertModel, TIED_KEYS } from './modeling.js';

export type BertHead = 'base' | 'classification' | 'mlm';
export type AnyBert = BertModel | BertForSequenceClassification | BertForMaskedLM;

const MAX_CONFIG_BYTES = 1 << 20;

function hubError(msg: string, file: string, hint?: string): CatkitError {
  return new CatkitError('hf_folder', `${file}: ${msg}`, { file, hint });
}

/** Reads and validates `DIR/config.json` (bounded read). */
export function readBertConfig(dir: string): BertConfig {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) throw hubError('no config.json (a Hugging Face model folder holds config.json and model.safetensors)', dir);
  const size = statSync(file).size;
  if (size > MAX_CONFIG_BYTES) throw hubError(`is ${size} bytes; a config.json over ${MAX_CONFIG_BYTES} bytes is not a model config`, file);
  let json: unknown;
  try { json = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { throw hubError(`is not valid JSON (${(e as Error).message})`, file); }
  return bertConfigFromJson(json, file);
}

/** The weights file of a Hub folder; pickles are refused with a way out. */
export function bertWeightsFile(dir: string): string {
  const st = path.join(dir, 'model.safetensors');
  if (existsSync(st)) return st;
  if (existsSync(path.join(dir, 'model.safetensors.index.json'))) {
    throw hubError('holds sharded safetensors (model.safetensors.index.json); catkit reads a single model.safetensors', dir);
  }
  for (const pickle of ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack']) {
    if (existsSync(path.join(dir, pickle))) {
      throw hubError(`has ${pickle} but no model.safetensors; catkit never unpickles or runs model files`, dir,
        "convert it once where you trust the file: python3 -c \"import torch; from safetensors.torch import save_file; save_file(torch.load('pytorch_model.bin'), 'model.safetensors')\"");
    }
  }
  throw hubError('no model.safetensors', dir);
}

/** The head named by config.json's architectures (BertForMaskedLM / BertForPreTraining → mlm, …ForSequenceClassification → classification). */
export function headFromConfig(c: BertConfig): BertHead {
  const a = c.architectures[0] ?? '';
  if (/ForSequenceClassification$/.test(a)) return 'classification';
  if (/For(MaskedLM|PreTraining)$/.test(a)) return 'mlm';
  return 'base';
}

export function buildBert(c: BertConfig, head: BertHead): AnyBert {
  return head === 'classification' ? new BertForSequenceClassification(c) : head === 'mlm' ? new BertForMaskedLM(c) : new BertModel(c);
}

export const ARCHITECTURE: Record<BertHead, string> = { base: 'BertModel', classification: 'BertForSequenceClassification', mlm: 'BertForMaskedLM' };

export interface BertLoadReport {
  source: string;
  loaded: number;
  parameters: number;
  /** Keys renamed on the way in (e.g. 'gamma → weight', 'added bert. prefix'). */
  renamed: string[];
  /** Keys in the file the model has no use for (transformers' "Some weights … were not used"). */
  unused: string[];
  /** Model keys the file lacks that are newly initialised (a new classifier head), or tied copies. */
  initialized: string[];
  converted: number;
}

/**
 * Maps a Hub state dict onto `model`'s keys. Returns the renamed map (same tensor objects) and the
 * notes; the caller still owns every tensor of `sd`.
 */
export function mapHubKeys(model: AnyBert, sd: ReadonlyMap<string, Tensor>): { mapped: Map<string, Tensor>; renamed: string[]; unused: string[] } {
  const sdView = model.stateDict();
  const targets = new Set(sdView.keys());
  dispose([...sdView.values()]);
  const wantPrefix = !(model instanceof BertModel);
  const renamed = new Set<string>();
  const mapped = new Map<string, Tensor>();
  const unused: string[] = [];
  const hasPrefix = [...sd.keys()].some((k) => k.startsWith('bert.'));
  for (const [key, t] of sd) {
    let k = key;
    if (/LayerNorm\.gamma$/.test(k)) { k = k.replace(/gamma$/, 'weight'); renamed.add('LayerNorm gamma/beta → weight/bias'); }
    else if (/LayerNorm\.beta$/.test(k)) { k = k.replace(/beta$/, 'bias'); renamed.add('LayerNorm gamma/beta → weight/bias'); }
    if (wantPrefix && !hasPrefix && /^(embeddings|encoder|pooler)\./.test(k)) { k = `bert.${k}`; renamed.add("added the 'bert.' prefix"); }
    if (!wantPrefix && k.startsWith('bert.')) { k = k.slice(5); renamed.add("dropped the 'bert.' prefix"); }
    if (targets.has(k)) mapped.set(k, t);
    else unused.push(key);
  }
  return { mapped, renamed: [...renamed], unused };
}

/**
 * Keys a Hub file may lack: tied copies, and a head being newly initialised — a classifier, or the
 * pooler (a masked-LM checkpoint such as catkit's pre-training runs has none) under a classifier or BertModel.
 */
function mayBeMissing(model: AnyBert): (k: string) => boolean {
  return (k) => (TIED_KEYS as readonly string[]).includes(k) || (model instanceof BertForSequenceClassification && /^(classifier|bert\.pooler)\./.test(k))
    || (model instanceof BertModel && /^pooler\./.test(k));
}

/** Loads Hub-named tensors into `model`; the caller keeps ownership of `sd`. */
export function loadHubStateDict(model: AnyBert, sd: ReadonlyMap<string, Tensor>, source: string): BertLoadReport {
  const { mapped, renamed, unused } = mapHubKeys(model, sd);
  const targets = model.stateDict();
  const cast: Tensor[] = [];
  try {
    let converted = 0;
    for (const [k, t] of mapped) {
      const target = targets.get(k)!;
      if (t.dtype !== target.dtype && isFloating(t.dtype) && isFloating(target.dtype)) {
        const c = t.to(target.dtype);
        cast.push(c);
        mapped.set(k, c);
        converted++;
      }
    }
    const allow = mayBeMissing(model);
    // Ignored (not an error): a classifier head the file has with another label count is checked by the load's shape test.
    model.loadStateDict(mapped, { allowMissing: allow, source });
    const initialized = [...targets.keys()].filter((k) => !mapped.has(k));
    const params = model.namedParameters().filter(([k]) => mapped.has(k));
    return {
      source, loaded: mapped.size, parameters: params.reduce((n, [, t]) => n + t.size, 0),
      renamed, unused: unused.filter((k) => !/(^|\.)position_ids$/.test(k)), initialized, converted,
    };
  } finally {
    dispose([...targets.values(), ...cast]);
  }
}

/** Builds the BERT of a Hub folder and loads its weights; `head` defaults to config.json's architecture. */
export function loadBertFromHub(dir: string, o: { head?: BertHead; labels?: string[]; pooling?: 'cls' | 'mean' } = {}): { model: AnyBert; config: BertConfig; head: BertHead; report: BertLoadReport } {
  let config = readBertConfig(dir);
  if (o.labels) config = { ...config, labels: o.labels };
  if (o.pooling) config = { ...config, pooling: o.pooling };
  const head = o.head ?? headFromConfig(config);
  const file = bertWeightsFile(dir);
  const { tensors } = loadSafetensors(file);
  try {
    const model = buildBert(config, head);
    try {
      return { model, config, head, report: loadHubStateDict(model, tensors, file) };
    } catch (e) {
      model.dispose();
      throw e;
    }
  } finally {
    dispose([...tensors.values()]);
  }
}

/** The config.json transformers would write for `model`. */
export function hubConfigJson(model: AnyBert): Record<string, unknown> {
  const head: BertHead = model instanceof BertForSequenceClassification ? 'classification' : model instanceof BertForMaskedLM ? 'mlm' : 'base';
  return bertConfigToJson(model.config, ARCHITECTURE[head]);
}

export function formatBertLoad(r: BertLoadReport): string {
  const lines = [`loaded ${r.loaded} tensors (${r.parameters.toLocaleString('en-US')} parameters) from ${r.source}`];
  if (r.renamed.length) lines.push(`  renamed: ${r.renamed.join('; ')}`);
  if (r.converted) lines.push(`  ${r.converted} tensors converted to float32`);
  const tied = r.initialized.filter((k) => (TIED_KEYS as readonly string[]).includes(k));
  const fresh = r.initialized.filter((k) => !tied.includes(k));
  if (tied.length) lines.push(`  tied to the word embeddings / cls.predictions.bias: ${tied.join(', ')}`);
  if (fresh.length) lines.push(`  newly initialised (not in the file): ${fresh.join(', ')}`);
  if (r.unused.length) lines.push(`  unused (the model has no such tensors): ${r.unused.slice(0, 6).join(', ')}${r.unused.length > 6 ? `, … (${r.unused.length})` : ''}`);
  return lines.join('\n');
}
