// safetensors: bit-exact round trips, byte-level agreement with the spec (headers checked by hand,
// files written and read by an independent python writer/reader), and every malformed-header case
// rejected with a SafetensorsError that names the problem. The python side is ONE oracle call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tensor, tensor, tidy, dispose, manualSeed, randn, type DType } from '../../src/tensor/index.js';
import {
  Sequential, Conv2d, BatchNorm2d, ReLU, AdaptiveAvgPool2d, Flatten, Linear, StateDictError,
  SafetensorsError, encodeSafetensors, decodeSafetensors, saveSafetensors, loadSafetensors,
} from '../../src/nn/index.js';
import { torchOracle, type OracleArray } from '../helpers/torch-oracle.js';
import { assertClose } from '../helpers/assert-close.js';
import { data } from '../helpers/tensor-data.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catkit-st-'));
const pyModelFile = path.join(dir, 'py_model.safetensors');
const pyDtypesFile = path.join(dir, 'py_dtypes.safetensors');
const ourFile = path.join(dir, 'ours.safetensors');
let ref: Record<string, OracleArray>;
const input = data([2, 3, 5, 5], { seed: 7, dtype: 'float32' });

const smallNet = () => new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 2));

/** A file built by hand: u64 LE header length (or `declared`), header text, then data bytes. */
function build(header: unknown, body: Uint8Array = new Uint8Array(0), declared?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}
const f32Bytes = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => decodeSafetensors(bytes), (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${e}`);
    assert.equal(e.name, 'SafetensorsError');
    assert.match(e.message, pattern);
    return true;
  });
}

before(() => {
  // Our encoder's output, for python to read with its own parser.
  const mine = new Map<string, Tensor>([
    ['f32', tensor([1.5, -2, 3.25, 0], [2, 2])],
    ['i64', tensor([-3, 2 ** 40], [2], { dtype: 'int64' })],
    ['u8', tensor([0, 255, 7], [3], { dtype: 'uint8' })],
    ['b', tensor([1, 0, 1], [3], { dtype: 'bool' })],
    ['f64', tensor([Math.PI], [1, 1, 1], { dtype: 'float64' })],
  ]);
  saveSafetensors(ourFile, mine, { format: 'pt', note: 'catkit' });
  dispose(mine);
  ref = torchOracle(`
import struct, json, numpy as np
def write(path, tensors, meta=None):
    header, blobs, off = {}, [], 0
    if meta: header['__metadata__'] = meta
    for name, (code, t) in tensors.items():
        if code == 'BF16': b = t.view(torch.int16).numpy().tobytes()
        else: b = t.contiguous().numpy().tobytes()
        header[name] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h); f.write(b''.join(blobs))

torch.manual_seed(3)
net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                          torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 2))
for _ in range(2): net(torch.randn(4, 3, 5, 5))
net.eval()
write(${JSON.stringify(pyModelFile)}, {k: ('I64' if v.dtype == torch.int64 else 'F32', v) for k, v in net.state_dict().items()})
out['y'] = net(inp['x'].float())

vals = torch.tensor([1.0, -2.5, 65504.0, 1e-3, 3.140625, -0.0])
ints = torch.tensor([-128, -1, 0, 1, 127, 100])
write(${JSON.stringify(pyDtypesFile)}, {
    'f16': ('F16', vals.half()), 'bf16': ('BF16', vals.bfloat16().reshape(2, 3)), 'f64': ('F64', vals.double()),
    'i8': ('I8', ints.to(torch.int8)), 'u8': ('U8', (ints + 128).to(torch.uint8)), 'i16': ('I16', (ints * 200).to(torch.int16)),
    'i32': ('I32', (ints * 100000).to(torch.int32)), 'i64': ('I64', ints.long() * (2 ** 40)), 'b': ('BOOL', ints > 0),
    'scalar': ('F32', torch.tensor(2.5)), 'empty': ('F32', torch.zeros(0, 3)),
}, {'source': 'python'})
for k, v in (('f16', vals.half()), ('bf16', vals.bfloat16()), ('i16', ints * 200), ('i64', ints.double() * 2.0 ** 40)):
    out['v_' + k] = v

# Read our file with a plain reader.
with open(${JSON.stringify(ourFile)}, 'rb') as f: raw = f.read()
n = struct.unpack('<Q', raw[:8])[0]
hdr = json.loads(raw[8:8 + n]); body = raw[8 + n:]
np_types = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'U8': np.uint8, 'BOOL': np.bool_}
for k, e in hdr.items():
    if k == '__metadata__': out['meta'] = json.dumps(e); continue
    a, b = e['data_offsets']
    arr = np.frombuffer(body[a:b], dtype=np_types[e['dtype']]).reshape(e['shape'])
    out['ours_' + k] = torch.from_numpy(arr.astype(np.float64))
