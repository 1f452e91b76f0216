// BERT hyper-parameters in Hugging Face's config.json vocabulary (`hidden_size`, `num_attention_heads`, …),
// validated field by field so a bad file fails with one line naming the file and the field.
import { CatkitError } from '../../errors.js';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  /** 'gelu' is exact (erf), as Hugging Face's; 'gelu_new'/'gelu_pytorch_tanh' are the tanh approximation. */
  hiddenAct: 'gelu' | 'gelu_tanh' | 'relu';
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  initializerRange: number;
  padTokenId: number;
  /** Classifier dropout; null = hiddenDropoutProb (as Hugging Face). */
  classifierDropout: number | null;
  /**
   * What the pooler reads: 'cls' (Hugging Face: the [CLS] position) or 'mean' (the mean of the real
   * tokens; catkit's option for models whose [CLS] was never trained, e.g. MLM-only pre-training).
   * Written to config.json as `catkit_pooling`; transformers ignores the field and pools [CLS].
   */
  pooling?: 'cls' | 'mean';
  /** Labels of a sequence-classification head (id order); length = number of outputs. */
  labels: string[];
  /** Architectures named in config.json (e.g. ['BertForMaskedLM']); informative. */
  architectures: string[];
}

/** bert-base-uncased. */
export const BERT_BASE: Readonly<BertConfig> = Object.freeze({
  vocabSize: 30522, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 3072,
  hiddenAct: 'gelu', hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, maxPositionEmbeddings: 512,
  typeVocabSize: 2, layerNormEps: 1e-12, initializerRange: 0.02, padTokenId: 0, classifierDropout: null,
  labels: ['LABEL_0', 'LABEL_1'], architectures: [], pooling: 'cls',
});

/** A compact BERT (Turc et al. 2019 naming: L layers, H hidden, H/64 heads, 4H intermediate). */
export function compactBertConfig(layers: number, hidden: number, o: Partial<BertConfig> = {}): BertConfig {
  return validateBertConfig({ ...BERT_BASE, numHiddenLayers: layers, hiddenSize: hidden, numAttentionHeads: Math.max(1, hidden / 64), intermediateSize: 4 * hidden, ...o });
}

const ACTIVATIONS: Record<string, BertConfig['hiddenAct']> = {
  gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh', relu: 'relu',
};

function bad(where: string, msg: string): never {
  throw new CatkitError('bert_config', `${where}: ${msg}`, { file: where });
}

/** Checks the numbers fit together (heads divide hidden, probabilities in [0, 1], …). */
export function validateBertConfig(c: BertConfig, where = 'BERT config'): BertConfig {
  const posInt = ['vocabSize', 'hiddenSize', 'numHiddenLayers', 'numAttentionHeads', 'intermediateSize', 'maxPositionEmbeddings', 'typeVocabSize'] as const;
  for (const k of posInt) if (!Number.isInteger(c[k]) || c[k] < 1) bad(where, `${k} must be a positive integer, got ${c[k]}`);
  if (c.hiddenSize % c.numAttentionHeads !== 0) bad(where, `hidden size ${c.hiddenSize} is not a multiple of the number of attention heads ${c.numAttentionHeads}`);
  for (const k of ['hiddenDropoutProb', 'attentionProbsDropoutProb'] as const) if (!(c[k] >= 0 && c[k] < 1)) bad(where, `${k} must be in [0, 1), got ${c[k]}`);
  if (c.classifierDropout !== null && !(c.classifierDropout >= 0 && c.classifierDropout < 1)) bad(where, `classifierDropout must be in [0, 1), got ${c.classifierDropout}`);
  if (!(c.layerNormEps > 0 && c.layerNormEps < 1)) bad(where, `layerNormEps must be in (0, 1), got ${c.layerNormEps}`);
  if (!(c.initializerRange > 0)) bad(where, `initializerRange must be positive, got ${c.initializerRange}`);
  if (!Number.isInteger(c.padTokenId) || c.padTokenId < 0 || c.padTokenId >= c.vocabSize) bad(where, `padTokenId ${c.padTokenId} is outside the vocabulary of ${c.vocabSize}`);
  if (c.labels.length < 1) bad(where, 'a classification head needs at least one label');
  return c;
}

