#include "distributed.h"
#include "handle.h"

#ifdef CATKIT_WITH_GLOO
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <ATen/core/ivalue.h>
#include <ATen/core/grad_mode.h>
#include <chrono>
#include <map>
#include <memory>

namespace catkit {
namespace {

using Clock = std::chrono::steady_clock;

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  int rank = 0;
  int world = 1;
  std::chrono::milliseconds timeout{60000};
};
// Never freed at exit on purpose: ~ProcessGroupGloo joins Gloo's worker threads, which may still
// wait on a dead peer. DistDestroy releases it explicitly at the end of a healthy run.
Group* gGroup = nullptr;
bool gInitPending = false;

Group& Require(Napi::Env env, const char* what) {
  if (gGroup == nullptr) throw Napi::Error::New(env, std::string(what) + ": no process group; call init first");
  return *gGroup;
}

std::string ErrorText() {
  try {
    throw;
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown native error";
  }
}

struct InitOptions {
  int rank = 0, world = 1;
  std::string store;  // "file" | "tcp"
  std::string path, host;
  int port = 0;
  int64_t initTimeoutMs = 60000, timeoutMs = 60000;
  std::string iface, deviceHost;  // how Gloo picks the address its pairs listen on
};

// Rendezvous blocks until every rank has joined, so it runs on libuv's thread pool.
class InitWorker : public Napi::AsyncWorker {
 public:
  InitWorker(Napi::Env env, InitOptions o)
      : Napi::AsyncWorker(env, "catkit-dist-init"), o_(std::move(o)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      const auto initTimeout = std::chrono::milliseconds(o_.initTimeoutMs);
      c10::intrusive_ptr<c10d::Store> store;
      if (o_.store == "file") {
        store = c10::make_intrusive<c10d::FileStore>(o_.path, o_.world);
      } else {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(o_.port);
        so.isServer = o_.rank == 0;
        so.numWorkers = static_cast<std::size_t>(o_.world);
        so.waitWorkers = true;
        so.timeout = initTimeout;
        store = c10::make_intrusive<c10d::TCPStore>(o_.host, so);
      }
      store->setTimeout(initTimeout);
      auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(o_.timeoutMs));
      if (!o_.iface.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(o_.iface));
      else if (!o_.deviceHost.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o_.deviceHost));
      else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      opts->threads = 2;
      auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o_.rank, o_.world, opts);
      group_ = new Group{store, pg, o_.rank, o_.world, std::chrono::milliseconds(o_.timeoutMs)};
    } catch (...) {
      SetError(ErrorText());
    }
  }
  void OnOK() override {
    gInitPending = false;
    gGroup = group_;
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    gInitPending = false;
    deferred_.Reject(e.Value());
  }

 private:
  InitOptions o_;
  Napi::Promise::Deferred deferred_;
  Group* group_ = nullptr;
};

