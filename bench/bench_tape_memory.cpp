// Tape memory. This binary replaces the global operator new/delete with counting versions (every variant: plain,
// array, nothrow, sized, aligned), so it sees every C++ heap allocation of the process (not malloc calls made by C
// libraries such as OpenBLAS).
//
//   BM_tape_bytes_per_op/N   inside value_and_grad, record N ops y <- y * a on 16-vectors (then loss = sum(y)).
//       bytes_per_op      (peak live heap bytes during the whole value_and_grad call - live bytes before) / N
//       fwd_bytes_per_op  (live bytes when the forward is fully recorded - live bytes before) / N: the tape alone
//       allocs_per_op     operator new calls during the call / N (fwd_allocs_per_op: during the forward only)
//       nodes             ad::tape_size() at the end of the forward (the tape's peak)
//       sizeof_node       sizeof(xgrad::ad::Node); sizeof_array: sizeof(xgrad::Array), the object behind a value
//     These are measured cold: value cache off (xgrad/ad/value_cache.hpp), and the tape keeps one chunk of nodes
//     between transforms, counted in "before".
//       warm_bytes_per_op, warm_allocs_per_op: the same with the default cache, after a call that filled it
//       (arrays and tape chunks are reused, so a repeated call allocates almost nothing)
//   BM_tape_flat_memory      after one warm-up call, 10^5 calls of value_and_grad on a 10-step y <- tanh(y a + b)
//       live_before, live_after, leaked_bytes = live_after - live_before (must be 0;
//       the label says "flat" or "LEAK")
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "xgrad/ad/ad.hpp"

// ----------------------------------------------------------------------------------------------------------------
// Counting allocator. Each block carries its size in a header just before the pointer handed out.

namespace counting {

std::atomic<std::int64_t> live{0};
std::atomic<std::int64_t> peak{0};
std::atomic<std::int64_t> calls{0};

void on_alloc(std::size_t n) {
  const std::int64_t now = live.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed) +
                           static_cast<std::int64_t>(n);
  calls.fetch_add(1, std::memory_order_relaxed);
  std::int64_t p = peak.load(std::memory_order_relaxed);
  while (now > p && !peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {
  }
}

constexpr std::size_t kHeader = alignof(std::max_align_t);  // keeps the default new alignment

void* allocate(std::size_t n, std::size_t align) {
  const std::size_t header = std::max(kHeader, align);
  void* base = align <= kHeader ? std::malloc(n + header)
                                : std::aligned_alloc(align, (n + header + align - 1) / align * align);
  if (!base) return nullptr;
  char* p = static_cast<char*>(base) + header;
  *reinterpret_cast<std::size_t*>(p - sizeof(std::size_t)) = n;
  on_alloc(n);
  return p;
}

void deallocate(void* ptr, std::size_t align) noexcept {
  if (!ptr) return;
  char* p = static_cast<char*>(ptr);
  const std::size_t n = *reinterpret_cast<std::size_t*>(p - sizeof(std::size_t));
  live.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  std::free(p - std::max(kHeader, align));
}

void* allocate_or_throw(std::size_t n, std::size_t align) {
  if (void* p = allocate(n, align)) return p;
  throw std::bad_alloc();
}

std::int64_t live_now() { return live.load(std::memory_order_relaxed); }

}  // namespace counting

