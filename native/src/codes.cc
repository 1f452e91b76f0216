// Quantization codes (integer-valued float tensors from catkit::cat_site, often channels-last) straight
// into a JS Uint8Array / Uint16Array in logical NCHW order: one pass that converts and transposes,
// instead of a dtype conversion, a contiguous copy and a copy into JS memory.
#include "codec.h"
#include "handle.h"
#include <ATen/ATen.h>
#include <algorithm>
#include <cstring>

namespace catkit {
namespace {

template <typename T, typename S>
void ChannelsLastToPlanar(const T* src, S* dst, int64_t N, int64_t C, int64_t HW) {
  // Tiles of 32 positions × 64 channels: contiguous reads of 64 channels, 32-element runs of writes.
  constexpr int64_t TP = 32, TC = 64;
  for (int64_t n = 0; n < N; ++n) {
    const T* s = src + n * HW * C;
    S* d = dst + n * C * HW;
    for (int64_t p0 = 0; p0 < HW; p0 += TP) {
      const int64_t p1 = std::min(HW, p0 + TP);
      for (int64_t c0 = 0; c0 < C; c0 += TC) {
        const int64_t c1 = std::min(C, c0 + TC);
        for (int64_t c = c0; c < c1; ++c)
          for (int64_t p = p0; p < p1; ++p) d[c * HW + p] = static_cast<S>(s[p * C + c]);
      }
    }
  }
}

template <typename S>
void Fill(const at::Tensor& t, S* out) {
  const int64_t n = t.numel();
  AT_DISPATCH_ALL_TYPES(t.scalar_type(), "codesToArray", [&] {
    if (t.dim() == 4 && !t.is_contiguous() && t.is_contiguous(at::MemoryFormat::ChannelsLast)) {
      ChannelsLastToPlanar(t.data_ptr<scalar_t>(), out, t.size(0), t.size(1), t.size(2) * t.size(3));
    } else {
      const at::Tensor c = t.contiguous();
      const scalar_t* p = c.data_ptr<scalar_t>();
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<S>(p[i]);
    }
  });
}

}  // namespace

Napi::Value CodesToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool wide = info[1].ToBoolean();
  at::Tensor t;
  CATKIT_GUARD(env, "codesToArray", { t = Unwrap(info[0], "codesToArray").detach(); })
  const size_t n = static_cast<size_t>(t.numel());
  if (wide) {
    auto out = Napi::Uint16Array::New(env, n);
    CATKIT_GUARD(env, "codesToArray", { Fill(t, out.Data()); })
    return out;
  }
  auto out = Napi::Uint8Array::New(env, n);
  CATKIT_GUARD(env, "codesToArray", { Fill(t, out.Data()); })
  return out;
}

}  // namespace catkit
