// BERT (Devlin et al. 2019) laid out as Hugging Face transformers' BertModel, so a Hub
// `model.safetensors` loads by name: `bert.embeddings.word_embeddings.weight`,
// `bert.encoder.layer.0.attention.self.query.weight`, …, `classifier.weight`, `cls.predictions.*`.
//
// Every tensor CAT may quantize is a module's output (CAT-API.md): the LayerNorms
// (`embeddings.LayerNorm`, `attention.output.LayerNorm`, `output.LayerNorm`), the intermediate GELU
// (`intermediate.intermediate_act_fn`), the attention context before `attention.output.dense`
// (`attention.self.context`, an Identity) and the attention probabilities
// (`attention.self.probs`, an Identity). These modules own no tensors, so the state-dict keys stay
// Hugging Face's. Every Linear is called as a submodule, so swapped quantized layers take effect.
import { F, arange, noGrad, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { Dropout, Embedding, GELU, Identity, LayerNorm, Linear, Module, type AnyModule, ReLU, Sequential, Tanh, init } from '../../nn/index.js';
import { CatkitError } from '../../errors.js';
import type { BertConfig } from './config.js';

/** What a BERT forward takes: token ids [B, T] (int64) and optional segment ids, 1/0 mask and positions. */
export interface BertInputs {
  inputIds: Tensor;
  tokenTypeIds?: Tensor | null;
  /** 1 for real tokens, 0 for padding; [B, T], any numeric or bool dtype. */
  attentionMask?: Tensor | null;
  positionIds?: Tensor | null;
}

export interface BertOutput {
  /** [B, T, H] after the last layer. */
  lastHiddenState: Tensor;
  /** tanh(dense([CLS])) [B, H], when the model has a pooler. */
  pooledOutput: Tensor | null;
  /** Embedding output then each layer's output (numHiddenLayers + 1 tensors), when asked for. */
  hiddenStates: Tensor[] | null;
}

function activation(c: BertConfig): Module {
  return c.hiddenAct === 'relu' ? new ReLU() : new GELU(c.hiddenAct === 'gelu_tanh' ? 'tanh' : 'none');
}

export class BertEmbeddings extends Module<BertInputs, Tensor> {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: BertConfig) {
    super();
    this.word_embeddings = this.add('word_embeddings', new Embedding(config.vocabSize, config.hiddenSize, { paddingIdx: config.padTokenId }));
    this.position_embeddings = this.add('position_embeddings', new Embedding(config.maxPositionEmbeddings, config.hiddenSize));
    this.token_type_embeddings = this.add('token_type_embeddings', new Embedding(config.typeVocabSize, config.hiddenSize));
    this.LayerNorm = this.add('LayerNorm', new LayerNorm(config.hiddenSize, { eps: config.layerNormEps }));
    this.dropout = this.add('dropout', new Dropout(config.hiddenDropoutProb));
  }

  forward(x: BertInputs): Tensor {
    const [, t] = x.inputIds.shape as [number, number];
    const words = this.word_embeddings.forward(x.inputIds);
    const positions = x.positionIds ? this.position_embeddings.forward(x.positionIds)
      : this.position_embeddings.forward(arange(0, t, 1, { dtype: 'int64' })).unsqueeze(0);
    const types = x.tokenTypeIds ? this.token_type_embeddings.forward(x.tokenTypeIds)
      : this.token_type_embeddings.weight.narrow(0, 0, 1); // all segment 0, broadcast
    return this.dropout.forward(this.LayerNorm.forward(words.add(types).add(positions)));
  }
}

/** Input of the attention blocks: hidden states and the additive mask [B, 1, 1, T] (or null). */
export interface LayerInput { hidden: Tensor; mask: Tensor | null }

export class BertSelfAttention extends Module<LayerInput, Tensor> {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;
  /** Optional CAT site: the attention probabilities (after softmax, before dropout). */
  readonly probs: Identity;
  /** CAT site: the context [B, T, H] that attention.output.dense reads. */
  readonly context: Identity;
  readonly heads: number;
  readonly headSize: number;

