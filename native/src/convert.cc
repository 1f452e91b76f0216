#include "convert.h"
#include "handle.h"
#include <cmath>

namespace catkit {
namespace {

[[noreturn]] void Bad(const Napi::Value& v, const std::string& where, const std::string& expected) {
  throw Napi::TypeError::New(v.Env(), where + ": expected " + expected);
}

int64_t ToInt(const Napi::Value& v, const std::string& where) {
  if (v.IsBigInt()) {
    bool lossless = false;
    int64_t r = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) Bad(v, where, "an int64 (BigInt out of range)");
    return r;
  }
  if (!v.IsNumber()) Bad(v, where, "an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) Bad(v, where, "an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

double ToDouble(const Napi::Value& v, const std::string& where) {
  if (!v.IsNumber()) Bad(v, where, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

Napi::Array ToArray(const Napi::Value& v, const std::string& where) {
  if (!v.IsArray()) Bad(v, where, "an array");
  return v.As<Napi::Array>();
}

}  // namespace

c10::IValue ToIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& where) {
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return ToIValue(v, type->castRaw<c10::OptionalType>()->getElementType(), where);
    case c10::TypeKind::TensorType:
      return Unwrap(v, where.c_str());
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return ToInt(v, where);
    case c10::TypeKind::FloatType:
      return ToDouble(v, where);
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) Bad(v, where, "a boolean");
      return v.As<Napi::Boolean>().Value();
    case c10::TypeKind::NumberType: {  // at::Scalar: keep integers integral so int tensors stay int
      if (v.IsBoolean()) return v.As<Napi::Boolean>().Value();
      if (v.IsBigInt()) return ToInt(v, where);
      double d = ToDouble(v, where);
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.007199254740992e15) return static_cast<int64_t>(d);
      return d;
    }
    case c10::TypeKind::StringType:
      if (!v.IsString()) Bad(v, where, "a string");
      return v.As<Napi::String>().Utf8Value();
    case c10::TypeKind::DeviceObjType:
      if (!v.IsString()) Bad(v, where, "a device string such as 'cpu'");
      return c10::Device(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::ListType: {
      const auto elem = type->castRaw<c10::ListType>()->getElementType();
      Napi::Array a = ToArray(v, where);
      const uint32_t n = a.Length();
      switch (elem->kind()) {
        case c10::TypeKind::IntType:
        case c10::TypeKind::SymIntType: {
          c10::List<int64_t> out;
          out.reserve(n);
          for (uint32_t i = 0; i < n; ++i) out.push_back(ToInt(a.Get(i), where));
          return out;
        }
        case c10::TypeKind::FloatType: {
          c10::List<double> out;
          for (uint32_t i = 0; i < n; ++i) out.push_back(ToDouble(a.Get(i), where));
          return out;
        }
        case c10::TypeKind::BoolType: {
          c10::List<bool> out;
          for (uint32_t i = 0; i < n; ++i) out.push_back(a.Get(i).ToBoolean().Value());
          return out;
        }
        case c10::TypeKind::TensorType: {
          c10::List<at::Tensor> out;
          out.reserve(n);
          for (uint32_t i = 0; i < n; ++i) out.push_back(Unwrap(a.Get(i), where.c_str()));
          return out;
        }
        case c10::TypeKind::OptionalType: {  // Tensor?[] as used by aten::index
          c10::List<c10::optional<at::Tensor>> out;
          for (uint32_t i = 0; i < n; ++i) {
            Napi::Value e = a.Get(i);
            if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
            else out.push_back(Unwrap(e, where.c_str()));
          }
          return out;
        }
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  throw Napi::TypeError::New(v.Env(), where + ": argument type " + type->str() + " is not supported by the binding");
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return Wrap(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isTuple() || v.isList()) {
    std::vector<c10::IValue> items;
    if (v.isTuple()) items = v.toTupleRef().elements().vec();
    else items = v.toListRef().vec();
    Napi::Array out = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, items[i]));
    return out;
  }
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  throw Napi::Error::New(env, "result of type " + v.tagKind() + " is not supported by the binding");
}

}  // namespace catkit
