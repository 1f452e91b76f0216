// The fused CAT activation site, registered as the dispatcher operator catkit::cat_site so the
// generic callOp path reaches it like any ATen op. One reduction pass (min/max) and one
// elementwise pass compute activation (ReLU / ReLU6 / none) → learned clip → round-to-grid, and
// optionally the integer codes, their histogram and the soft-entropy sample; the backward is one
// pass giving the input's gradient (straight-through inside the range, zero where the activation or
// the clip cut) and the clip's PACT gradient. The composite it replaces (src/method/quantize.ts)
// costs about ten passes forward and eight backward per site. Every value and code is computed with
// the same float operations in the same order as that composite, so both give identical bits; the
// clip gradient is a sum in a different order (double accumulation in fixed blocks: deterministic
// for any thread count).
#include <torch/library.h>
#include <torch/csrc/autograd/custom_function.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace catkit {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

enum Pre : int64_t { kPreNone = 0, kPreRelu = 1, kPreRelu6 = 2 };
enum Clip : int64_t { kClipNone = 0, kClipUpper = 1, kClipSymmetric = 2 };
enum Range : int64_t { kRangeTensor = 0, kRangeClip = 1 };

// Elements per block: partial reductions are combined in block order, independent of threads.
constexpr int64_t kBlock = 1 << 15;
constexpr int kLanes = 8;

struct MinMax { double lo, hi; bool nan; };
struct Sums { double up = 0, down = 0; };

#pragma GCC push_options
#pragma GCC optimize("O3")
namespace base {
#include "cat_site_kernels.inc"
}  // namespace base
#pragma GCC target("avx2")
namespace avx2 {
#include "cat_site_kernels.inc"
}  // namespace avx2
#pragma GCC pop_options

// The same kernel from the AVX2 copy when the CPU has it.
const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#define CATKIT_KERNEL(...) (kHasAvx2 ? avx2::__VA_ARGS__ : base::__VA_ARGS__)

template <int V>
using Tag = std::integral_constant<int, V>;

// Calls f(Tag<PRE>, Tag<CLIP>) for the runtime pair, so each combination gets its own loops.
template <typename F>
auto WithModes(int64_t pre, int64_t clip, F&& f) {
  auto byClip = [&](auto preTag) {
    switch (clip) {
      case kClipUpper: return f(preTag, Tag<kClipUpper>{});
      case kClipSymmetric: return f(preTag, Tag<kClipSymmetric>{});
      default: return f(preTag, Tag<kClipNone>{});
    }
  };
  switch (pre) {
    case kPreRelu: return byClip(Tag<kPreRelu>{});
    case kPreRelu6: return byClip(Tag<kPreRelu6>{});
    default: return byClip(Tag<kPreNone>{});
  }
}

int64_t NumBlocks(int64_t n) { return (n + kBlock - 1) / kBlock; }

// Storage offsets (from data_ptr) of logical flat indices of a tensor with these sizes/strides.
std::vector<int64_t> StorageOffsets(const at::Tensor& index, at::IntArrayRef sizes, at::IntArrayRef strides, int64_t numel) {
  const at::Tensor idx = index.to(at::kLong).contiguous();
  const int64_t* p = idx.data_ptr<int64_t>();
  std::vector<int64_t> out(static_cast<size_t>(idx.numel()));
  for (int64_t j = 0; j < idx.numel(); ++j) {
    int64_t rest = p[j];
    TORCH_CHECK(rest >= 0 && rest < numel, "cat_site: sample index ", rest, " is outside the tensor's ", numel, " elements");
    int64_t off = 0;
    for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
      off += (rest % sizes[d]) * strides[d];
      rest /= sizes[d];
    }
    out[static_cast<size_t>(j)] = off;
  }
  return out;
}

