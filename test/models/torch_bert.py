"""An independent BERT in plain torch.nn with Hugging Face parameter names (no transformers package
exists here), used as the parity reference for catkit's BERT and as the PyTorch side of bench/bert.ts.

CLI (parity): python3 torch_bert.py CONFIG.json WEIGHTS.safetensors INPUTS.safetensors HEAD DTYPE [grad]
prints JSON {name: {shape, data}} with every hidden state, the pooled output and the head's logits;
with `grad` (classification head): the gradient of the mean cross-entropy against INPUTS' `labels`
for every parameter, by name (train mode, so the model's dropout must be 0).
The safetensors reader/writer is a few lines of stdlib + torch (the safetensors package is not installed).
"""
import json
import math
import struct
import sys

import torch
import torch.nn as nn

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8, 'F16': torch.float16}


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, end = e['data_offsets']
        buf = bytearray(raw[8 + n + b:8 + n + end])
        t = torch.frombuffer(buf, dtype=DTYPES[e['dtype']]) if buf else torch.zeros(0, dtype=DTYPES[e['dtype']])
        out[name] = t.reshape(e['shape']).clone()
    return out


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class GeluErf(nn.Module):
    def forward(self, x):
        return gelu_erf(x)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.word_embeddings = nn.Embedding(c['vocab_size'], h, padding_idx=c.get('pad_token_id', 0))
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], h)
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c['layer_norm_eps'])
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, ids, types):
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.word_embeddings(ids) + self.token_type_embeddings(types) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c['hidden_size']
        self.heads = c['num_attention_heads']
        self.d = h // self.heads
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        self.dropout = nn.Dropout(c['attention_probs_dropout_prob'])

    def forward(self, x, keep):
        b, t, h = x.shape
        # einsum over explicit head axes (catkit uses view/permute/matmul): the same math, written differently
        q = self.query(x).reshape(b, t, self.heads, self.d)
        k = self.key(x).reshape(b, t, self.heads, self.d)
        v = self.value(x).reshape(b, t, self.heads, self.d)
        scores = torch.einsum('bqhd,bkhd->bhqk', q, k) / math.sqrt(self.d)
        if keep is not None:
            scores = scores.masked_fill(~keep[:, None, None, :], float('-inf'))
        probs = self.dropout(torch.softmax(scores, dim=-1))
        return torch.einsum('bhqk,bkhd->bqhd', probs, v).reshape(b, t, h)


class ResidualOutput(nn.Module):
    def __init__(self, n_in, c):
        super().__init__()
        self.dense = nn.Linear(n_in, c['hidden_size'])
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])

    def forward(self, x, res):
        return self.LayerNorm(self.dropout(self.dense(x)) + res)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = ResidualOutput(c['hidden_size'], c)

    def forward(self, x, keep):
        return self.output(self.self(x, keep), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['intermediate_size'])
        self.act = GeluErf()

    def forward(self, x):
        return self.act(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = ResidualOutput(c['intermediate_size'], c)

    def forward(self, x, keep):
        a = self.attention(x, keep)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c['num_hidden_layers'])])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class Bert(nn.Module):
    def __init__(self, c, pooler=True):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c) if pooler else None

    def forward(self, ids, types, mask):
        keep = None if mask is None else mask.bool()
        hs = [self.embeddings(ids, types)]
        for layer in self.encoder.layer:
            hs.append(layer(hs[-1], keep))
        return hs, (self.pooler(hs[-1]) if self.pooler is not None else None)


class ForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Bert(c)
        self.dropout = nn.Dropout(c['hidden_dropout_prob'])
        self.classifier = nn.Linear(c['hidden_size'], len(c.get('id2label', {'0': 0, '1': 1})))

    def forward(self, ids, types, mask):
        hs, pooled = self.bert(ids, types, mask)
        return hs, pooled, self.classifier(self.dropout(pooled))


class Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['hidden_size'])
        self.act = GeluErf()
        self.LayerNorm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])

    def forward(self, x):
        return self.LayerNorm(self.act(self.dense(x)))


class Predictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = Transform(c)
        self.bias = nn.Parameter(torch.zeros(c['vocab_size']))

    def forward(self, x, emb):
        return torch.nn.functional.linear(self.transform(x), emb, self.bias)  # decoder tied to the embeddings


class MLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = Predictions(c)


class ForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Bert(c, pooler=False)
        self.cls = MLMHead(c)

    def forward(self, ids, types, mask):
        hs, _ = self.bert(ids, types, mask)
        return hs, None, self.cls.predictions(hs[-1], self.bert.embeddings.word_embeddings.weight)


def build(c, head):
    if head == 'classification':
        return ForSequenceClassification(c)
    if head == 'mlm':
        return ForMaskedLM(c)
    return Bert(c)


def main():
    cfg_path, weights, inputs, head, dtype = sys.argv[1:6]
    c = json.load(open(cfg_path))
    torch.set_num_threads(1)
    model = build(c, head)
    sd = read_safetensors(weights)
    # strict load by name, except the tied decoder copies the reference does not hold as separate tensors
    sd = {k: v for k, v in sd.items() if not k.startswith('cls.predictions.decoder.')}
    model.load_state_dict(sd, strict=True)
    model = model.to(getattr(torch, dtype)).eval()
    x = read_safetensors(inputs)
    if len(sys.argv) > 6 and sys.argv[6] == 'grad':
        model.train()
        _, _, logits = model(x['input_ids'], x['token_type_ids'], x.get('attention_mask'))
        torch.nn.functional.cross_entropy(logits, x['labels']).backward()
        grads = {k: p.grad for k, p in model.named_parameters()}
        json.dump({k: {'shape': list(v.shape), 'data': v.double().reshape(-1).tolist()} for k, v in grads.items()}, sys.stdout)
        return
    with torch.no_grad():
        out = model(x['input_ids'], x['token_type_ids'], x.get('attention_mask'))
    hs, pooled = (out[0], out[1]) if head != 'base' else out
    res = {f'hidden_{i}': h for i, h in enumerate(hs)}
    if pooled is not None:
        res['pooled'] = pooled
    if head != 'base':
        res['logits'] = out[2]
    json.dump({k: {'shape': list(v.shape), 'data': v.double().reshape(-1).tolist()} for k, v in res.items()}, sys.stdout)


if __name__ == '__main__':
    main()
