#!/usr/bin/env python3
"""Converts OpenCV's digits.png into the committed IDX fixture data/digits/*.gz (run once).

digits.png is a 2000x1000 8-bit grey PNG: 50 rows x 100 columns of 20x20 cells, 5 consecutive
rows per digit 0..9. Samples are numbered row-major over the grid (cell (r, c) -> r*100 + c,
label r // 5), the order OpenCV's own digits.py uses.

Needs only python3 + numpy: the PNG is decoded here with zlib (no PIL on the build machines).
Prints the checksums recorded in data/digits/README.md and asserted by test/data/digits.test.ts.

Usage: python3 scripts/make-digits-fixture.py [PNG] [OUT_DIR]
"""
import gzip
import hashlib
import os
import struct
import sys
import zlib

import numpy as np

DEFAULT_PNG = '/usr/share/doc/opencv-doc/examples/data/digits.png'
CELL, COLS, ROWS, CLASSES = 20, 100, 50, 10


def read_chunks(data):
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit('not a PNG file')
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack('>I', data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise SystemExit(f'PNG chunk {kind!r} fails its CRC')
        yield kind, body
        pos += 12 + length


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def unfilter_row(kind, row, prev):
    """Reverses one PNG scanline filter (1 byte per pixel: grey, 8-bit)."""
    out = row.astype(np.int64)
    if kind == 0:
        pass
    elif kind == 1:  # Sub: running sum along the row
        out = np.cumsum(out) % 256
    elif kind == 2:  # Up
        out = (out + prev) % 256
    elif kind == 3:  # Average: depends on the already-decoded left pixel, so loop
        for x in range(len(out)):
            left = out[x - 1] if x else 0
            out[x] = (out[x] + (left + prev[x]) // 2) % 256
    elif kind == 4:  # Paeth
        for x in range(len(out)):
            left = out[x - 1] if x else 0
            up_left = prev[x - 1] if x else 0
            out[x] = (out[x] + paeth(int(left), int(prev[x]), int(up_left))) % 256
    else:
        raise SystemExit(f'unknown PNG filter type {kind}')
    return out


def decode_grey_png(path):
    data = open(path, 'rb').read()
    idat = bytearray()
    width = height = None
    for kind, body in read_chunks(data):
        if kind == b'IHDR':
            width, height, depth, colour, _comp, _filt, interlace = struct.unpack('>IIBBBBB', body)
            if (depth, colour, interlace) != (8, 0, 0):
                raise SystemExit(f'expected 8-bit grey non-interlaced PNG, got depth {depth} colour {colour} interlace {interlace}')
        elif kind == b'IDAT':
            idat += body
    raw = np.frombuffer(zlib.decompress(bytes(idat)), dtype=np.uint8)
    if raw.size != height * (width + 1):
        raise SystemExit(f'PNG data holds {raw.size} bytes, expected {height * (width + 1)}')
    rows = raw.reshape(height, width + 1)
    image = np.zeros((height, width), dtype=np.int64)
    prev = np.zeros(width, dtype=np.int64)
    for y in range(height):
        prev = unfilter_row(int(rows[y, 0]), rows[y, 1:], prev)
        image[y] = prev
    return image.astype(np.uint8)


def idx_bytes(magic_type, dims, payload):
    header = struct.pack('>BBBB', 0, 0, magic_type, len(dims)) + b''.join(struct.pack('>I', d) for d in dims)
    return header + payload


def write_gz(path, content):
    # mtime=0 and no file name in the header: the fixture is byte-identical on every run.
    with open(path, 'wb') as raw:
        with gzip.GzipFile(filename='', mode='wb', compresslevel=9, fileobj=raw, mtime=0) as gz:
            gz.write(content)


def main():
    png = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PNG
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), '..', 'data', 'digits')
    image = decode_grey_png(png)
    if image.shape != (ROWS * CELL, COLS * CELL):
        raise SystemExit(f'expected a {COLS * CELL}x{ROWS * CELL} image, got {image.shape[1]}x{image.shape[0]}')

    # Checksums from the whole PNG image, before any re-tiling: the fixture must reproduce them.
    png_sum = int(image.astype(np.int64).sum())
    png_sha = hashlib.sha256(image.tobytes()).hexdigest()

    cells = image.reshape(ROWS, CELL, COLS, CELL).transpose(0, 2, 1, 3).reshape(ROWS * COLS, CELL, CELL)
    labels = np.repeat(np.arange(CLASSES, dtype=np.uint8), ROWS * COLS // CLASSES)

    # Undo the tiling independently of the reshape above, to check it.
    retiled = np.zeros_like(image)
    for i in range(ROWS * COLS):
        r, c = divmod(i, COLS)
        retiled[r * CELL:(r + 1) * CELL, c * CELL:(c + 1) * CELL] = cells[i]
    assert hashlib.sha256(retiled.tobytes()).hexdigest() == png_sha

    images_payload = cells.astype(np.uint8).tobytes()
    labels_payload = labels.tobytes()
    os.makedirs(out_dir, exist_ok=True)
    write_gz(os.path.join(out_dir, 'digits-images-idx3-ubyte.gz'), idx_bytes(0x08, [ROWS * COLS, CELL, CELL], images_payload))
    write_gz(os.path.join(out_dir, 'digits-labels-idx1-ubyte.gz'), idx_bytes(0x08, [ROWS * COLS], labels_payload))

    print(f'png sha256 of pixels (2000x1000 row-major): {png_sha}')
    print(f'pixel sum: {png_sum}')
    print(f'images payload sha256 (5000x20x20 sample order): {hashlib.sha256(images_payload).hexdigest()}')
    print(f'labels payload sha256: {hashlib.sha256(labels_payload).hexdigest()}')
    for name in ('digits-images-idx3-ubyte.gz', 'digits-labels-idx1-ubyte.gz'):
        path = os.path.join(out_dir, name)
        print(f'{name}: {os.path.getsize(path)} bytes, sha256 {hashlib.sha256(open(path, "rb").read()).hexdigest()}')


if __name__ == '__main__':
    main()
