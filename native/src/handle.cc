#include "handle.h"
#include "external_memory.h"
#include <c10/util/Exception.h>
#include <cmath>
#include <deque>
#include <vector>

namespace catkit {
namespace {

// handle = generation * kSlots + index, exact in a double up to 2^53.
constexpr double kSlots = 4294967296.0;  // 2^32

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 0;
  int64_t accountedBytes = 0;  // counted for V8's GC (external_memory.cc)
  uint32_t index = 0;
  bool alive = false;
};

std::deque<Slot> gSlots;  // a deque never moves slots, so references from Unwrap stay valid
std::vector<uint32_t> gFree;
int64_t gLive = 0;

Slot* Lookup(const Napi::Value& value) {
  if (!value.IsNumber()) return nullptr;
  const double h = value.As<Napi::Number>().DoubleValue();
  if (!(h >= 0) || h != std::floor(h) || h >= 9007199254740992.0) return nullptr;
  const double gen = std::floor(h / kSlots);
  const double index = h - gen * kSlots;
  if (index >= static_cast<double>(gSlots.size())) return nullptr;
  Slot& s = gSlots[static_cast<size_t>(index)];
  return static_cast<double>(s.generation) == gen ? &s : nullptr;
}

}  // namespace

Napi::Value Wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  uint32_t index;
  if (!gFree.empty()) {
    index = gFree.back();
    gFree.pop_back();
  } else {
    index = static_cast<uint32_t>(gSlots.size());
    gSlots.emplace_back();
    gSlots.back().index = index;
  }
  Slot& s = gSlots[index];
  s.tensor = std::move(tensor);
  s.alive = true;
  // Views share storage: count only tensors that own their storage uniquely.
  if (s.tensor.has_storage() && s.tensor.storage().use_count() == 1) {
    s.accountedBytes = static_cast<int64_t>(s.tensor.storage().nbytes());
    if (s.accountedBytes) AccountTensorBytes(env, s.accountedBytes);
  }
  ++gLive;
  return Napi::Number::New(env, static_cast<double>(s.generation) * kSlots + index);
}

bool IsHandle(const Napi::Value& value) { return Lookup(value) != nullptr; }

at::Tensor& Unwrap(const Napi::Value& value, const char* what) {
  Slot* s = Lookup(value);
  if (s == nullptr) {
    if (value.IsNumber()) throw Napi::Error::New(value.Env(), std::string(what) + ": Tensor is disposed");
    throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a tensor handle");
  }
  return s->tensor;
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Slot* s = Lookup(info[0]);
  if (s == nullptr) return env.Undefined();  // disposing twice is harmless
  s->tensor.reset();
  s->alive = false;
  if (s->accountedBytes) AccountTensorBytes(env, -s->accountedBytes);
  s->accountedBytes = 0;
  ++s->generation;  // old handle numbers now miss
  gFree.push_back(s->index);
  --gLive;
  return env.Undefined();
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Lookup(info[0]) == nullptr);
}

Napi::Value LiveHandles(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(gLive));
}

void Rethrow(Napi::Env env, const std::string& op) {
  try {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, op + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, op + ": " + e.what());
  } catch (...) {
    throw Napi::Error::New(env, op + ": unknown native error");
  }
}

}  // namespace catkit
