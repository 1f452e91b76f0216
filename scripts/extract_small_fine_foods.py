#!/usr/bin/env python3
"""Extracts modeldata's `small_fine_foods` (Amazon fine-food reviews labelled great/other, MIT) from
Debian's r-cran-modeldata without R: the package's lazy-load database is an index (`Rdata.rdx`,
gzip) of blocks in `Rdata.rdb`, each a 4-byte big-endian length, a type byte ('Z' = xz) and a raw
LZMA2 stream holding R's XDR serialization of one object. This reads the index, decodes the
`training_data` and `testing_data` blocks and walks the serialization (data.frame of character
columns plus a factor), then writes data/small_fine_foods/{train,test}.jsonl.gz, one
{"product", "review", "label"} object per line, in the package's row order.

Usage: python3 scripts/extract_small_fine_foods.py [MODELDATA_DATA_DIR] [OUT_DIR]
Stdlib only; every length read is checked against the bytes that remain.
"""
import gzip
import json
import lzma
import os
import struct
import sys

DEFAULT_DIR = '/usr/lib/R/site-library/modeldata/data'
MAX_BLOCK = 64 << 20

NILVALUE, GLOBALENV, UNBOUND, MISSINGARG, BASENAMESPACE, EMPTYENV, BASEENV = 254, 253, 252, 251, 250, 242, 241
REFSXP, ALTREP = 255, 238


class Reader:
    def __init__(self, data):
        self.b = data
        self.i = 0
        self.refs = []

    def take(self, n):
        if n < 0 or self.i + n > len(self.b):
            raise ValueError(f'R serialization truncated at byte {self.i} (wanted {n})')
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def int(self):
        return struct.unpack('>i', self.take(4))[0]

    def length(self):
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def header(self):
        if self.take(2) != b'X\n':
            raise ValueError('not an XDR R serialization (expected "X\\n")')
        version = self.int()
        self.int()
        self.int()
        if version == 3:
            self.take(self.int())  # native encoding name
        elif version != 2:
            raise ValueError(f'serialization version {version} is not supported')

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if t == NILVALUE:
            return None
        if t in (GLOBALENV, UNBOUND, MISSINGARG, BASENAMESPACE, EMPTYENV, BASEENV):
            return ('special', t)
        if t == REFSXP:
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            return self.refs[idx - 1]
        if t == 1:  # SYMSXP
            sym = ('sym', self.item())
            self.refs.append(sym)
            return sym
        if t in (2, 6, 17, 5):  # LISTSXP, LANGSXP, DOTSXP, PROMSXP: attr?, tag?, car, cdr
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            cell = {'tag': tag[1] if isinstance(tag, tuple) and tag[0] == 'sym' else None, 'car': car, 'attr': attr}
            rest = cdr if isinstance(cdr, list) else ([] if cdr is None else [cdr])
            return [cell] + rest
        if t == 4:  # ENVSXP
            env = {'env': True}
            self.refs.append(env)
            self.int()
            for _ in range(4):
                self.item()
            return env
        if t == 9:  # CHARSXP
            n = self.int()
            return None if n == -1 else self.take(n).decode('utf-8', 'replace')
        if t in (10, 13):  # LGLSXP, INTSXP
            n = self.length()
            vals = list(struct.unpack(f'>{n}i', self.take(4 * n)))
            return self.attrs({'type': 'int', 'data': vals}, has_attr)
        if t == 14:  # REALSXP
            n = self.length()
            return self.attrs({'type': 'real', 'data': list(struct.unpack(f'>{n}d', self.take(8 * n)))}, has_attr)
        if t == 16:  # STRSXP
            n = self.length()
            return self.attrs({'type': 'str', 'data': [self.item() for _ in range(n)]}, has_attr)
        if t in (19, 20):  # VECSXP, EXPRSXP
            n = self.length()
            return self.attrs({'type': 'list', 'data': [self.item() for _ in range(n)]}, has_attr)
        if t == ALTREP:
            info, state, attr = self.item(), self.item(), self.item()
            cls = info[0]['car'][1] if isinstance(info, list) else None
            if cls == 'compact_intseq':
                n, start, step = state['data']
                data = [int(start + k * step) for k in range(int(n))]
                return {'type': 'int', 'data': data, 'attr': attr}
            if cls and cls.startswith('wrap_'):
                inner = state['data'][0]
                return dict(inner, attr=attr)
            raise ValueError(f'ALTREP class {cls} is not supported')
        raise ValueError(f'R type {t} at byte {self.i} is not supported')

    def attrs(self, obj, has_attr):
        obj['attr'] = self.item() if has_attr else None
        return obj


def attr(obj, name):
    for cell in obj.get('attr') or []:
        if cell['tag'] == name:
            return cell['car']
    return None


def unserialize(data):
    r = Reader(data)
    r.header()
    return r.item()


def data_frame(obj):
    names = attr(obj, 'names')['data']
    cols = {}
    for name, col in zip(names, obj['data']):
        levels = attr(col, 'levels')
        cols[name] = [levels['data'][v - 1] for v in col['data']] if levels else col['data']
    return cols


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), '..', 'data', 'small_fine_foods')
    with gzip.open(os.path.join(src, 'Rdata.rdx')) as f:
        index = unserialize(f.read(1 << 20))
    top = dict(zip(attr(index, 'names')['data'], index['data']))
    variables = dict(zip(attr(top['variables'], 'names')['data'], top['variables']['data']))
    with open(os.path.join(src, 'Rdata.rdb'), 'rb') as f:
        rdb = f.read()
    os.makedirs(out, exist_ok=True)
    for var, split in (('training_data', 'train'), ('testing_data', 'test')):
        offset, size = variables[var]['data']
        block = rdb[offset:offset + size]
        if len(block) != size or size < 5:
            raise ValueError(f'{var}: block [{offset}, {offset + size}) runs past Rdata.rdb')
        ulen = struct.unpack('>I', block[:4])[0]
        if block[4:5] != b'Z' or ulen > MAX_BLOCK:
            raise ValueError(f'{var}: expected an xz block under {MAX_BLOCK} bytes, got type {block[4:5]!r}, {ulen} bytes')
        dec = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[{'id': lzma.FILTER_LZMA2, 'preset': 9 | lzma.PRESET_EXTREME}])
        raw = dec.decompress(block[5:], max_length=ulen)
        if len(raw) != ulen:
            raise ValueError(f'{var}: decoded {len(raw)} bytes, the block declares {ulen}')
        cols = data_frame(unserialize(raw))
        rows = [{'product': p, 'review': r, 'label': s} for p, r, s in zip(cols['product'], cols['review'], cols['score'])]
        path = os.path.join(out, f'{split}.jsonl.gz')
        # mtime 0: the same input gives byte-identical output
        with open(path, 'wb') as raw_f, gzip.GzipFile(fileobj=raw_f, mode='wb', mtime=0, filename='') as g:
            for row in rows:
                g.write((json.dumps(row, ensure_ascii=False) + '\n').encode('utf-8'))
        counts = {k: sum(1 for r in rows if r['label'] == k) for k in ('great', 'other')}
        print(f'{split}: {len(rows)} reviews {counts} -> {path}')


if __name__ == '__main__':
    main()