out['header_len'] = n
`, { x: input }) as unknown as Record<string, OracleArray>;
});

after(() => { input.dispose(); fs.rmSync(dir, { recursive: true, force: true }); });

test('encoder header checked by hand on a tiny case', () => {
  const bytes = tidy(() => encodeSafetensors(new Map([['a', tensor([1, 2])]])));
  const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  const expected = build(padded, f32Bytes([1, 2]));
  assert.deepEqual([...bytes.subarray(0, 8)], [padded.length, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(Buffer.from(bytes.subarray(8, 8 + padded.length)).toString(), padded);
  assert.deepEqual(bytes, expected);
  assert.equal((8 + padded.length) % 8, 0, 'data starts 8-byte aligned');
});

test('a file written by hand per the spec decodes (metadata, offsets out of name order, scalar, empty)', () => {
  const body = new Uint8Array([...f32Bytes([9]), ...f32Bytes([1, 2, 3, 4])]);
  const bytes = build({
    __metadata__: { k: 'v' },
    m: { dtype: 'F32', shape: [2, 2], data_offsets: [4, 20] },
    s: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
    e: { dtype: 'I64', shape: [0, 5], data_offsets: [20, 20] },
  }, body);
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { k: 'v' });
  assert.deepEqual([...tensors.keys()], ['m', 's', 'e']);
  assert.deepEqual(tensors.get('m')!.toArray(), [1, 2, 3, 4]);
  assert.deepEqual([...tensors.get('m')!.shape], [2, 2]);
  assert.deepEqual([...tensors.get('s')!.shape], []);
  assert.equal(tensors.get('s')!.item(), 9);
  assert.deepEqual([...tensors.get('e')!.shape], [0, 5]);
  assert.equal(tensors.get('e')!.dtype, 'int64');
  dispose(tensors);
});

test('round trip is bit-exact for every dtype, including NaN payloads, -0, ±Inf and int64 extremes', () => {
  const f32 = new Float32Array([NaN, -0, Infinity, -Infinity, 1e-45, 3.4e38]);
  new Uint32Array(f32.buffer)[0] = 0x7fc01234; // a NaN with a payload
  const src = new Map<string, Tensor>([
    ['f32', tensor(f32, [2, 3])],
    ['f64', tensor(new Float64Array([NaN, -0, 5e-324, 1.7976931348623157e308]), [4])],
    ['i64', tensor(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]), [3])],
    ['i32', tensor(new Int32Array([-(2 ** 31), 2 ** 31 - 1]), [2])],
    ['i16', tensor(new Int16Array([-32768, 32767]), [2])],
    ['i8', tensor(new Int8Array([-128, 127]), [2])],
    ['u8', tensor(new Uint8Array([0, 255]), [2])],
    ['bool', tensor([1, 0, 1], [3], { dtype: 'bool' })],
    ['f16', tensor([1, 0.5, 65504], [3]).to('float16')],
    ['chl', tidy(() => randn([2, 3, 4, 5]).toChannelsLast())],
  ]);
  const { tensors, metadata } = decodeSafetensors(encodeSafetensors(src, { epoch: '3' }));
  assert.deepEqual(metadata, { epoch: '3' });
  for (const [k, t] of src) {
    const u = tensors.get(k)!;
    assert.equal(u.dtype, t.dtype, k);
    assert.deepEqual([...u.shape], [...t.shape], k);
    const a = t.dataSync(), b = u.dataSync();
    assert.deepEqual(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), new Uint8Array(a.buffer, a.byteOffset, a.byteLength), `${k} bytes`);
  }
  dispose(src); dispose(tensors);
});

test('a module state dict written by python (by hand, per spec) loads and reproduces torch\'s eval output', () => {
  const net = smallNet().eval();
  net.load(pyModelFile);
  assert.equal(net.at<BatchNorm2d>(1).buffer('num_batches_tracked').item(), 2);
  tidy(() => assertClose(net.forward(input), ref.y!, { rtol: 1e-5, atol: 1e-6 }, 'eval output'));
  net.dispose();
});

test('python-written F16, BF16 (→ float32), I8, U8, I16, I32, I64, BOOL, F64, scalar and empty tensors decode exactly', () => {
  const { tensors, metadata } = loadSafetensors(pyDtypesFile);
  assert.deepEqual(metadata, { source: 'python' });
  const dt = Object.fromEntries([...tensors].map(([k, t]) => [k, t.dtype]));
  assert.deepEqual(dt, { f16: 'float16', bf16: 'float32', f64: 'float64', i8: 'int8', u8: 'uint8', i16: 'int16', i32: 'int32', i64: 'int64', b: 'bool', scalar: 'float32', empty: 'float32' } as Record<string, DType>);
  tidy(() => assert.deepEqual(tensors.get('f16')!.float().toArray(), ref.v_f16.data));
  assert.deepEqual([...tensors.get('bf16')!.shape], [2, 3]);
  assert.deepEqual(tensors.get('bf16')!.toArray(), ref.v_bf16.data);
  assert.deepEqual(tensors.get('f64')!.toArray(), [1, -2.5, 65504, Math.fround(1e-3), 3.140625, -0]);
  assert.deepEqual(tensors.get('i8')!.toArray(), [-128, -1, 0, 1, 127, 100]);
  assert.deepEqual(tensors.get('u8')!.toArray(), [0, 127, 128, 129, 255, 228]);
  assert.deepEqual(tensors.get('i16')!.toArray(), ref.v_i16.data);
  assert.deepEqual(tensors.get('i32')!.toArray(), [-12800000, -100000, 0, 100000, 12700000, 10000000]);
  assert.deepEqual(tensors.get('i64')!.toArray(), ref.v_i64.data);
  assert.deepEqual(tensors.get('b')!.toArray(), [0, 0, 0, 1, 1, 1]);
  assert.equal(tensors.get('scalar')!.item(), 2.5);
  assert.deepEqual([...tensors.get('empty')!.shape], [0, 3]);
  dispose(tensors);
});

test('a plain python reader recovers every tensor and the metadata from our file', () => {
  assert.equal((8 + (ref.header_len as unknown as number)) % 8, 0);
  assert.deepEqual(JSON.parse(ref.meta as unknown as string), { format: 'pt', note: 'catkit' });
  assert.deepEqual(ref.ours_f32, { shape: [2, 2], data: [1.5, -2, 3.25, 0] });
  assert.deepEqual(ref.ours_i64, { shape: [2], data: [-3, 2 ** 40] });
  assert.deepEqual(ref.ours_u8.data, [0, 255, 7]);
  assert.deepEqual(ref.ours_b.data, [1, 0, 1]);
  assert.deepEqual(ref.ours_f64, { shape: [1, 1, 1], data: [Math.PI] });
});

test('Module.save/load round trip is bit-exact and the write is atomic (no temp file left)', () => {
  manualSeed(9);
  const a = smallNet().toChannelsLast(), b = smallNet();
  tidy(() => { a.forward(randn([3, 3, 5, 5])); }); // move BN running stats off their defaults
  const file = path.join(dir, 'model.safetensors');
  fs.writeFileSync(file, 'old contents');
  a.save(file, { arch: 'small' });
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
  b.load(file);
  tidy(() => {
    const sa = a.stateDict(), sb = b.stateDict();
    for (const [k, t] of sa) assert.deepEqual(sb.get(k)!.dataSync(), t.dataSync(), k);
  });
  assert.deepEqual(loadSafetensors(file).metadata, { arch: 'small' });
  a.dispose();
  // A file for another architecture fails with the file named and all keys listed.
  const other = new Sequential(new Linear(3, 3));
  assert.throws(() => other.load(file), (e: unknown) => e instanceof StateDictError && e.message.includes(file) && e.unexpected.length === 7 && e.missing.length === 0 && e.mismatched.length === 2);
  other.dispose(); b.dispose();
});

test('saveSafetensors into a missing directory throws and leaves nothing behind', () => {
  const t = tensor([1]);
  assert.throws(() => saveSafetensors(path.join(dir, 'no', 'such', 'x.safetensors'), new Map([['t', t]])), /ENOENT/);
  assert.throws(() => encodeSafetensors(new Map([['__metadata__', t]])), /'__metadata__' is reserved/);
  t.dispose();
  assert.throws(() => encodeSafetensors(new Map([['t', t]])), /Tensor is disposed/);
});

test('loadSafetensors names the file in errors', () => {
  const bad = path.join(dir, 'bad.safetensors');
  fs.writeFileSync(bad, new Uint8Array([1, 2, 3]));
  assert.throws(() => loadSafetensors(bad), (e: unknown) => e instanceof SafetensorsError && e.message.startsWith(`${bad}: safetensors: file is 3 bytes`));
});

test('header length problems: too short, beyond the file, absurdly large', () => {
  expectError(new Uint8Array(5), /file is 5 bytes, too short for the 8-byte header length/);
  expectError(build({}, new Uint8Array(0), 1000n), /header length 1000 exceeds the 2 bytes after the length field/);
  expectError(build({}, new Uint8Array(0), 2n ** 63n), /header length 9223372036854775808 exceeds/);
});

test('header content problems: bad JSON, not an object, invalid UTF-8, bad metadata', () => {
  expectError(build('{"a": {"dtype": "F32",'), /header is not valid UTF-8 JSON/);
  expectError(build('[1, 2]'), /header must be a JSON object/);
  const badUtf8 = build('{"a" }');
  badUtf8[10] = 0xff;
  expectError(badUtf8, /not valid UTF-8 JSON/);
  expectError(build({ __metadata__: { a: 1 } }), /__metadata__ 'a' must be a string, got 1/);
  expectError(build({ __metadata__: [] }), /__metadata__ must be an object of strings/);
  expectError(build({ t: 5 }), /tensor 't': entry must be an object/);
});

test('tensor entry problems: unknown dtype, bad shapes, bad offsets', () => {
  const one = (entry: object, body = f32Bytes([1, 2])) => build({ t: entry }, body);
  expectError(one({ dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 8] }), /tensor 't': unsupported dtype 'F8_E4M3'/);
  expectError(one({ dtype: 7, shape: [2], data_offsets: [0, 8] }), /tensor 't': dtype must be a string/);
  expectError(one({ dtype: 'F32', shape: [-2], data_offsets: [0, 8] }), /tensor 't': shape \[-2\] must hold non-negative integers/);
  expectError(one({ dtype: 'F32', shape: [1.5], data_offsets: [0, 8] }), /tensor 't': shape \[1.5\] must hold non-negative integers/);
  expectError(one({ dtype: 'F32', shape: '2', data_offsets: [0, 8] }), /tensor 't': shape must be an array/);
  expectError(one({ dtype: 'F32', shape: [3], data_offsets: [0, 8] }), /tensor 't': shape \[3\] as F32 needs 12 bytes but data_offsets span 8/);
  expectError(one({ dtype: 'F32', shape: [2], data_offsets: [0, 16] }), /tensor 't': data_offsets \[0, 16\] run past the 8 data bytes/);
  expectError(one({ dtype: 'F32', shape: [2], data_offsets: [8, 0] }), /tensor 't': data_offsets \[8,0\] must be integers with 0 <= begin <= end/);
  expectError(one({ dtype: 'F32', shape: [2], data_offsets: [0] }), /tensor 't': data_offsets must be \[begin, end\]/);
  expectError(one({ dtype: 'F32', shape: [2], data_offsets: [0, 8.5] }), /must be integers/);
  expectError(one({ dtype: 'F32', shape: [2 ** 60, 2 ** 60], data_offsets: [0, 8] }), /shape \[[0-9,]+\] must hold non-negative integers|needs/);
  expectError(one({ dtype: 'BOOL', shape: [8], data_offsets: [0, 8] }), /tensor 't': BOOL element 2 holds 128/);
});

test('data layout problems: overlap, hole, trailing bytes', () => {
  const body = f32Bytes([1, 2, 3, 4]);
  expectError(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, body),
    /tensor 'b' data \[4, 12\) overlaps tensor 'a'/);
  expectError(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, body),
    /tensor 'b' data starts at 12, leaving a hole after byte 8/);
  expectError(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, body), /tensor data covers 8 bytes but the file holds 16/);
});

test('every truncation of a valid file gives a SafetensorsError, never a crash or a wrong tensor', () => {
  const full = tidy(() => encodeSafetensors(new Map([['w', randn([3, 4])], ['n', tensor([5], [], { dtype: 'int64' })]]), { a: 'b' }));
  for (let len = 0; len < full.length; len++) {
    assert.throws(() => decodeSafetensors(full.subarray(0, len)), (e: unknown) => e instanceof SafetensorsError, `prefix of ${len} bytes`);
  }
});

test('random mutations either decode or throw SafetensorsError', () => {
  const full = tidy(() => encodeSafetensors(new Map([['w', randn([2, 3])], ['b', tensor([1, 0], [2], { dtype: 'bool' })]])));
  let seed = 12345;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  let rejected = 0;
  for (let i = 0; i < 400; i++) {
    const m = full.slice();
    for (let k = 0, flips = 1 + rnd(3); k < flips; k++) m[rnd(m.length)] = rnd(256);
    try { dispose(decodeSafetensors(m).tensors); } catch (e) { assert.ok(e instanceof SafetensorsError, `mutation ${i}: ${e}`); rejected++; }
  }
  assert.ok(rejected > 0);
});