class CatSiteFn : public torch::autograd::Function<CatSiteFn> {
 public:
  // Optional tensors go in as c10::optional: Function::apply cannot take undefined tensors.
  static variable_list forward(AutogradContext* ctx, at::Tensor x, const c10::optional<at::Tensor>& clipArg, int64_t pre, int64_t clipMode,
                               int64_t range, int64_t bits, bool quantize, const c10::optional<at::Tensor>& sampleIndex, bool wantCodes,
                               bool wantHistogram, int64_t histogramRows) {
    const at::Tensor clip = clipArg.has_value() ? *clipArg : at::Tensor();
    if (!x.is_non_overlapping_and_dense()) x = x.contiguous();
    const int64_t n = x.numel();
    const int64_t levels = (int64_t{1} << bits) - 1;
    at::Tensor value = at::empty_like(x);
    at::Tensor codes = wantCodes ? at::empty_like(x) : at::empty({0}, x.options());
    at::Tensor histogram = wantHistogram ? at::zeros({levels + 1}, x.options().dtype(at::kLong)) : at::empty({0}, x.options().dtype(at::kLong));
    std::vector<int64_t> offsets;
    if (sampleIndex.has_value()) offsets = StorageOffsets(*sampleIndex, x.sizes(), x.strides(), n);
    at::Tensor sample = at::empty({static_cast<int64_t>(offsets.size())}, x.options());
    double c = 0;
    if (clip.defined()) c = std::abs(clip.item<double>());

    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cat_site", [&] {
      using T = scalar_t;
      const T* px = x.data_ptr<T>();
      T* pv = value.data_ptr<T>();
      const T cT = static_cast<T>(c);
      WithModes(pre, clipMode, [&](auto preTag, auto clipTag) {
        constexpr int PRE = decltype(preTag)::value, CLIP = decltype(clipTag)::value;
        T* ps = sample.data_ptr<T>();
        for (size_t j = 0; j < offsets.size(); ++j) ps[j] = base::Transform<T, PRE, CLIP>(px[offsets[j]], cT);
        if (!quantize || n == 0) {
          at::parallel_for(0, NumBlocks(n), 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
              const int64_t s = b * kBlock, e = std::min(n, s + kBlock);
              CATKIT_KERNEL(ClipBlock<T, PRE, CLIP>)(px + s, pv + s, e - s, cT);
            }
          });
          return 0;
        }
        // The grid, exactly as the composite computes it in T arithmetic.
        T lo, span;
        if (range == kRangeTensor) {
          std::vector<MinMax> parts(static_cast<size_t>(NumBlocks(n)));
          at::parallel_for(0, NumBlocks(n), 1, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
              const int64_t s = b * kBlock, e = std::min(n, s + kBlock);
              parts[static_cast<size_t>(b)] = CATKIT_KERNEL(BlockMinMax<T>)(px + s, e - s);
            }
          });
          MinMax m = parts[0];
          for (const MinMax& p : parts) { m.lo = std::min(m.lo, p.lo); m.hi = std::max(m.hi, p.hi); m.nan = m.nan || p.nan; }
          // min/max commute with the (monotone) activation and clip, so the clipped tensor's range
          // is the transformed input range.
          const T nanT = std::numeric_limits<T>::quiet_NaN();
          lo = m.nan ? nanT : base::Transform<T, PRE, CLIP>(static_cast<T>(m.lo), cT);
          const T hi = m.nan ? nanT : base::Transform<T, PRE, CLIP>(static_cast<T>(m.hi), cT);
          span = hi - lo;
        } else {
          lo = -cT;
          span = clipMode == kClipSymmetric ? cT - lo : cT;
        }
        const T scale = (T(1) / (span > T(0) ? span : T(1))) * static_cast<T>(levels);
        const bool hasLo = range == kRangeTensor || clipMode == kClipSymmetric;
        const bool clamp = range == kRangeClip;
        T* pc = wantCodes ? codes.data_ptr<T>() : nullptr;
        int64_t* ph = wantHistogram ? histogram.data_ptr<int64_t>() : nullptr;
        // The first histogramRows entries of dim 0 are the first rows·stride(0) stored elements
        // (CatSite checks that dim 0 is the outermost in memory when rows are asked for).
        const int64_t counted = histogramRows > 0 && histogramRows < x.size(0) ? histogramRows * x.stride(0) : n;
        std::vector<std::vector<int64_t>> blockHist(wantHistogram ? static_cast<size_t>(NumBlocks(n)) : 0);
        at::parallel_for(0, NumBlocks(n), 1, [&](int64_t b0, int64_t b1) {
          std::vector<T> scratch(pc ? 0 : static_cast<size_t>(kBlock));
          for (int64_t b = b0; b < b1; ++b) {
            const int64_t s = b * kBlock, e = std::min(n, s + kBlock);
            T* cb = pc ? pc + s : scratch.data();
            if (hasLo && clamp) CATKIT_KERNEL(ForwardBlock<T, PRE, CLIP, true, true>)(px + s, pv + s, cb, e - s, cT, lo, scale, static_cast<T>(levels));
            else if (hasLo) CATKIT_KERNEL(ForwardBlock<T, PRE, CLIP, true, false>)(px + s, pv + s, cb, e - s, cT, lo, scale, static_cast<T>(levels));
            else if (clamp) CATKIT_KERNEL(ForwardBlock<T, PRE, CLIP, false, true>)(px + s, pv + s, cb, e - s, cT, lo, scale, static_cast<T>(levels));
            else CATKIT_KERNEL(ForwardBlock<T, PRE, CLIP, false, false>)(px + s, pv + s, cb, e - s, cT, lo, scale, static_cast<T>(levels));
            if (ph) {
              std::vector<int64_t>& h = blockHist[static_cast<size_t>(b)];
              h.assign(static_cast<size_t>(levels + 1), 0);
              for (int64_t i = 0; i < std::min(e, counted) - s; ++i) {
                const T t = cb[i];
                if (!(t >= T(0) && t <= static_cast<T>(levels))) { h.clear(); break; }  // NaN/Inf codes: reported below
                ++h[static_cast<size_t>(t)];
              }
            }
          }
        });
        for (const auto& h : blockHist) {
          TORCH_CHECK(!h.empty(), "cat_site: cannot histogram the codes: the activations hold NaN or Inf");
          for (int64_t k = 0; k <= levels; ++k) ph[k] += h[static_cast<size_t>(k)];
        }
        return 0;
      });
    });

    ctx->save_for_backward({x, clip});
    ctx->saved_data["pre"] = pre;
    ctx->saved_data["clip_mode"] = clipMode;
    ctx->saved_data["offsets"] = at::tensor(at::IntArrayRef(offsets), at::kLong);
    ctx->mark_non_differentiable({codes, histogram});
    return {value, sample, codes, histogram};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& clip = saved[1];
    const int64_t pre = ctx->saved_data["pre"].toInt();
    const int64_t clipMode = ctx->saved_data["clip_mode"].toInt();
    const at::Tensor offsetsT = ctx->saved_data["offsets"].toTensor();
    const int64_t* offsets = offsetsT.data_ptr<int64_t>();
    const int64_t nSample = offsetsT.numel();
    at::Tensor g = grads[0];
    const at::Tensor& gSample = grads[1];
    variable_list out(11);  // one per forward argument
    const bool wantX = ctx->needs_input_grad(0), wantClip = clip.defined() && ctx->needs_input_grad(1);
    if (pre == kPreNone && clipMode == kClipNone && nSample == 0) {  // plain straight-through: the gradient itself
      out[0] = g;
      return out;
    }
    if (!g.strides().equals(x.strides())) g = at::empty_like(x).copy_(g);
    at::Tensor gx = at::empty_like(x);
    const int64_t n = x.numel();
    const double c = clip.defined() ? std::abs(clip.item<double>()) : 0.0;
    double up = 0, down = 0;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cat_site_backward", [&] {
      using T = scalar_t;
      const T* px = x.data_ptr<T>();
      const T* pg = g.data_ptr<T>();
      T* pgx = gx.data_ptr<T>();
      const T cT = static_cast<T>(c);
      WithModes(pre, clipMode, [&](auto preTag, auto clipTag) {
        constexpr int PRE = decltype(preTag)::value, CLIP = decltype(clipTag)::value;
        std::vector<Sums> parts(static_cast<size_t>(NumBlocks(n)));
        at::parallel_for(0, NumBlocks(n), 1, [&](int64_t b0, int64_t b1) {
          for (int64_t b = b0; b < b1; ++b) {
            const int64_t s = b * kBlock, e = std::min(n, s + kBlock);
            parts[static_cast<size_t>(b)] = CATKIT_KERNEL(BackwardBlock<T, PRE, CLIP>)(px + s, pg + s, pgx + s, e - s, cT);
          }
        });
        for (const Sums& p : parts) { up += p.up; down += p.down; }
        // The sample's gradient joins the value's at the sampled elements, before the masks.
        if (nSample > 0 && gSample.defined()) {
          const at::Tensor gs = gSample.contiguous();
          const T* pgs = gs.data_ptr<T>();
          const bool lowerActive = -cT < cT;
          for (int64_t j = 0; j < nSample; ++j) {
            const int64_t o = offsets[j];
            const T v = px[o];
            const T a = base::Activate<T, PRE>(v);
            if (base::Passes<T, PRE, CLIP>(v, a, cT)) pgx[o] = pgx[o] + pgs[j];
            if (CLIP != kClipNone && a > cT) up += pgs[j];
            if (CLIP == kClipSymmetric && a < -cT && lowerActive) down += pgs[j];
          }
        }
        return 0;
      });
    });
    if (wantX) out[0] = gx;
    if (wantClip) {
      // d|c|/dc = sgn(c) (0 at 0), as abs's backward; the clamp's max takes `up`, its min (−|c|) `down`.
      const double v = clip.item<double>();
      const double sgn = v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
      out[1] = at::full({}, sgn == 0 ? 0.0 : sgn * (up - down), clip.options());
    }
    return out;
  }
};

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> CatSite(const at::Tensor& x, const c10::optional<at::Tensor>& clip, int64_t pre,
                                                                    int64_t clipMode, int64_t range, int64_t bits, bool quantize,
                                                                    const c10::optional<at::Tensor>& sampleIndex, bool codes, bool histogram,
                                                                    int64_t histogramRows) {
  TORCH_CHECK(x.device().is_cpu(), "cat_site: CPU tensors only");
  TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble, "cat_site: float32 or float64 input, got ", x.scalar_type());
  TORCH_CHECK(bits >= 1 && bits <= 16, "cat_site: bits must be 1 to 16, got ", bits);
  TORCH_CHECK(pre >= kPreNone && pre <= kPreRelu6 && clipMode >= kClipNone && clipMode <= kClipSymmetric && range >= kRangeTensor && range <= kRangeClip,
              "cat_site: unknown mode");
  const at::Tensor c = clip.has_value() ? *clip : at::Tensor();
  TORCH_CHECK(clipMode == kClipNone || (c.defined() && c.numel() == 1 && c.scalar_type() == x.scalar_type()),
              "cat_site: a clip mode needs a one-element clip of the input's dtype");
  TORCH_CHECK(range == kRangeTensor || clipMode != kClipNone, "cat_site: a clip range needs a clip");
  TORCH_CHECK(quantize || (!codes && !histogram), "cat_site: codes and histograms need quantize");
  TORCH_CHECK(!sampleIndex.has_value() || sampleIndex->dim() == 1, "cat_site: the sample index must be 1-D");
  TORCH_CHECK(histogramRows >= 0, "cat_site: histogram_rows must be >= 0");
  const bool someRows = histogramRows > 0 && x.dim() >= 1 && histogramRows < x.size(0);
  // Rows of dim 0 are a prefix of memory when dim 0 has the largest stride (NCHW and channels-last alike).
  at::Tensor input = x;
  if (someRows) {
    bool outer = input.is_non_overlapping_and_dense();
    for (int64_t d = 1; d < input.dim() && outer; ++d) outer = input.size(d) == 1 || input.stride(d) <= input.stride(0);
    if (!outer) input = input.contiguous();
  }
  const c10::optional<at::Tensor> clipArg = clipMode == kClipNone ? c10::nullopt : c10::optional<at::Tensor>(c);
  const c10::optional<at::Tensor> indexArg = sampleIndex.has_value() && sampleIndex->defined() ? sampleIndex : c10::nullopt;
  auto outs = CatSiteFn::apply(input, clipArg, pre, clipMode, range, bits, quantize, indexArg, codes, histogram, someRows ? histogramRows : 0);
  return {outs[0], outs[1], codes ? outs[2] : at::Tensor(), histogram ? outs[3] : at::Tensor()};
}

}  // namespace
}  // namespace catkit

TORCH_LIBRARY(catkit, m) {
  m.def("cat_site(Tensor x, Tensor? clip, int pre, int clip_mode, int range, int bits, bool quantize, Tensor? sample_index, bool codes, bool histogram, int histogram_rows=0) -> (Tensor, Tensor, Tensor, Tensor)",
        &catkit::CatSite);
}