// One in-flight collective over tensors of one dtype, flattened into one buffer when needed.
struct Pending {
  std::string what;
  std::vector<at::Tensor> targets;
  at::Tensor flat;
  bool copyBack = false;
  std::string error;
  Napi::Promise::Deferred deferred;
  explicit Pending(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

std::vector<at::Tensor> TensorList(const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected an array of tensor handles");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(Unwrap(a.Get(i), what));
  if (out.empty()) throw Napi::RangeError::New(v.Env(), std::string(what) + ": no tensors given");
  for (const auto& t : out) {
    if (t.scalar_type() != out[0].scalar_type())
      throw Napi::TypeError::New(v.Env(), std::string(what) + ": all tensors of one call must share a dtype");
  }
  return out;
}

at::Tensor Flatten(Pending& p) {
  at::NoGradGuard ng;
  if (p.targets.size() == 1 && p.targets[0].is_contiguous()) return p.targets[0].detach().view({-1});
  std::vector<at::Tensor> parts;
  parts.reserve(p.targets.size());
  for (const auto& t : p.targets) parts.push_back(t.detach().reshape({-1}));
  p.copyBack = true;
  return at::cat(parts);
}

void CopyBack(Pending& p) {
  if (!p.copyBack) return;
  at::NoGradGuard ng;
  int64_t offset = 0;
  for (auto& t : p.targets) {
    const int64_t n = t.numel();
    t.detach().copy_(p.flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

// Completion arrives on a Gloo thread; the copy back and the resolve happen on the main thread.
Napi::Value Complete(Napi::Env env, std::unique_ptr<Pending> owned, const c10::intrusive_ptr<c10d::Work>& work) {
  Pending* p = owned.release();
  Napi::Promise promise = p->deferred.Promise();
  auto noop = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
  auto tsfn = Napi::ThreadSafeFunction::New(env, noop, p->what, 0, 1);
  work->getFuture()->addCallback([tsfn, p](c10::ivalue::Future& f) mutable {
    if (f.hasError()) p->error = f.tryRetrieveErrorMessage();
    tsfn.BlockingCall(p, [](Napi::Env env, Napi::Function, Pending* p) {
      std::unique_ptr<Pending> own(p);
      if (!p->error.empty()) {
        p->deferred.Reject(Napi::Error::New(env, p->what + ": " + p->error).Value());
        return;
      }
      try {
        CopyBack(*p);
      } catch (...) {
        p->deferred.Reject(Napi::Error::New(env, p->what + ": " + ErrorText()).Value());
        return;
      }
      p->deferred.Resolve(env.Undefined());
    });
    tsfn.Release();
  });
  return promise;
}

c10d::ReduceOp ParseOp(const Napi::Value& v) {
  const std::string op = v.IsString() ? v.As<Napi::String>().Utf8Value() : "sum";
  if (op == "sum") return c10d::ReduceOp(c10d::ReduceOp::SUM);
  if (op == "max") return c10d::ReduceOp(c10d::ReduceOp::MAX);
  if (op == "min") return c10d::ReduceOp(c10d::ReduceOp::MIN);
  if (op == "product") return c10d::ReduceOp(c10d::ReduceOp::PRODUCT);
  throw Napi::RangeError::New(v.Env(), "allreduce: op must be sum, max, min or product, got '" + op + "'");
}

// ---- gradient synchronisation -------------------------------------------------------------

// Buckets of gradients in reverse parameter order (the order backward produces them). A bucket
// is allreduced as soon as it and every earlier bucket are full, so launches happen in the same
// order on every rank; whatever backward did not fill is launched after it, in order.
struct GradSync {
  struct Slot {
    int bucket = 0;
    int64_t offset = 0, numel = 0;
    bool got = false;
  };
  struct Bucket {
    at::Tensor flat;
    std::vector<int> members;
    int pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };
  std::vector<at::Tensor> params;
  std::vector<unsigned> hooks;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  at::Tensor used;  // per parameter: 1 where this rank produced a gradient, summed over ranks in finish
  size_t nextLaunch = 0;
  bool overlap = true;
  bool armed = false;
  int launchedInBackward = 0;

  void Reset() {
    for (auto& s : slots) s.got = false;
    for (auto& b : buckets) {
      b.pending = static_cast<int>(b.members.size());
      b.work.reset();
    }
    nextLaunch = 0;
    launchedInBackward = 0;
  }
  void Launch(size_t i) {
    Bucket& b = buckets[i];
    at::NoGradGuard ng;
    for (int m : b.members) {
      if (!slots[m].got) b.flat.narrow(0, slots[m].offset, slots[m].numel).zero_();
    }
    std::vector<at::Tensor> v{b.flat};
    b.work = gGroup->pg->allreduce(v);
  }
  void LaunchReady() {
    while (nextLaunch < buckets.size() && buckets[nextLaunch].pending == 0) {
      Launch(nextLaunch++);
      ++launchedInBackward;
    }
  }
  void OnGrad(int i, const at::Tensor& grad) {
    if (!armed || gGroup == nullptr || !grad.defined()) return;
    Slot& s = slots[i];
    Bucket& b = buckets[s.bucket];
    at::NoGradGuard ng;
    auto dst = b.flat.narrow(0, s.offset, s.numel);
    if (s.got) {  // a second backward into the same step accumulates
      dst.add_(grad.reshape({-1}));
      return;
    }
    dst.copy_(grad.reshape({-1}));
    s.got = true;
    if (--b.pending == 0 && overlap) LaunchReady();
  }
};

std::map<int, std::unique_ptr<GradSync>> gSyncs;
int gNextSync = 1;

GradSync& FindSync(const Napi::CallbackInfo& info, const char* what) {
  const int id = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  auto it = gSyncs.find(id);
  if (it == gSyncs.end()) throw Napi::Error::New(info.Env(), std::string(what) + ": unknown or disposed gradient sync");
  return *it->second;
}

}  // namespace

Napi::Value DistAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), true); }

Napi::Value DistInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (gGroup != nullptr || gInitPending) throw Napi::Error::New(env, "init: this process already has a process group");
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "init: expected an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  auto str = [&](const char* k) { return o.Has(k) && o.Get(k).IsString() ? o.Get(k).As<Napi::String>().Utf8Value() : std::string(); };
  auto num = [&](const char* k, double d) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : d; };
  InitOptions io;
  io.rank = static_cast<int>(num("rank", -1));
  io.world = static_cast<int>(num("worldSize", 0));
  io.store = str("store");
  io.path = str("path");
  io.host = str("host");
  io.port = static_cast<int>(num("port", 0));
  io.initTimeoutMs = static_cast<int64_t>(num("initTimeoutMs", 60000));
  io.timeoutMs = static_cast<int64_t>(num("timeoutMs", 60000));
  io.iface = str("iface");
  io.deviceHost = str("deviceHost");
  if (io.world < 1 || io.rank < 0 || io.rank >= io.world)
    throw Napi::RangeError::New(env, "init: need 0 <= rank < worldSize, got rank " + std::to_string(io.rank) + " of " + std::to_string(io.world));
  if (io.store != "file" && io.store != "tcp") throw Napi::RangeError::New(env, "init: store must be 'file' or 'tcp'");
  if (io.store == "file" && io.path.empty()) throw Napi::RangeError::New(env, "init: a file store needs a path");
  if (io.store == "tcp" && (io.host.empty() || io.port < 1 || io.port > 65535))
    throw Napi::RangeError::New(env, "init: a TCP store needs a host and a port in 1..65535");
  auto* w = new InitWorker(env, std::move(io));
  Napi::Promise p = w->Promise();
  gInitPending = true;
  w->Queue();
  return p;
}

Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  gSyncs.clear();
  delete gGroup;
  gGroup = nullptr;
  return info.Env().Undefined();
}

Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = Require(env, "broadcast");
  auto p = std::make_unique<Pending>(env);
  p->what = "broadcast";
  p->targets = TensorList(info[0], "broadcast");
  const int root = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (root < 0 || root >= g.world) throw Napi::RangeError::New(env, "broadcast: root rank out of range");
  c10::intrusive_ptr<c10d::Work> work;
  CATKIT_GUARD(env, "broadcast", {
    p->flat = Flatten(*p);
    std::vector<at::Tensor> v{p->flat};
    c10d::BroadcastOptions bo;
    bo.rootRank = root;
    work = g.pg->broadcast(v, bo);
  })
  return Complete(env, std::move(p), work);
}