  constructor(c: BertConfig) {
    super();
    this.heads = c.numAttentionHeads;
    this.headSize = c.hiddenSize / c.numAttentionHeads;
    this.query = this.add('query', new Linear(c.hiddenSize, c.hiddenSize));
    this.key = this.add('key', new Linear(c.hiddenSize, c.hiddenSize));
    this.value = this.add('value', new Linear(c.hiddenSize, c.hiddenSize));
    this.dropout = this.add('dropout', new Dropout(c.attentionProbsDropoutProb));
    this.probs = this.add('probs', new Identity());
    this.context = this.add('context', new Identity());
  }

  /** [B, T, H] → [B, heads, T, headSize]. */
  #split(x: Tensor): Tensor {
    const [b, t] = x.shape as [number, number, number];
    return x.view([b, t, this.heads, this.headSize]).permute([0, 2, 1, 3]);
  }

  forward({ hidden, mask }: LayerInput): Tensor {
    const [b, t, h] = hidden.shape as [number, number, number];
    const q = this.#split(this.query.forward(hidden));
    const k = this.#split(this.key.forward(hidden));
    const v = this.#split(this.value.forward(hidden));
    let scores = q.matmul(k.transpose(-1, -2)).div(Math.sqrt(this.headSize));
    if (mask) scores = scores.add(mask);
    const probs = this.dropout.forward(this.probs.forward(F.softmax(scores, -1)));
    const ctx = probs.matmul(v).permute([0, 2, 1, 3]).reshape([b, t, h]);
    return this.context.forward(ctx);
  }
}

/** dense → dropout → LayerNorm(· + residual): BertSelfOutput and BertOutput share this shape. */
export class BertResidualOutput extends Module<{ hidden: Tensor; residual: Tensor }, Tensor> {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(inFeatures: number, c: BertConfig) {
    super();
    this.dense = this.add('dense', new Linear(inFeatures, c.hiddenSize));
    this.LayerNorm = this.add('LayerNorm', new LayerNorm(c.hiddenSize, { eps: c.layerNormEps }));
    this.dropout = this.add('dropout', new Dropout(c.hiddenDropoutProb));
  }
  forward({ hidden, residual }: { hidden: Tensor; residual: Tensor }): Tensor {
    return this.LayerNorm.forward(this.dropout.forward(this.dense.forward(hidden)).add(residual));
  }
}

export class BertAttention extends Module<LayerInput, Tensor> {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;
  constructor(c: BertConfig) {
    super();
    this.self = this.add('self', new BertSelfAttention(c));
    this.output = this.add('output', new BertResidualOutput(c.hiddenSize, c));
  }
  forward(x: LayerInput): Tensor {
    return this.output.forward({ hidden: this.self.forward(x), residual: x.hidden });
  }
}

export class BertIntermediate extends Module {
  readonly dense: Linear;
  /** CAT site: the GELU output, input of output.dense. */
  readonly intermediate_act_fn: Module;
  constructor(c: BertConfig) {
    super();
    this.dense = this.add('dense', new Linear(c.hiddenSize, c.intermediateSize));
    this.intermediate_act_fn = this.add('intermediate_act_fn', activation(c));
  }
  forward(x: Tensor): Tensor { return this.intermediate_act_fn.forward(this.dense.forward(x)); }
}

export class BertLayer extends Module<LayerInput, Tensor> {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;
  constructor(c: BertConfig) {
    super();
    this.attention = this.add('attention', new BertAttention(c));
    this.intermediate = this.add('intermediate', new BertIntermediate(c));
    this.output = this.add('output', new BertResidualOutput(c.intermediateSize, c));
  }
  forward(x: LayerInput): Tensor {
    const a = this.attention.forward(x);
    return this.output.forward({ hidden: this.intermediate.forward(a), residual: a });
  }
}

export class BertEncoder extends Module<LayerInput & { collect?: Tensor[] }, Tensor> {
  readonly layer: Sequential;
  constructor(c: BertConfig) {
    super();
    this.layer = this.add('layer', new Sequential(...Array.from({ length: c.numHiddenLayers }, () => new BertLayer(c))));
  }
  forward({ hidden, mask, collect }: LayerInput & { collect?: Tensor[] }): Tensor {
    let h = hidden;
    for (const l of this.layer) {
      h = (l as BertLayer).forward({ hidden: h, mask });
      collect?.push(h);
    }
    return h;
  }
}

