"""PyTorch side of bench/bert.ts: the torch.nn BERT of test/models/torch_bert.py (Hugging Face layout)
as a sequence classifier, AdamW train steps and eval forwards on one fixed random batch; prints one JSON line.
Usage: pytorch_bert.py THREADS STEPS WARMUP BATCH SEQ LAYERS HIDDEN"""
import os, resource, statistics, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'models'))
from torch_bert import build  # noqa: E402

threads, steps, warmup, batch, seq, layers, hidden = (int(v) for v in sys.argv[1:8])
torch.set_num_threads(threads)
torch.manual_seed(0)
cfg = {'vocab_size': 30522, 'hidden_size': hidden, 'num_hidden_layers': layers, 'num_attention_heads': max(1, hidden // 64),
       'intermediate_size': 4 * hidden, 'max_position_embeddings': 512, 'type_vocab_size': 2, 'layer_norm_eps': 1e-12,
       'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'pad_token_id': 0, 'id2label': {'0': 'a', '1': 'b'}}
model = build(cfg, 'classification')
opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)
ids = torch.randint(1000, 30522, (batch, seq))
types = torch.zeros(batch, seq, dtype=torch.long)
mask = torch.ones(batch, seq, dtype=torch.long)
y = torch.randint(0, 2, (batch,))

train_ms, train_cpu = [], []
model.train()
for i in range(warmup + steps):
    t0, c0 = time.perf_counter(), time.process_time()
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(ids, types, mask)[2], y)
    loss.backward()
    opt.step()
    loss.item()
    if i >= warmup:
        train_ms.append((time.perf_counter() - t0) * 1e3)
        train_cpu.append((time.process_time() - c0) * 1e3)
fwd, fwd_cpu = [], []
model.eval()
with torch.no_grad():
    for i in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        model(ids, types, mask)[2].sum().item()
        if i >= warmup:
            fwd.append((time.perf_counter() - t0) * 1e3)
            fwd_cpu.append((time.process_time() - c0) * 1e3)
print('{"train_ms": %f, "train_cpu_ms": %f, "forward_ms": %f, "forward_cpu_ms": %f, "rss_mb": %f, "threads": %d, "params": %d}' % (
    statistics.median(train_ms), statistics.median(train_cpu), statistics.median(fwd), statistics.median(fwd_cpu),
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, torch.get_num_threads(), sum(p.numel() for p in model.parameters())))