Napi::Value DistAllreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = Require(env, "allreduce");
  auto p = std::make_unique<Pending>(env);
  p->what = "allreduce";
  p->targets = TensorList(info[0], "allreduce");
  c10d::AllreduceOptions ao;
  ao.reduceOp = ParseOp(info[1]);
  c10::intrusive_ptr<c10d::Work> work;
  CATKIT_GUARD(env, "allreduce", {
    p->flat = Flatten(*p);
    std::vector<at::Tensor> v{p->flat};
    work = g.pg->allreduce(v, ao);
  })
  return Complete(env, std::move(p), work);
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Group& g = Require(env, "barrier");
  auto p = std::make_unique<Pending>(env);
  p->what = "barrier";
  c10::intrusive_ptr<c10d::Work> work;
  CATKIT_GUARD(env, "barrier", { work = g.pg->barrier(); })
  return Complete(env, std::move(p), work);
}

Napi::Value GradSyncCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Require(env, "gradSync");
  auto params = TensorList(info[0], "gradSync");
  const double cap = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 25.0 * (1 << 20);
  const double firstCap = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 1.0 * (1 << 20);
  auto gs = std::make_unique<GradSync>();
  gs->overlap = info[3].IsBoolean() ? info[3].As<Napi::Boolean>().Value() : true;
  gs->params = params;
  gs->slots.resize(params.size());
  CATKIT_GUARD(env, "gradSync", {
    std::vector<int64_t> sizes;
    double bytes = 0;
    for (int i = static_cast<int>(params.size()) - 1; i >= 0; --i) {
      if (!params[i].requires_grad()) throw Napi::Error::New(env, "gradSync: parameter " + std::to_string(i) + " does not require grad");
      const double nb = static_cast<double>(params[i].numel()) * params[i].element_size();
      const double limit = gs->buckets.size() <= 1 ? firstCap : cap;
      const bool dtypeChange = !gs->buckets.empty() && params[gs->buckets.back().members[0]].scalar_type() != params[i].scalar_type();
      if (gs->buckets.empty() || dtypeChange || (bytes > 0 && bytes + nb > limit)) {
        gs->buckets.emplace_back();
        sizes.push_back(0);
        bytes = 0;
      }
      auto& s = gs->slots[i];
      s.bucket = static_cast<int>(gs->buckets.size()) - 1;
      s.offset = sizes.back();
      s.numel = params[i].numel();
      sizes.back() += s.numel;
      bytes += nb;
      gs->buckets.back().members.push_back(i);
    }
    for (size_t b = 0; b < gs->buckets.size(); ++b) {
      const auto& first = params[gs->buckets[b].members[0]];
      gs->buckets[b].flat = at::zeros({sizes[b]}, at::TensorOptions().dtype(first.scalar_type()).device(first.device()));
    }
    GradSync* raw = gs.get();
    for (size_t i = 0; i < params.size(); ++i) {
      const int idx = static_cast<int>(i);
      gs->hooks.push_back(params[i].register_hook([raw, idx](const at::Tensor& grad) { raw->OnGrad(idx, grad); }));
    }
    gs->used = at::zeros({static_cast<int64_t>(params.size())}, at::TensorOptions().dtype(at::kFloat));
    gs->Reset();
  })
  const int id = gNextSync++;
  const int buckets = static_cast<int>(gs->buckets.size());
  gSyncs[id] = std::move(gs);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", id);
  out.Set("buckets", buckets);
  return out;
}

