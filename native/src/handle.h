// Tensor handles are plain JS numbers indexing a native table of at::Tensor slots.
// Numbers (not Externals with finalizers) keep a tight synchronous training loop from piling up
// pending finalizer records; a generation count in the handle catches use after dispose.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <string>

namespace catkit {

// Stores a tensor and returns its handle. Undefined tensors become null.
Napi::Value Wrap(Napi::Env env, at::Tensor tensor);
// Returns the tensor behind a handle; throws a JS Error naming `what` for non-handles or disposed ones.
at::Tensor& Unwrap(const Napi::Value& value, const char* what);
bool IsHandle(const Napi::Value& value);

Napi::Value Dispose(const Napi::CallbackInfo& info);
Napi::Value IsDisposed(const Napi::CallbackInfo& info);
Napi::Value LiveHandles(const Napi::CallbackInfo& info);

// Turns a C++ exception into a JS Error carrying the op name; torch backtraces are dropped.
[[noreturn]] void Rethrow(Napi::Env env, const std::string& op);

#define CATKIT_GUARD(env, op, body)   \
  try {                               \
    body                              \
  } catch (const Napi::Error&) {      \
    throw;                            \
  } catch (...) {                     \
    ::catkit::Rethrow(env, op);       \
  }

}  // namespace catkit
