#include "tensor_io.h"
#include "handle.h"
#include <cstring>

namespace catkit {
namespace {

std::vector<int64_t> ToShape(const Napi::Value& v, const char* where) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(where) + ": shape must be an array");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> shape(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value d = a.Get(i);
    if (!d.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(where) + ": shape entries must be numbers");
    double x = d.As<Napi::Number>().DoubleValue();
    if (x < 0 || x != static_cast<double>(static_cast<int64_t>(x)))
      throw Napi::RangeError::New(v.Env(), std::string(where) + ": shape entries must be non-negative integers");
    shape[i] = static_cast<int64_t>(x);
  }
  return shape;
}

Napi::Array ToJsArray(Napi::Env env, c10::IntArrayRef values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) out.Set(static_cast<uint32_t>(i), static_cast<double>(values[i]));
  return out;
}

}  // namespace

Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "fromBuffer: expected a typed array");
  Napi::TypedArray view = info[0].As<Napi::TypedArray>();
  const auto shape = ToShape(info[1], "fromBuffer");
  const auto dtype = static_cast<at::ScalarType>(info[2].As<Napi::Number>().Int32Value());
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  size_t need = 0;
  CATKIT_GUARD(env, "fromBuffer", { need = static_cast<size_t>(numel) * c10::elementSize(dtype); })
  if (view.ByteLength() != need)
    throw Napi::RangeError::New(env, "fromBuffer: " + std::to_string(view.ByteLength()) + " bytes given, shape needs " +
                                         std::to_string(need));
  at::Tensor t;
  CATKIT_GUARD(env, "fromBuffer", {
    t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (need) std::memcpy(t.data_ptr(), static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset(), need);
  })
  return Wrap(env, std::move(t));
}

Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor t;
  CATKIT_GUARD(env, "toBuffer", { t = Unwrap(info[0], "toBuffer").detach().contiguous(); })
  const size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(out.Data(), t.data_ptr(), bytes);
  return out;
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  return ToJsArray(info.Env(), Unwrap(info[0], "shape").sizes());
}

Napi::Value Strides(const Napi::CallbackInfo& info) {
  return ToJsArray(info.Env(), Unwrap(info[0], "strides").strides());
}

Napi::Value DType(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(Unwrap(info[0], "dtype").scalar_type()));
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = Unwrap(info[0], "item");
  if (t.numel() != 1)
    throw Napi::Error::New(env, "item: tensor has " + std::to_string(t.numel()) + " elements, expected exactly 1");
  double v = 0;
  CATKIT_GUARD(env, "item", { v = t.item<double>(); })
  return Napi::Number::New(env, v);
}

Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  const at::Tensor& t = Unwrap(info[0], "isContiguous");
  const auto fmt = static_cast<at::MemoryFormat>(info[1].As<Napi::Number>().Int32Value());
  return Napi::Boolean::New(info.Env(), t.is_contiguous(fmt));
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Unwrap(info[0], "requiresGrad").requires_grad());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor& t = Unwrap(info[0], "requiresGrad_");
  CATKIT_GUARD(env, "requiresGrad_", { t.requires_grad_(info[1].ToBoolean().Value()); })
  return env.Undefined();
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), Unwrap(info[0], "grad").grad());
}

Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor& t = Unwrap(info[0], "setGrad");
  CATKIT_GUARD(env, "setGrad", {
    if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad().reset();
    else t.mutable_grad() = Unwrap(info[1], "setGrad");
  })
  return env.Undefined();
}

Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor& t = Unwrap(info[0], "backward");
  c10::optional<at::Tensor> gradient;
  if (!info[1].IsNull() && !info[1].IsUndefined()) gradient = Unwrap(info[1], "backward gradient");
  const bool retain = info[2].ToBoolean().Value();
  const bool create = info[3].ToBoolean().Value();
  CATKIT_GUARD(env, "backward", {
    if (!t.requires_grad())
      throw std::runtime_error("tensor does not require grad and has no grad_fn (was it made under noGrad or detached?)");
    if (!gradient && t.numel() != 1)
      throw std::runtime_error("a gradient must be given for a non-scalar tensor of " + std::to_string(t.numel()) + " elements");
    t.backward(gradient.value_or(at::Tensor()), retain, create);
  })
  return env.Undefined();
}

Napi::Value SameStorage(const Napi::CallbackInfo& info) {
  const at::Tensor& a = Unwrap(info[0], "sameStorage");
  const at::Tensor& b = Unwrap(info[1], "sameStorage");
  return Napi::Boolean::New(info.Env(), a.has_storage() && b.has_storage() && a.storage().is_alias_of(b.storage()));
}

}  // namespace catkit