Napi::Value GradSyncPrepare(const Napi::CallbackInfo& info) {
  GradSync& gs = FindSync(info, "gradSync.prepare");
  gs.Reset();
  gs.armed = true;
  return info.Env().Undefined();
}

// Blocks the main thread until every bucket is reduced (the step is synchronous; decoding
// workers keep running). Throws the first communication error, e.g. a peer that died.
Napi::Value GradSyncFinish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GradSync& gs = FindSync(info, "gradSync.finish");
  Group& g = Require(env, "gradSync.finish");
  gs.armed = false;
  const int inBackward = gs.launchedInBackward;
  double waitMs = 0;
  try {
    while (gs.nextLaunch < gs.buckets.size()) gs.Launch(gs.nextLaunch++);
    // Which parameters got a gradient on any rank: a rank whose batch was empty, or that did not
    // use a parameter another rank used, still applies the same averaged gradient; a parameter
    // no rank used keeps no gradient (the optimizer skips it, as in a single process).
    {
      at::NoGradGuard ng;
      auto acc = gs.used.accessor<float, 1>();
      for (size_t i = 0; i < gs.slots.size(); ++i) acc[i] = gs.slots[i].got ? 1.f : 0.f;
    }
    std::vector<at::Tensor> usedList{gs.used};
    auto usedWork = g.pg->allreduce(usedList);
    const auto t0 = Clock::now();
    for (auto& b : gs.buckets) b.work->wait(g.timeout);
    usedWork->wait(g.timeout);
    waitMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    at::NoGradGuard ng;
    const double inv = 1.0 / g.world;
    auto usedBy = gs.used.accessor<float, 1>();
    for (auto& b : gs.buckets) {
      b.flat.mul_(inv);
      for (int m : b.members) {
        if (usedBy[m] == 0.f) continue;
        const auto& s = gs.slots[m];
        at::Tensor& param = gs.params[m];
        auto avg = b.flat.narrow(0, s.offset, s.numel).view(param.sizes());
        if (param.grad().defined()) param.mutable_grad().copy_(avg);
        else param.mutable_grad() = avg.clone();
      }
    }
  } catch (...) {
    const std::string msg = ErrorText();
    gs.Reset();
    throw Napi::Error::New(env, "allreduce of gradients: " + msg);
  }
  gs.Reset();
  Napi::Object out = Napi::Object::New(env);
  out.Set("buckets", static_cast<double>(gs.buckets.size()));
  out.Set("launchedDuringBackward", inBackward);
  out.Set("waitMs", waitMs);
  return out;
}

Napi::Value GradSyncDispose(const Napi::CallbackInfo& info) {
  const int id = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  auto it = gSyncs.find(id);
  if (it != gSyncs.end()) {
    for (size_t i = 0; i < it->second->params.size(); ++i) it->second->params[i].remove_hook(it->second->hooks[i]);
    gSyncs.erase(it);
  }
  return info.Env().Undefined();
}

}  // namespace catkit

#else  // built against a libtorch without c10d/Gloo headers: the surface exists and says so

namespace catkit {
namespace {
Napi::Value Unavailable(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(),
                         "distributed: this catkit addon was built without c10d/Gloo (install Debian's libgloo-dev or use a libtorch "
                         "distribution that ships torch/csrc/distributed and gloo headers, then `npm run build:native`)");
}
}  // namespace
Napi::Value DistAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), false); }
Napi::Value DistInit(const Napi::CallbackInfo& info) { return Unavailable(info); }
Napi::Value DistDestroy(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) { return Unavailable(info); }
Napi::Value DistAllreduce(const Napi::CallbackInfo& info) { return Unavailable(info); }
Napi::Value DistBarrier(const Napi::CallbackInfo& info) { return Unavailable(info); }
Napi::Value GradSyncCreate(const Napi::CallbackInfo& info) { return Unavailable(info); }
Napi::Value GradSyncPrepare(const Napi::CallbackInfo& info) { return Unavailable(info); }
Napi::Value GradSyncFinish(const Napi::CallbackInfo& info) { return Unavailable(info); }
Napi::Value GradSyncDispose(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
}  // namespace catkit

#endif