void* operator new(std::size_t n) { return counting::allocate_or_throw(n, 0); }
void* operator new[](std::size_t n) { return counting::allocate_or_throw(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counting::allocate(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counting::allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counting::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counting::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counting::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counting::allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { counting::deallocate(p, 0); }
void operator delete[](void* p) noexcept { counting::deallocate(p, 0); }
void operator delete(void* p, std::size_t) noexcept { counting::deallocate(p, 0); }
void operator delete[](void* p, std::size_t) noexcept { counting::deallocate(p, 0); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counting::deallocate(p, 0); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counting::deallocate(p, 0); }
void operator delete(void* p, std::align_val_t a) noexcept { counting::deallocate(p, static_cast<std::size_t>(a)); }
void operator delete[](void* p, std::align_val_t a) noexcept { counting::deallocate(p, static_cast<std::size_t>(a)); }
void operator delete(void* p, std::size_t, std::align_val_t a) noexcept {
  counting::deallocate(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::size_t, std::align_val_t a) noexcept {
  counting::deallocate(p, static_cast<std::size_t>(a));
}
void operator delete(void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  counting::deallocate(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  counting::deallocate(p, static_cast<std::size_t>(a));
}

// ----------------------------------------------------------------------------------------------------------------

namespace {

using xgrad::Array;
using xgrad::Tensor;

constexpr std::size_t kDim = 16;

struct Probe {
  std::size_t nodes = 0;
  std::int64_t live = 0;
  std::int64_t calls = 0;
};

void BM_tape_bytes_per_op(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Tensor a(bench::uniform({kDim}, 0.9, 1.1, 31));
  const Tensor x(bench::uniform({kDim}, -1.0, 1.0, 32));
  Probe probe;
  auto vg = xgrad::value_and_grad([&probe, n](const Tensor& a, const Tensor& x) {
    Tensor y = x;
    for (std::size_t k = 0; k < n; ++k) y = y * a;
    Tensor loss = xgrad::sum(y);
    probe.nodes = xgrad::ad::tape_size();
    probe.live = counting::live_now();
    probe.calls = counting::calls.load(std::memory_order_relaxed);
    return loss;
  });
  // One measured call: peak and forward-end live bytes, and operator new calls, relative to before the call.
  struct Figures {
    std::int64_t peak = 0, fwd = 0, calls = 0, fwd_calls = 0;
  };
  auto measure = [&] {
    Figures f;
    const std::int64_t before = counting::live_now();
    const std::int64_t calls_before = counting::calls.load(std::memory_order_relaxed);
    counting::peak.store(before, std::memory_order_relaxed);
    {
      auto r = vg(a, x);
      benchmark::DoNotOptimize(r);
    }
    f.peak = counting::peak.load(std::memory_order_relaxed) - before;
    f.fwd = probe.live - before;
    f.calls = counting::calls.load(std::memory_order_relaxed) - calls_before;
    f.fwd_calls = probe.calls - calls_before;
    return f;
  };
  // Cold: value cache off, so every value and cotangent is a real allocation and the tape keeps one chunk between
  // transforms (the warm-up call trims it): the memory a tape needs per op.
  const std::size_t limit = xgrad::ad::value_cache_limit();
  xgrad::ad::set_value_cache_limit(0);
  benchmark::DoNotOptimize(vg(a, x));  // warm-up: the thread's tape and its first chunk exist from now on
  Figures cold;
  for (auto _ : state) cold = measure();
  // Warm: the default cache, after one call has filled it: what a repeated call adds on top of what it reuses.
  xgrad::ad::set_value_cache_limit(limit);
  benchmark::DoNotOptimize(vg(a, x));
  const Figures warm = measure();
  const std::int64_t peak = cold.peak, fwd = cold.fwd, calls = cold.calls, fwd_calls = cold.fwd_calls;
  const double ops = static_cast<double>(n);
  state.counters["bytes_per_op"] = static_cast<double>(peak) / ops;
  state.counters["fwd_bytes_per_op"] = static_cast<double>(fwd) / ops;
  state.counters["allocs_per_op"] = static_cast<double>(calls) / ops;
  state.counters["fwd_allocs_per_op"] = static_cast<double>(fwd_calls) / ops;
  state.counters["warm_bytes_per_op"] = static_cast<double>(warm.peak) / ops;
  state.counters["warm_allocs_per_op"] = static_cast<double>(warm.calls) / ops;
  state.counters["nodes"] = static_cast<double>(probe.nodes);
  state.counters["sizeof_node"] = static_cast<double>(sizeof(xgrad::ad::Node));
  state.counters["sizeof_array"] = static_cast<double>(sizeof(Array));
}

Tensor chain10(const std::vector<Tensor>& p, const Tensor& x) {
  Tensor y = x;
  for (int k = 0; k < 10; ++k) y = xgrad::tanh(y * p[0] + p[1]);
  return xgrad::sum(y);
}

void BM_tape_flat_memory(benchmark::State& state) {
  constexpr int kCalls = 100000;
  const std::vector<Tensor> p{Tensor(bench::uniform({kDim}, 0.5, 1.2, 33)),
                              Tensor(bench::uniform({kDim}, -0.3, 0.3, 34))};
  const Tensor x(bench::uniform({kDim}, -1.0, 1.0, 35));
  auto vg = xgrad::value_and_grad(chain10);
  benchmark::DoNotOptimize(vg(p, x));  // warm-up (see above)
  std::int64_t before = 0, after = 0;
  for (auto _ : state) {
    before = counting::live_now();
    for (int i = 0; i < kCalls; ++i) {
      auto r = vg(p, x);
      benchmark::DoNotOptimize(r);
    }
    after = counting::live_now();
  }
  state.counters["live_before"] = static_cast<double>(before);
  state.counters["live_after"] = static_cast<double>(after);
  state.counters["leaked_bytes"] = static_cast<double>(after - before);
  state.SetLabel(after == before ? "flat" : "LEAK: live heap bytes grew across the calls");
}

}  // namespace

BENCHMARK(BM_tape_bytes_per_op)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_tape_flat_memory)->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