export class BertPooler extends Module {
  readonly dense: Linear;
  readonly activation: Tanh;
  constructor(c: BertConfig) {
    super();
    this.dense = this.add('dense', new Linear(c.hiddenSize, c.hiddenSize));
    this.activation = this.add('activation', new Tanh());
    this.mode = c.pooling ?? 'cls';
  }
  readonly mode: 'cls' | 'mean';
  /** tanh(dense(h[:, 0])): the [CLS] position; in 'mean' mode, of the mean over real tokens (mask from setMask). */
  forward(hidden: Tensor): Tensor {
    let v = hidden.select(1, 0);
    if (this.mode === 'mean') {
      const m = this.#mask ? this.#mask.to(hidden.dtype).unsqueeze(-1) : null;
      v = m ? hidden.mul(m).sum(1).div(m.sum(1).clamp(1, null)) : hidden.mean(1);
    }
    return this.activation.forward(this.dense.forward(v));
  }
  #mask: Tensor | null = null;
  /** The attention mask of the current forward (mean pooling only). */
  setMask(mask: Tensor | null): void { this.#mask = mask; }
}

/**
 * The additive attention mask: 0 where attended, the dtype's lowest finite value where padded
 * (as transformers' get_extended_attention_mask), shaped [B, 1, 1, T] to broadcast over heads and queries.
 */
export function extendedAttentionMask(mask: Tensor, dtype: Tensor['dtype']): Tensor {
  const lowest = dtype === 'float64' ? -Number.MAX_VALUE : dtype === 'float16' ? -65504 : -3.4028234663852886e38;
  return mask.to(dtype).neg().add(1).mul(lowest).unsqueeze(1).unsqueeze(1);
}

function checkInputs(x: BertInputs, c: BertConfig): void {
  const ids = x.inputIds;
  if (ids.rank !== 2 || ids.dtype !== 'int64') {
    throw new CatkitError('bert_input', `BERT: inputIds must be int64 [batch, seq], got ${ids.dtype} [${ids.shape.join(', ')}]`, { userFacing: false });
  }
  if (ids.shape[1]! > c.maxPositionEmbeddings) {
    throw new CatkitError('bert_input', `BERT: sequence length ${ids.shape[1]} exceeds max_position_embeddings ${c.maxPositionEmbeddings}`);
  }
  for (const [name, t] of [['tokenTypeIds', x.tokenTypeIds], ['attentionMask', x.attentionMask], ['positionIds', x.positionIds]] as const) {
    if (t && t.shape.join() !== ids.shape.join()) {
      throw new CatkitError('bert_input', `BERT: ${name} [${t.shape.join(', ')}] must have inputIds' shape [${ids.shape.join(', ')}]`, { userFacing: false });
    }
  }
}

/** Hugging Face's initialisation: Linear and Embedding weights N(0, initializer_range), biases 0, padding row 0. */
function initBertWeights(m: AnyModule, range: number): void {
  tidy(() => {
    for (const mod of m.modules()) {
      if (mod instanceof Linear) { init.normal_(mod.weight, 0, range); if (mod.bias) init.zeros_(mod.bias); }
      else if (mod instanceof Embedding) {
        init.normal_(mod.weight, 0, range);
        const pad = mod.paddingIdx;
        if (pad !== null) noGrad(() => { mod.weight.select(0, pad).zero_(); });
      }
    }
  });
}

export class BertModel extends Module<BertInputs, BertOutput> {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;
  /** When true, forward also returns every layer's hidden states. */
  outputHiddenStates = false;

  constructor(readonly config: BertConfig, o: { addPoolingLayer?: boolean } = {}) {
    super();
    this.embeddings = this.add('embeddings', new BertEmbeddings(config));
    this.encoder = this.add('encoder', new BertEncoder(config));
    this.pooler = (o.addPoolingLayer ?? true) ? this.add('pooler', new BertPooler(config)) : null;
    initBertWeights(this, config.initializerRange);
  }

