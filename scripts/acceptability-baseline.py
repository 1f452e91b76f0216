"""An independent baseline for the CoLA-layout acceptability tasks: logistic regression on hashed
counts of word bigrams (lower-cased, with sentence start/end marks), trained by SGD on train.tsv,
scored with MCC on dev.tsv. numpy only; deterministic (crc32 hashing, seeded order).
It shows whether a task is learnable at all from local word pairs, independently of catkit's BERT.
Usage: python3 scripts/acceptability-baseline.py DIR...   (each DIR holds CoLA-layout train.tsv and dev.tsv,
e.g. from `node scripts/brown-cola-tsv.mjs /tmp/brown-cola`)
"""
import math
import sys
import zlib

import numpy as np

D = 1 << 18  # hashed feature space


def read(path):
    xs, ys = [], []
    with open(path, encoding='utf-8') as f:
        for line in f:
            p = line.rstrip('\n').split('\t')
            xs.append(p[3].lower().split())
            ys.append(int(p[1]))
    return xs, np.array(ys)


def features(words):
    t = ['<s>'] + words + ['</s>']
    return np.array([zlib.crc32(f'{a} {b}'.encode()) % D for a, b in zip(t, t[1:])])


def mcc(pred, gold):
    tp = int(((pred == 1) & (gold == 1)).sum()); tn = int(((pred == 0) & (gold == 0)).sum())
    fp = int(((pred == 1) & (gold == 0)).sum()); fn = int(((pred == 0) & (gold == 1)).sum())
    d = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / d if d else 0.0


def train(xs, ys, epochs=5, lr=0.1, decay=1e-4):
    w, b = np.zeros(D), 0.0
    rng = np.random.default_rng(0)
    rows = [features(x) for x in xs]
    for _ in range(epochs):
        for i in rng.permutation(len(rows)):
            r = rows[i]
            z = max(-30.0, min(30.0, w[r].sum() + b))
            g = 1 / (1 + math.exp(-z)) - ys[i]
            np.add.at(w, r, -lr * g)
            w[r] *= 1 - decay
            b -= lr * g
    return lambda x: int(w[features(x)].sum() + b > 0)


for d in sys.argv[1:]:
    xs, ys = read(f'{d}/train.tsv')
    dx, dy = read(f'{d}/dev.tsv')
    f = train(xs, ys)
    pred = np.array([f(x) for x in dx])
    print(f'{d}: bigram logistic regression, {len(xs)} train / {len(dx)} dev: MCC {mcc(pred, dy):.3f}, accuracy {(pred == dy).mean():.3f}')
