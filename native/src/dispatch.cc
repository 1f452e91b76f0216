#include "dispatch.h"
#include "convert.h"
#include "handle.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <vector>

namespace catkit {
namespace {

struct ResolvedOp {
  c10::OperatorHandle handle;
  std::string name;  // "aten::conv2d" or "aten::add.Tensor", used in error messages
};

std::vector<ResolvedOp>& Ops() {
  static std::vector<ResolvedOp> ops;
  return ops;
}

}  // namespace

Napi::Value ResolveOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString())
    throw Napi::TypeError::New(env, "resolveOp: expected (name: string, overload: string)");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const std::string overload = info[1].As<Napi::String>().Utf8Value();
  auto found = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!found.has_value())
    throw Napi::Error::New(env, "resolveOp: libtorch has no operator " + name + (overload.empty() ? "" : "." + overload));
  Ops().push_back({*found, overload.empty() ? name : name + "." + overload});
  return Napi::Number::New(env, static_cast<double>(Ops().size() - 1));
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= Ops().size()) throw Napi::RangeError::New(info.Env(), "opSchema: unknown op id");
  return Napi::String::New(info.Env(), c10::toString(Ops()[id].handle.schema()));
}

Napi::Value CallOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsArray()) throw Napi::TypeError::New(env, "callOp: expected (id, args[])");
  const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= Ops().size()) throw Napi::RangeError::New(env, "callOp: unknown op id");
  const ResolvedOp& op = Ops()[id];
  const c10::FunctionSchema& schema = op.handle.schema();
  const auto& params = schema.arguments();
  Napi::Array args = info[1].As<Napi::Array>();
  const uint32_t given = args.Length();
  if (given > params.size())
    throw Napi::TypeError::New(env, op.name + ": " + std::to_string(given) + " arguments given, schema takes " +
                                        std::to_string(params.size()));
  torch::jit::Stack stack;
  stack.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    Napi::Value v = i < given ? args.Get(static_cast<uint32_t>(i)) : env.Undefined();
    if (v.IsUndefined()) {
      if (p.default_value().has_value()) {
        stack.push_back(*p.default_value());
        continue;
      }
      if (p.type()->kind() == c10::TypeKind::OptionalType) {
        stack.emplace_back();
        continue;
      }
      throw Napi::TypeError::New(env, op.name + ": missing argument '" + p.name() + "'");
    }
    // Conversions may raise c10 errors too (e.g. an invalid device string): turn them into JS errors.
    const std::string where = op.name + " argument '" + p.name() + "'";
    CATKIT_GUARD(env, where, { stack.push_back(ToIValue(v, p.type(), where)); })
  }
  CATKIT_GUARD(env, op.name, { op.handle.callBoxed(&stack); })
  if (stack.empty()) return env.Undefined();
  if (stack.size() == 1) return FromIValue(env, stack[0]);
  Napi::Array out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, stack[i]));
  return out;
}

}  // namespace catkit