/**
 * Reads a Hugging Face `config.json` object (already parsed). Unknown fields are ignored, as
 * transformers does; fields BERT needs fall back to bert-base's values only where transformers'
 * BertConfig has the same defaults. Position embeddings other than 'absolute' are refused.
 */
export function bertConfigFromJson(json: unknown, where = 'config.json'): BertConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) bad(where, 'must hold a JSON object');
  const j = json as Record<string, unknown>;
  const num = (key: string, dflt: number): number => {
    const v = j[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(where, `'${key}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  if (j.model_type !== undefined && j.model_type !== 'bert') bad(where, `model_type is '${String(j.model_type)}', expected 'bert'`);
  const pos = j.position_embedding_type ?? 'absolute';
  if (pos !== 'absolute') bad(where, `position_embedding_type '${String(pos)}' is not supported (only 'absolute')`);
  const act = j.hidden_act ?? 'gelu';
  if (typeof act !== 'string' || !(act in ACTIVATIONS)) bad(where, `hidden_act ${JSON.stringify(act)} is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  const labels = readLabels(j, where);
  const arch = j.architectures;
  const architectures = Array.isArray(arch) ? arch.filter((a): a is string => typeof a === 'string') : [];
  const cd = j.classifier_dropout;
  return validateBertConfig({
    vocabSize: num('vocab_size', 30522), hiddenSize: num('hidden_size', 768), numHiddenLayers: num('num_hidden_layers', 12),
    numAttentionHeads: num('num_attention_heads', 12), intermediateSize: num('intermediate_size', 3072), hiddenAct: ACTIVATIONS[act]!,
    hiddenDropoutProb: num('hidden_dropout_prob', 0.1), attentionProbsDropoutProb: num('attention_probs_dropout_prob', 0.1),
    maxPositionEmbeddings: num('max_position_embeddings', 512), typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12), initializerRange: num('initializer_range', 0.02), padTokenId: num('pad_token_id', 0),
    classifierDropout: cd === undefined || cd === null ? null : num('classifier_dropout', 0), labels, architectures,
    pooling: readPooling(j.catkit_pooling, where),
  }, where);
}

function readPooling(v: unknown, where: string): 'cls' | 'mean' {
  if (v === undefined || v === null || v === 'cls') return 'cls';
  if (v === 'mean') return 'mean';
  bad(where, `catkit_pooling must be 'cls' or 'mean', got ${JSON.stringify(v)}`);
}

function readLabels(j: Record<string, unknown>, where: string): string[] {
  const id2label = j.id2label;
  if (id2label !== undefined && id2label !== null) {
    if (typeof id2label !== 'object' || Array.isArray(id2label)) bad(where, 'id2label must be an object {"0": "name", …}');
    const entries = Object.entries(id2label as Record<string, unknown>);
    const out: string[] = new Array(entries.length);
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= entries.length || out[i] !== undefined) bad(where, `id2label keys must be 0…${entries.length - 1}, got '${k}'`);
      out[i] = String(v);
    }
    if (j.num_labels !== undefined && j.num_labels !== out.length) bad(where, `num_labels ${String(j.num_labels)} disagrees with id2label's ${out.length} entries`);
    return out;
  }
  const n = j.num_labels === undefined ? 2 : j.num_labels;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100000) bad(where, `num_labels must be a positive integer, got ${JSON.stringify(n)}`);
  return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
}

/** The config as Hugging Face writes it (for a run folder or an exported Hub folder). */
export function bertConfigToJson(c: BertConfig, architecture: string): Record<string, unknown> {
  const act = c.hiddenAct === 'gelu_tanh' ? 'gelu_new' : c.hiddenAct;
  return {
    architectures: [architecture], model_type: 'bert', vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers, num_attention_heads: c.numAttentionHeads, intermediate_size: c.intermediateSize,
    hidden_act: act, hidden_dropout_prob: c.hiddenDropoutProb, attention_probs_dropout_prob: c.attentionProbsDropoutProb,
    max_position_embeddings: c.maxPositionEmbeddings, type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps,
    initializer_range: c.initializerRange, pad_token_id: c.padTokenId, position_embedding_type: 'absolute',
    classifier_dropout: c.classifierDropout, id2label: Object.fromEntries(c.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(c.labels.map((l, i) => [l, i])),
    ...(c.pooling === 'mean' ? { catkit_pooling: 'mean' } : {}),
  };
}