  forward(x: BertInputs): BertOutput {
    checkInputs(x, this.config);
    const emb = this.embeddings.forward(x);
    const mask = x.attentionMask ? extendedAttentionMask(x.attentionMask, emb.dtype) : null;
    const collect = this.outputHiddenStates ? [emb] : undefined;
    const last = this.encoder.forward({ hidden: emb, mask, collect });
    let pooled: Tensor | null = null;
    if (this.pooler) {
      this.pooler.setMask(x.attentionMask ?? null);
      try { pooled = this.pooler.forward(last); } finally { this.pooler.setMask(null); }
    }
    return { lastHiddenState: last, pooledOutput: pooled, hiddenStates: collect ?? null };
  }
}

/** BertModel + dropout + Linear on the pooled [CLS] output: logits [B, numLabels]. */
export class BertForSequenceClassification extends Module<BertInputs, Tensor> {
  readonly bert: BertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  constructor(readonly config: BertConfig) {
    super();
    this.bert = this.add('bert', new BertModel(config));
    this.dropout = this.add('dropout', new Dropout(config.classifierDropout ?? config.hiddenDropoutProb));
    this.classifier = this.add('classifier', new Linear(config.hiddenSize, config.labels.length));
    initBertWeights(this.classifier, config.initializerRange);
  }
  get numLabels(): number { return this.config.labels.length; }
  forward(x: BertInputs): Tensor {
    return this.classifier.forward(this.dropout.forward(this.bert.forward(x).pooledOutput!));
  }
}

/** dense → activation → LayerNorm before the vocabulary projection (`cls.predictions.transform`). */
export class BertPredictionHeadTransform extends Module {
  readonly dense: Linear;
  readonly transform_act_fn: Module;
  readonly LayerNorm: LayerNorm;
  constructor(c: BertConfig) {
    super();
    this.dense = this.add('dense', new Linear(c.hiddenSize, c.hiddenSize));
    this.transform_act_fn = this.add('transform_act_fn', activation(c));
    this.LayerNorm = this.add('LayerNorm', new LayerNorm(c.hiddenSize, { eps: c.layerNormEps }));
  }
  forward(x: Tensor): Tensor { return this.LayerNorm.forward(this.transform_act_fn.forward(this.dense.forward(x))); }
}

/**
 * `cls.predictions`: the transform, then a decoder whose weight IS the word-embedding matrix and
 * whose bias IS `cls.predictions.bias` (tied as transformers ties them: one tensor, two names).
 */
export class BertLMPredictionHead extends Module {
  readonly transform: BertPredictionHeadTransform;
  readonly decoder: Linear;
  constructor(c: BertConfig, wordEmbeddings: Tensor) {
    super();
    const decoder = new Linear(c.hiddenSize, c.vocabSize);
    this.registerParameter('bias', zeros([c.vocabSize]));
    this.transform = this.add('transform', new BertPredictionHeadTransform(c));
    decoder.registerParameter('weight', wordEmbeddings);
    decoder.registerParameter('bias', this.param('bias'));
    this.decoder = this.add('decoder', decoder);
  }
  forward(x: Tensor): Tensor { return this.decoder.forward(this.transform.forward(x)); }
}

export class BertOnlyMLMHead extends Module {
  readonly predictions: BertLMPredictionHead;
  constructor(c: BertConfig, wordEmbeddings: Tensor) {
    super();
    this.predictions = this.add('predictions', new BertLMPredictionHead(c, wordEmbeddings));
  }
  forward(x: Tensor): Tensor { return this.predictions.forward(x); }
}

/** BertModel without pooler + the tied MLM head: logits [B, T, vocab]. */
export class BertForMaskedLM extends Module<BertInputs, Tensor> {
  readonly bert: BertModel;
  readonly cls: BertOnlyMLMHead;
  constructor(readonly config: BertConfig) {
    super();
    this.bert = this.add('bert', new BertModel(config, { addPoolingLayer: false }));
    this.cls = this.add('cls', new BertOnlyMLMHead(config, this.bert.embeddings.word_embeddings.weight));
    initBertWeights(this.cls.predictions.transform, config.initializerRange); // the decoder is the (already initialised) embedding
  }
  forward(x: BertInputs): Tensor { return this.cls.forward(this.bert.forward(x).lastHiddenState); }
}

/** State-dict keys that hold a tied copy (saved files may omit them: transformers drops tied duplicates). */
export const TIED_KEYS = ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'] as const;
