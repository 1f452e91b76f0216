// Native bulk path of the bandwidth ledger's coders: histogram + zero-run statistics in one pass, and
// for each job (Huffman, rANS or zero-run with a table fitted in TypeScript) the encode into a complete
// catkit container (header and table bytes from TypeScript, payload, CRC-32) followed by a decode of
// the payload from those container bytes, compared with the input. The TypeScript coders in
// src/codec are the specification: every stream here is byte-identical to theirs (tested), so the
// ledger's numbers are those of the same real, verified streams, at a fraction of the cost.
// No libtorch: plain loops over the codes, run synchronously or on the libuv pool (a Promise).
#include "codec.h"
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace catkit {
namespace {

constexpr uint32_t kRansL = 1u << 23;
constexpr int kRansStates = 4;
constexpr size_t kFourStreamMin = 256;
constexpr int kRunDirect = 16;
constexpr int kRunAlphabet = kRunDirect + 2 * (32 - 4);
constexpr uint64_t kMaxStreamBits = (uint64_t{1} << 31) - 1;

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

// ---------------------------------------------------------------------------------------------------
// Tables, as flat uint32 descriptors written by src/train/native-coding.ts:
//   Huffman: [0, alphabet, single + 1 (0: none), maxLength, encodeTable[alphabet] (code << 5 | length)]
//   rANS:    [1, alphabet, scaleBits, 0, freq[alphabet]]
//   zero-run:[2, alphabet, 0, 0, <runs table>, <literals table>]

struct Table {
  int kind = 0;
  uint32_t alphabet = 0;
  int single = -1;       // Huffman one-symbol code
  int maxLength = 0;     // Huffman
  int scaleBits = 0;     // rANS
  const uint32_t* entries = nullptr;  // encodeTable or freq
  std::vector<uint32_t> cum;          // rANS
  std::unique_ptr<Table> runs, literals;  // zero-run
};

std::unique_ptr<Table> ParseTable(const uint32_t* d, size_t len, size_t& at) {
  if (at + 4 > len) Fail("codec table descriptor truncated");
  auto t = std::make_unique<Table>();
  t->kind = static_cast<int>(d[at]);
  t->alphabet = d[at + 1];
  if (t->alphabet < 1 || t->alphabet > 65536) Fail("codec table: alphabet outside 1…65536");
  if (t->kind == 2) {
    at += 4;
    t->runs = ParseTable(d, len, at);
    t->literals = ParseTable(d, len, at);
    if (t->runs->kind == 2 || t->literals->kind == 2 || t->runs->kind != t->literals->kind) Fail("codec table: bad zero-run inner tables");
    return t;
  }
  if (t->kind != 0 && t->kind != 1) Fail("codec table: unknown kind");
  if (at + 4 + t->alphabet > len) Fail("codec table descriptor truncated");
  t->entries = d + at + 4;
  if (t->kind == 0) {
    t->single = static_cast<int>(d[at + 2]) - 1;
    t->maxLength = static_cast<int>(d[at + 3]);
    if (t->maxLength > 16) Fail("codec table: Huffman code longer than 16 bits");
    for (uint32_t s = 0; s < t->alphabet; ++s) {
      const uint32_t e = t->entries[s], l = e & 31;
      if (static_cast<int>(l) > t->maxLength || (e >> 5) >= (1u << l)) Fail("codec table: bad Huffman entry");
    }
  } else {
    t->scaleBits = static_cast<int>(d[at + 2]);
    if (t->scaleBits < 1 || t->scaleBits > 16) Fail("codec table: rANS scaleBits outside 1…16");
    t->cum.resize(t->alphabet);
    uint64_t sum = 0;
    for (uint32_t s = 0; s < t->alphabet; ++s) { t->cum[s] = static_cast<uint32_t>(sum); sum += t->entries[s]; }
    if (sum != 0 && sum != (uint64_t{1} << t->scaleBits)) Fail("codec table: rANS frequencies do not sum to 2^scaleBits");
  }
  at += 4 + t->alphabet;
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Byte output

struct Bytes {
  std::vector<uint8_t> v;
  void u8(uint8_t b) { v.push_back(b); }
  void varint(uint64_t x) {
    while (x >= 0x80) { v.push_back(static_cast<uint8_t>((x & 0x7f) | 0x80)); x >>= 7; }
    v.push_back(static_cast<uint8_t>(x));
  }
  void append(const uint8_t* p, size_t n) { v.insert(v.end(), p, p + n); }
};

size_t ReadVarint(const uint8_t* p, size_t end, size_t& at) {
  uint64_t x = 0;
  for (int sh = 0; sh < 35; sh += 7) {
    if (at >= end) Fail("varint truncated");
    const uint8_t b = p[at++];
    x |= uint64_t{b & 0x7fu} << sh;
    if (!(b & 0x80)) return static_cast<size_t>(x);
  }
  Fail("varint too long");
}

// CRC-32 (IEEE, reflected 0xEDB88320), slicing-by-8, as src/codec/crc32.ts.
struct CrcTables {
  uint32_t t[8][256];
  CrcTables() {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; ++n)
      for (int k = 1; k < 8; ++k) t[k][n] = t[0][t[k - 1][n] & 0xff] ^ (t[k - 1][n] >> 8);
  }
};
const CrcTables kCrc;

uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t c = ~0u;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint32_t a, b;
    std::memcpy(&a, p + i, 4);
    std::memcpy(&b, p + i + 4, 4);
    a ^= c;
    c = kCrc.t[7][a & 0xff] ^ kCrc.t[6][(a >> 8) & 0xff] ^ kCrc.t[5][(a >> 16) & 0xff] ^ kCrc.t[4][a >> 24] ^
        kCrc.t[3][b & 0xff] ^ kCrc.t[2][(b >> 8) & 0xff] ^ kCrc.t[1][(b >> 16) & 0xff] ^ kCrc.t[0][b >> 24];
  }
  for (; i < n; ++i) c = kCrc.t[0][(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

// LSB-first bit writer into 64-bit words (little-endian hosts only; the addon targets x86-64 / arm64).
struct BitSink {
  std::vector<uint64_t> words;
  uint64_t acc = 0;
  int bits = 0;
  size_t w = 0;
  explicit BitSink(size_t maxBits) : words(maxBits / 64 + 2, 0) {}
  inline void put(uint32_t code, int len) {
    acc |= uint64_t{code} << bits;
    bits += len;
    if (bits >= 64) {
      words[w++] = acc;
      bits -= 64;
      acc = bits ? uint64_t{code} >> (len - bits) : 0;
    }
  }
  uint64_t position() const { return uint64_t{w} * 64 + static_cast<uint64_t>(bits); }
  // Appends ⌈position/8⌉ bytes to `out`.
  void finish(Bytes& out) {
    if (bits > 0) words[w] = acc;
    const size_t nbytes = static_cast<size_t>((position() + 7) / 8);
    out.append(reinterpret_cast<const uint8_t*>(words.data()), nbytes);
  }
};

// ---------------------------------------------------------------------------------------------------
// Huffman (src/codec/huffman.ts): ≥ 256 symbols → varint bit offsets of streams 1…3, then one continuous
// LSB-first bit stream of the four quarters; else one stream. Bit-reversed canonical codes.

inline size_t StreamStart(size_t n, int q) { size_t per = (n + 3) / 4; size_t s = per * static_cast<size_t>(q); return s < n ? s : n; }

template <typename S>
void HuffmanEncode(const S* sym, size_t n, const Table& t, Bytes& out) {
  if (t.single >= 0) {
    for (size_t i = 0; i < n; ++i) if (sym[i] != t.single) Fail("Huffman: symbol without a code in a one-symbol table");
    return;
  }
  const uint32_t* enc = t.entries;
  BitSink sink(n * static_cast<size_t>(t.maxLength > 0 ? t.maxLength : 1) + 64);
  const int streams = n >= kFourStreamMin ? 4 : 1;
  uint64_t offsets[4] = {0, 0, 0, 0};
  uint32_t missing = 0;
  for (int q = 0; q < streams; ++q) {
    offsets[q] = sink.position();
    const size_t from = streams == 1 ? 0 : StreamStart(n, q), to = streams == 1 ? n : StreamStart(n, q + 1);
    size_t i = from;
    // Two codes joined (≤ 32 bits) per put.
    for (; i + 1 < to; i += 2) {
      const uint32_t e1 = enc[sym[i]], e2 = enc[sym[i + 1]];
      const int l1 = e1 & 31, l2 = e2 & 31;
      missing |= static_cast<uint32_t>(l1 == 0) | static_cast<uint32_t>(l2 == 0);
      sink.put((e1 >> 5) | ((e2 >> 5) << l1), l1 + l2);
    }
    for (; i < to; ++i) {
      const uint32_t e = enc[sym[i]];
      missing |= static_cast<uint32_t>((e & 31) == 0);
      sink.put(e >> 5, e & 31);
    }
  }
  if (missing) Fail("Huffman: a symbol has no code in the table");
  if (sink.position() > kMaxStreamBits) Fail("Huffman: stream exceeds 256 MiB; code the tensor in parts");
  for (int q = 1; q < streams; ++q) out.varint(offsets[q]);
  sink.finish(out);
}

struct HuffDecoder {
  std::vector<uint32_t> entries;  // symbol << 5 | length per maxLength-bit pattern
  int log = 0;
  explicit HuffDecoder(const Table& t) : log(t.maxLength) {
    entries.assign(size_t{1} << log, 0);
    for (uint32_t s = 0; s < t.alphabet; ++s) {
      const uint32_t e = t.entries[s];
      const uint32_t l = e & 31;
      if (l == 0) continue;
      for (size_t k = e >> 5; k < entries.size(); k += size_t{1} << l) entries[k] = (s << 5) | l;
    }
  }
};

inline uint64_t Peek(const uint8_t* p, uint64_t pos) {
  uint64_t w;
  std::memcpy(&w, p + (pos >> 3), 8);
  return w >> (pos & 7);
}

// `src` must have 8 readable bytes past `end` (the callers decode from padded copies).
template <typename S>
void HuffmanDecode(const uint8_t* src, size_t start, size_t end, size_t count, const Table& t, S* out) {
  if (t.single >= 0 || t.maxLength == 0) {
    if (end != start) Fail("Huffman: payload bytes for a code that needs none");
    if (t.single < 0 && count > 0) Fail("Huffman: symbols declared but the table codes none");
    for (size_t i = 0; i < count; ++i) out[i] = static_cast<S>(t.single < 0 ? 0 : t.single);
    return;
  }
  const int streams = count >= kFourStreamMin ? 4 : 1;
  uint64_t bounds[5] = {0, 0, 0, 0, 0};
  size_t body = start;
  if (streams == 4) for (int q = 1; q < 4; ++q) bounds[q] = ReadVarint(src, end, body);
  const uint64_t total = uint64_t{end - body} * 8;
  bounds[streams] = total;
  for (int q = 1; q <= streams; ++q) if (bounds[q] < bounds[q - 1] || bounds[q] > total) Fail("Huffman: stream offset out of range");
  if (count > total) Fail("Huffman: more symbols declared than bits");
  const HuffDecoder dec(t);
  const uint32_t* E = dec.entries.data();
  const uint64_t mask = (uint64_t{1} << dec.log) - 1;
  const uint8_t* p = src + body;
  size_t i[4], stop[4];
  uint64_t pos[4];
  for (int q = 0; q < streams; ++q) {
    i[q] = streams == 1 ? 0 : StreamStart(count, q);
    stop[q] = streams == 1 ? count : StreamStart(count, q + 1);
    pos[q] = bounds[q];
  }
  if (streams == 4) {
    // Four independent chains interleaved; three codes of ≤ 16 bits per 57-bit peek. Positions may run
    // past a stream's end only into the next stream or the padding, and are checked below.
    size_t rounds = stop[3] - i[3];
    for (int q = 0; q < 3; ++q) rounds = std::min(rounds, stop[q] - i[q]);
    rounds /= 3;
    for (size_t r = 0; r < rounds; ++r) {
      if (pos[0] > bounds[1] || pos[1] > bounds[2] || pos[2] > bounds[3] || pos[3] > bounds[4]) break;
      for (int q = 0; q < 4; ++q) {
        uint64_t w = Peek(p, pos[q]);
        uint32_t e = E[w & mask];
        out[i[q]] = static_cast<S>(e >> 5);
        uint32_t b = e & 31;
        w >>= b;
        e = E[w & mask];
        out[i[q] + 1] = static_cast<S>(e >> 5);
        b += e & 31;
        w = Peek(p, pos[q] + b);
        e = E[w & mask];
        out[i[q] + 2] = static_cast<S>(e >> 5);
        pos[q] += b + (e & 31);
        i[q] += 3;
      }
    }
  }
  for (int q = 0; q < streams; ++q) {
    const uint64_t limit = bounds[q + 1];
    for (; i[q] < stop[q] && pos[q] <= limit; ++i[q]) {
      const uint32_t e = E[Peek(p, pos[q]) & mask];
      out[i[q]] = static_cast<S>(e >> 5);
      pos[q] += e & 31;
    }
    if (i[q] < stop[q] || pos[q] > limit) Fail("Huffman: stream ends before all symbols are decoded");
    if (q < streams - 1) {
      if (pos[q] != limit) Fail("Huffman: a stream does not end where its successor starts");
    } else {
      if (limit - pos[q] >= 8) Fail("Huffman: unread bytes after the last symbol");
      const uint64_t left = limit - pos[q];
      if (left > 0 && (Peek(p, pos[q]) & ((uint64_t{1} << left) - 1)) != 0) Fail("Huffman: non-zero padding bits");
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// rANS (src/codec/rans.ts): 32-bit states in [2^23, 2^31), byte renormalisation, states i mod 4, coded
// backward; output = the 4 final states (LE u32) then the bytes in decoder order.

// Division by the frequency as a multiply by a rounded-up reciprocal (exact for states < 2^31; the
// classic rANS encoder trick): q = ⌊x·rcp / 2^32⌋ >> shift, x' = x + bias + q·(2^S − f).
struct RansEncSym { uint32_t xmax, rcp, bias, cmpl; int shift; };

template <typename S>
void RansEncode(const S* sym, size_t n, const Table& t, Bytes& out) {
  const int sb = t.scaleBits;
  std::vector<RansEncSym> es(t.alphabet);
  for (uint32_t s = 0; s < t.alphabet; ++s) {
    const uint32_t f = t.entries[s];
    RansEncSym& e = es[s];
    e.xmax = f << (31 - sb);  // 0 for an absent symbol: caught below
    e.cmpl = (1u << sb) - f;
    if (f < 2) {
      e.rcp = ~0u; e.shift = 0; e.bias = t.cum[s] + (1u << sb) - 1;
    } else {
      int sh = 0;
      while (f > (1u << sh)) ++sh;
      e.rcp = static_cast<uint32_t>(((uint64_t{1} << (sh + 31)) + f - 1) / f);
      e.shift = sh - 1;
      e.bias = t.cum[s];
    }
  }
  uint32_t missing = 0;
  for (size_t i = 0; i < n; ++i) missing |= static_cast<uint32_t>(t.entries[sym[i]] == 0);
  if (missing) Fail("rANS: a symbol has no frequency in the table");
  std::vector<uint8_t> buf(2 * n + 16);
  uint8_t* end = buf.data() + buf.size();
  uint8_t* p = end;
  uint32_t x[4] = {kRansL, kRansL, kRansL, kRansL};
  // (p stays ≥ buf + 2 + 2·(symbols left): every symbol takes at most two bytes.)
  auto step = [&](uint32_t& xs, uint32_t s) {
    const RansEncSym& e = es[s];
    uint32_t v = xs;
    // Branch-free renormalisation (x < 2^31: at most two bytes): both candidate bytes are stored below p
    // and p moves by the count; bytes beyond it are overwritten later.
    const uint32_t k = static_cast<uint32_t>(v >= e.xmax) + static_cast<uint32_t>((v >> 8) >= e.xmax);
    p[-1] = static_cast<uint8_t>(v);
    p[-2] = static_cast<uint8_t>(v >> 8);
    p -= k;
    v >>= 8 * k;
    const uint32_t q = static_cast<uint32_t>((uint64_t{v} * e.rcp) >> 32) >> e.shift;
    xs = v + e.bias + q * e.cmpl;
  };
  size_t i = n;
  while (i > 0 && ((i - 1) & 3) != 3) { --i; step(x[i & 3], sym[i]); }
  while (i >= 4) {
    step(x[3], sym[i - 1]);
    step(x[2], sym[i - 2]);
    step(x[1], sym[i - 3]);
    step(x[0], sym[i - 4]);
    i -= 4;
  }
  for (int k = 0; k < kRansStates; ++k)
    for (int b = 0; b < 4; ++b) out.u8(static_cast<uint8_t>(x[k] >> (8 * b)));
  out.append(p, static_cast<size_t>(end - p));
}

template <typename S>
void RansDecode(const uint8_t* src, size_t start, size_t end, size_t count, const Table& t, S* out) {
  if (end - start < 4 * kRansStates) Fail("rANS: shorter than the initial states");
  const int sb = t.scaleBits;
  const uint32_t M = 1u << sb, mask = M - 1;
  // Per slot: the symbol, and its frequency | (slot − cum) << 16 (frequencies ≤ 2^15 here: a 2^16 one
  // would be a one-symbol table at scaleBits 16, which the TypeScript tables refuse).
  std::vector<S> slotSym(M);
  std::vector<uint32_t> slot(M);
  bool any = false;
  for (uint32_t s = 0; s < t.alphabet; ++s) {
    const uint32_t f = t.entries[s], c = t.cum[s];
    if (f) any = true;
    if (f > 0xffff) Fail("rANS: frequency needs more than 16 bits");
    for (uint32_t k = 0; k < f; ++k) { slotSym[c + k] = static_cast<S>(s); slot[c + k] = f | (k << 16); }
  }
  if (!any && count > 0) Fail("rANS: symbols declared but the table codes none");
  uint32_t x[4];
  for (int k = 0; k < 4; ++k) {
    const uint8_t* o = src + start + 4 * k;
    x[k] = uint32_t{o[0]} | (uint32_t{o[1]} << 8) | (uint32_t{o[2]} << 16) | (uint32_t{o[3]} << 24);
    if (x[k] < kRansL || x[k] >= 0x80000000u) Fail("rANS: initial state outside [2^23, 2^31)");
  }
  size_t p = start + 4 * kRansStates, i = 0;
  // Fast loop: a step reads at most 2 bytes, so 8 bytes of headroom cover one round of 4 states.
  if (end >= 8) {
    const size_t fastEnd = end - 8;
    uint32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    for (; i + 4 <= count && p <= fastEnd; i += 4) {
      const uint32_t s0 = x0 & mask, s1 = x1 & mask, s2 = x2 & mask, s3 = x3 & mask;
      const uint32_t e0 = slot[s0], e1 = slot[s1], e2 = slot[s2], e3 = slot[s3];
      out[i] = slotSym[s0]; out[i + 1] = slotSym[s1]; out[i + 2] = slotSym[s2]; out[i + 3] = slotSym[s3];
      x0 = (e0 & 0xffff) * (x0 >> sb) + (e0 >> 16);
      x1 = (e1 & 0xffff) * (x1 >> sb) + (e1 >> 16);
      x2 = (e2 & 0xffff) * (x2 >> sb) + (e2 >> 16);
      x3 = (e3 & 0xffff) * (x3 >> sb) + (e3 >> 16);
      // Branch-free refills (conditional moves): the byte is read either way, the position moves if used.
      auto refill = [&](uint32_t& v) {
        for (int r = 0; r < 2; ++r) {
          const bool need = v < kRansL;
          const uint32_t w = (v << 8) | src[p];
          v = need ? w : v;
          p += need;
        }
      };
      refill(x0); refill(x1); refill(x2); refill(x3);
    }
    x[0] = x0; x[1] = x1; x[2] = x2; x[3] = x3;
  }
  for (; i < count; ++i) {
    uint32_t& v = x[i & 3];
    const uint32_t sl = v & mask, e = slot[sl];
    out[i] = slotSym[sl];
    v = (e & 0xffff) * (v >> sb) + (e >> 16);
    while (v < kRansL) {
      if (p >= end) Fail("rANS: stream ends before all symbols are decoded");
      v = (v << 8) | src[p++];
    }
  }
  if (p != end) Fail("rANS: unread bytes after the last symbol");
  for (int k = 0; k < 4; ++k) if (x[k] != kRansL) Fail("rANS: final state is not the encoder's initial state");
}

template <typename S>
void InnerEncode(const S* sym, size_t n, const Table& t, Bytes& out) {
  if (t.kind == 0) HuffmanEncode(sym, n, t, out); else RansEncode(sym, n, t, out);
}
template <typename S>
void InnerDecode(const uint8_t* src, size_t start, size_t end, size_t count, const Table& t, S* out) {
  if (t.kind == 0) HuffmanDecode(src, start, end, count, t, out); else RansDecode(src, start, end, count, t, out);
}

// ---------------------------------------------------------------------------------------------------
// Zero-run (src/codec/zerorun.ts): (zero run, literal − 1) pairs and a final run; runs ≥ 16 as two
// buckets per octave plus raw extra bits. Payload: varint literal count, varint run-stream bytes, varint
// literal-stream bytes, the two streams, the extra bits.

inline int RunSymbol(uint32_t r) {
  if (r < static_cast<uint32_t>(kRunDirect)) return static_cast<int>(r);
  const int e = 31 - __builtin_clz(r);
  return kRunDirect + 2 * (e - 4) + static_cast<int>((r >> (e - 1)) & 1);
}
inline int RunExtraBits(int s) { return s < kRunDirect ? 0 : ((s - kRunDirect) >> 1) + 3; }

template <typename S>
void ZeroRunEncode(const S* sym, size_t n, const Table& t, Bytes& out) {
  size_t nonZero = 0;
  for (size_t i = 0; i < n; ++i) nonZero += sym[i] != 0;
  std::vector<uint8_t> runs(nonZero + 1);
  std::vector<S> lits(nonZero);
  BitSink extra(64 * (nonZero + 1) + 64);
  size_t k = 0, last = static_cast<size_t>(-1);
  auto run = [&](size_t r) {
    const int rs = RunSymbol(static_cast<uint32_t>(r));
    runs[k] = static_cast<uint8_t>(rs);
    if (rs >= kRunDirect) { const int nb = RunExtraBits(rs); extra.put(static_cast<uint32_t>(r) & ((1u << nb) - 1), nb); }
  };
  uint32_t outside = 0;
  for (size_t i = 0; i < n; ++i) {
    // Branch-free for the common short runs (zeros and literals interleave unpredictably): the token is
    // written at k every time and kept by advancing k on a literal.
    const S s = sym[i];
    const size_t r = i - last - 1;
    const bool lit = s != 0;
    outside |= static_cast<uint32_t>(s >= t.alphabet);
    if (r >= static_cast<size_t>(kRunDirect) && lit) { run(r); lits[k] = static_cast<S>(s - 1); ++k; last = i; continue; }
    if (k < nonZero) { runs[k] = static_cast<uint8_t>(r); lits[k] = static_cast<S>(s - 1); }
    k += lit;
    last = lit ? i : last;
  }
  if (outside) Fail("zero-run: symbol outside the alphabet");
  run(n - last - 1);
  Bytes rb, lb, eb;
  InnerEncode(runs.data(), runs.size(), *t.runs, rb);
  InnerEncode(lits.data(), lits.size(), *t.literals, lb);
  extra.finish(eb);
  out.varint(nonZero);
  out.varint(rb.v.size());
  out.varint(lb.v.size());
  out.append(rb.v.data(), rb.v.size());
  out.append(lb.v.data(), lb.v.size());
  out.append(eb.v.data(), eb.v.size());
}

template <typename S>
void ZeroRunDecode(const uint8_t* src, size_t start, size_t end, size_t count, const Table& t, S* out) {
  size_t at = start;
  const size_t nLit = ReadVarint(src, end, at);
  if (nLit > count) Fail("zero-run: more literals than symbols");
  const size_t runLen = ReadVarint(src, end, at), litLen = ReadVarint(src, end, at);
  if (runLen + litLen > end - at) Fail("zero-run: streams longer than the payload");
  const size_t runStart = at, litStart = at + runLen, extraStart = litStart + litLen;
  std::vector<uint8_t> runs(nLit + 1);
  std::vector<S> lits(nLit);
  InnerDecode(src, runStart, litStart, nLit + 1, *t.runs, runs.data());
  InnerDecode(src, litStart, extraStart, nLit, *t.literals, lits.data());
  const uint64_t extraBits = uint64_t{end - extraStart} * 8;
  uint64_t ep = 0;
  std::memset(out, 0, count * sizeof(S));
  uint64_t pos = 0;
  for (size_t k = 0; k <= nLit; ++k) {
    const int rs = runs[k];
    if (rs >= kRunAlphabet) Fail("zero-run: run symbol out of range");
    if (rs < kRunDirect) {
      pos += static_cast<uint64_t>(rs);
    } else {
      const int nb = RunExtraBits(rs);
      if (ep + static_cast<uint64_t>(nb) > extraBits) Fail("zero-run: extra bits truncated");
      const uint64_t ex = Peek(src + extraStart, ep) & ((uint64_t{1} << nb) - 1);
      ep += static_cast<uint64_t>(nb);
      const int j = rs - kRunDirect, e = (j >> 1) + 4;
      pos += (uint64_t{2} + static_cast<uint64_t>(j & 1)) * (uint64_t{1} << (e - 1)) + ex;
    }
    if (k == nLit) break;
    if (pos >= count) Fail("zero-run: a run passes the end");
    out[pos++] = static_cast<S>(lits[k] + 1);
  }
  if (pos != count) Fail("zero-run: runs and literals do not cover the symbols");
  if (extraBits - ep >= 8) Fail("zero-run: unread extra bytes");
  const uint64_t left = extraBits - ep;
  if (left > 0 && (Peek(src + extraStart, ep) & ((uint64_t{1} << left) - 1)) != 0) Fail("zero-run: non-zero padding bits");
}

// ---------------------------------------------------------------------------------------------------
// Jobs

struct Job {
  std::vector<uint8_t> prefix;    // container header … table bytes (through the table-length varint and table)
  std::vector<uint32_t> desc;     // table descriptor
};
struct JobResult { size_t payload = 0, container = 0; std::vector<uint8_t> bytes; };

template <typename S>
void RunJob(const S* sym, size_t n, const Job& job, bool keep, JobResult& r) {
  size_t at = 0;
  const auto t = ParseTable(job.desc.data(), job.desc.size(), at);
  Bytes payload;
  if (t->kind == 0) HuffmanEncode(sym, n, *t, payload);
  else if (t->kind == 1) RansEncode(sym, n, *t, payload);
  else ZeroRunEncode(sym, n, *t, payload);
  // The container: prefix, varint payload length, payload, CRC-32 of all that (+ 8 bytes of padding
  // for the decoder's 64-bit peeks, not part of the container).
  Bytes c;
  c.v.reserve(job.prefix.size() + payload.v.size() + 32);
  c.append(job.prefix.data(), job.prefix.size());
  c.varint(payload.v.size());
  const size_t payloadStart = c.v.size();
  c.append(payload.v.data(), payload.v.size());
  const size_t payloadEnd = c.v.size();
  const uint32_t crc = Crc32(c.v.data(), payloadEnd);
  for (int b = 0; b < 4; ++b) c.u8(static_cast<uint8_t>(crc >> (8 * b)));
  const size_t size = c.v.size();
  for (int b = 0; b < 8; ++b) c.u8(0);
  // Verify: decode the payload from the container bytes and compare with the input.
  std::vector<S> back(n + 1);
  if (t->kind == 0) HuffmanDecode(c.v.data(), payloadStart, payloadEnd, n, *t, back.data());
  else if (t->kind == 1) RansDecode(c.v.data(), payloadStart, payloadEnd, n, *t, back.data());
  else ZeroRunDecode(c.v.data(), payloadStart, payloadEnd, n, *t, back.data());
  if (n > 0 && std::memcmp(back.data(), sym, n * sizeof(S)) != 0) Fail("round trip failed (decoded symbols differ from the input)");
  r.payload = payload.v.size();
  r.container = size;
  if (keep) { c.v.resize(size); r.bytes = std::move(c.v); }
}

// One pass: histogram over the full symbol range and, if asked, the histogram of zero-run bucket
// symbols (what the adaptive zero-run tables are fitted to; the literal histogram is counts[1…]).
template <typename S>
void Stats(const S* sym, size_t n, uint32_t* counts, uint32_t* runCounts) {
  if (!runCounts) {
    // Four interleaved tables (repeated symbols would stall on one counter).
    constexpr size_t R = sizeof(S) == 1 ? 256 : 65536;
    std::vector<uint32_t> t(sizeof(S) == 1 ? 4 * R : R, 0);
    size_t i = 0;
    if (sizeof(S) == 1) {
      for (; i + 4 <= n; i += 4) { ++t[sym[i]]; ++t[R + sym[i + 1]]; ++t[2 * R + sym[i + 2]]; ++t[3 * R + sym[i + 3]]; }
      for (; i < n; ++i) ++t[sym[i]];
      for (size_t s = 0; s < R; ++s) counts[s] = t[s] + t[R + s] + t[2 * R + s] + t[3 * R + s];
    } else {
      for (; i < n; ++i) ++t[sym[i]];
      for (size_t s = 0; s < R; ++s) counts[s] = t[s];
    }
    return;
  }
  // Zeros count into a spare bin (branch-free: zeros and literals interleave unpredictably).
  uint32_t rc[kRunAlphabet + 1] = {0};
  size_t last = static_cast<size_t>(-1);
  for (size_t i = 0; i < n; ++i) {
    const S s = sym[i];
    ++counts[s];
    const bool lit = s != 0;
    const int rs = RunSymbol(static_cast<uint32_t>(i - last - 1));
    ++rc[lit ? rs : kRunAlphabet];
    last = lit ? i : last;
  }
  ++rc[RunSymbol(static_cast<uint32_t>(n - last - 1))];
  for (int k = 0; k < kRunAlphabet; ++k) runCounts[k] = rc[k];
}

// ---------------------------------------------------------------------------------------------------
// N-API surface

struct Symbols { const void* data = nullptr; size_t n = 0; bool wide = false; };

Symbols GetSymbols(const Napi::Value& v) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), "codec: symbols must be a Uint8Array or Uint16Array");
  const auto ta = v.As<Napi::TypedArray>();
  Symbols s;
  if (ta.TypedArrayType() == napi_uint8_array) s.wide = false;
  else if (ta.TypedArrayType() == napi_uint16_array) s.wide = true;
  else throw Napi::TypeError::New(v.Env(), "codec: symbols must be a Uint8Array or Uint16Array");
  s.n = ta.ElementLength();
  s.data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  return s;
}

std::vector<Job> GetJobs(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "codec: jobs must be an array");
  const auto arr = v.As<Napi::Array>();
  std::vector<Job> jobs(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    const auto o = arr.Get(k).As<Napi::Object>();
    const auto prefix = o.Get("prefix").As<Napi::Uint8Array>();
    const auto desc = o.Get("table").As<Napi::Uint32Array>();
    jobs[k].prefix.assign(prefix.Data(), prefix.Data() + prefix.ElementLength());
    jobs[k].desc.assign(desc.Data(), desc.Data() + desc.ElementLength());
  }
  return jobs;
}

void RunAll(const Symbols& s, const std::vector<Job>& jobs, bool keep, std::vector<JobResult>& out) {
  out.resize(jobs.size());
  for (size_t k = 0; k < jobs.size(); ++k) {
    if (s.wide) RunJob(static_cast<const uint16_t*>(s.data), s.n, jobs[k], keep, out[k]);
    else RunJob(static_cast<const uint8_t*>(s.data), s.n, jobs[k], keep, out[k]);
  }
}

Napi::Value Results(Napi::Env env, std::vector<JobResult>& res) {
  auto arr = Napi::Array::New(env, res.size());
  for (size_t k = 0; k < res.size(); ++k) {
    auto o = Napi::Object::New(env);
    o.Set("payload", Napi::Number::New(env, static_cast<double>(res[k].payload)));
    o.Set("container", Napi::Number::New(env, static_cast<double>(res[k].container)));
    if (!res[k].bytes.empty()) {
      auto b = Napi::Uint8Array::New(env, res[k].bytes.size());
      std::memcpy(b.Data(), res[k].bytes.data(), res[k].bytes.size());
      o.Set("bytes", b);
    }
    arr.Set(static_cast<uint32_t>(k), o);
  }
  return arr;
}

class CodeWorker : public Napi::AsyncWorker {
 public:
  CodeWorker(Napi::Env env, const Napi::Value& symbols, std::vector<Job> jobs)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), jobs_(std::move(jobs)) {
    symbols_ = GetSymbols(symbols);
    ref_ = Napi::Persistent(symbols.As<Napi::Object>());  // keeps the codes alive while the pool reads them
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override {
    try { RunAll(symbols_, jobs_, false, results_); } catch (const std::exception& e) { SetError(e.what()); }
  }
  void OnOK() override { ref_.Reset(); deferred_.Resolve(Results(Env(), results_)); }
  void OnError(const Napi::Error& e) override { ref_.Reset(); deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference ref_;
  Symbols symbols_;
  std::vector<Job> jobs_;
  std::vector<JobResult> results_;
};

}  // namespace

Napi::Value CodecStats(const Napi::CallbackInfo& info) {
  const Symbols s = GetSymbols(info[0]);
  const bool runs = info.Length() > 1 && info[1].ToBoolean();
  const size_t range = s.wide ? 65536 : 256;
  auto counts = Napi::Uint32Array::New(info.Env(), range + (runs ? kRunAlphabet : 0));
  std::memset(counts.Data(), 0, counts.ByteLength());
  uint32_t* rc = runs ? counts.Data() + range : nullptr;
  if (s.wide) Stats(static_cast<const uint16_t*>(s.data), s.n, counts.Data(), rc);
  else Stats(static_cast<const uint8_t*>(s.data), s.n, counts.Data(), rc);
  return counts;
}

Napi::Value CodecEncode(const Napi::CallbackInfo& info) {
  const Symbols s = GetSymbols(info[0]);
  const std::vector<Job> jobs = GetJobs(info[1]);
  const bool keep = info.Length() > 2 && info[2].ToBoolean();
  std::vector<JobResult> res;
  try { RunAll(s, jobs, keep, res); } catch (const std::exception& e) { throw Napi::Error::New(info.Env(), std::string("codec: ") + e.what()); }
  return Results(info.Env(), res);
}

Napi::Value CodecEncodeAsync(const Napi::CallbackInfo& info) {
  auto* w = new CodeWorker(info.Env(), info[0], GetJobs(info[1]));
  const auto p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace catkit
