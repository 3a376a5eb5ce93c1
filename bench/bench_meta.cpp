// Meta-training of a learned optimizer (learn/meta.hpp): time and tape memory of one meta-gradient against the
// unroll length T, beside baselines that run the same T inner steps without a meta-gradient.
//
// Workload: 32 random 10-D quadratics ||W x - y||^2 as one task (320 coordinates), the 2-layer LSTM optimizer with 20
// units (log-sign preprocessing), the trajectory's x and state taken after 20 warm-up steps.
//
//   BM_meta_first_order/T   meta_value_and_grad over T steps, inner gradients as constants (the paper's approximation)
//   BM_meta_exact/T         the same with second_order = true (the inner gradients' backward is recorded too)
//   BM_meta_exact_long/T    BM_meta_exact at T = 100, 1000 (the whole unroll on one tape)
//   BM_meta_exact_checkpointed/T   the same meta-gradient with checkpoint_every = sqrt(T): memory O(sqrt T)
//   BM_inner_lstm/T         baseline: T steps of the LSTM optimizer, no meta-gradient (grad of the task each step)
//   BM_inner_adam/T         baseline: T steps of adam on the same task
//
// Counters (from one untimed probe call): `nodes`, the tape's size at the end of the forward (ad::tape_size(), its
// peak); `heap_MB`, the growth of glibc's in-use heap (heap_in_use()) from before the call to that point:
// what the tape holds (nodes, values kept for the backward). Both should grow linearly in T and not depend on
// the horizon, since each unroll starts from constants. The probe runs with the value cache off
// (xgrad/ad/value_cache.hpp), so arrays reused from earlier calls do not hide what the call needs.
#include <malloc.h>

#include <cmath>
#include <cstddef>
#include <xgrad/learn/learn.hpp>
#include <xgrad/optim/optim.hpp>

#include "common.hpp"

namespace {

using namespace xgrad;
namespace opt = xgrad::optim;
using Phi = learn::LstmOptimizerParams;

const learn::LearnedOptions kOptions{};
auto make_lstm = [](const Phi& p) { return learn::lstm_optimizer(p, kOptions); };

// glibc's heap in use: arena blocks plus the mmapped ones (arrays above the mmap threshold, e.g. 200 KB gate blocks).
std::size_t heap_in_use() {
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// A task that watches the tape and the heap each time its loss is evaluated (the last evaluation of an unroll is at
// the end of its forward, where the tape is largest).
struct Probe {
  learn::QuadraticTask task;
  mutable std::size_t peak_nodes = 0;
  mutable std::size_t peak_heap = 0;
  Tensor init() const { return task.init(); }
  Tensor losses(const Tensor& x) const {
    Tensor f = task.losses(x);
    peak_nodes = std::max(peak_nodes, ad::tape_size());
    peak_heap = std::max(peak_heap, heap_in_use());
    return f;
  }
};

struct Setup {
  Probe probe{learn::Quadratics{.dim = 10, .batch = 32}.sample(random::key(1))};
  Phi phi = learn::init_lstm_optimizer(random::key(2), kOptions);
  Tensor x;
  learn::LstmOptimizerState state;
  Setup() {
    auto lstm = make_lstm(phi);
    auto r = learn::unroll_optimizer(lstm, probe.task, probe.task.init(), lstm.init(probe.task.init()), 0, 20);
    x = r.params;
    state = r.state;
  }
};

void set_counters(benchmark::State& st, const Probe& p, std::size_t heap_before) {
  st.counters["nodes"] = double(p.peak_nodes);
  st.counters["heap_MB"] = double(p.peak_heap > heap_before ? p.peak_heap - heap_before : 0) / 1e6;
}

// The value cache off for a probe's lifetime (and emptied), its limit restored afterwards.
struct ColdCache {
  std::size_t limit = ad::value_cache_limit();
  ColdCache() { ad::set_value_cache_limit(0); }
  ~ColdCache() { ad::set_value_cache_limit(limit); }
};

void meta(benchmark::State& st, bool second_order, bool checkpointed = false) {
  const Setup s;
  const int T = int(st.range(0));
  const int every = checkpointed ? int(std::lround(std::sqrt(double(T)))) : 0;
  const learn::MetaOptions o{.second_order = second_order, .checkpoint_every = every};
  {  // probe
    const ColdCache cold;
    const std::size_t nodes_before = ad::tape_size(), heap_before = heap_in_use();
    s.probe.peak_nodes = nodes_before;
    s.probe.peak_heap = heap_before;
    learn::meta_value_and_grad(s.phi, make_lstm, s.probe, s.x, s.state, 20, T, o);
    set_counters(st, s.probe, heap_before);
  }
  for (auto _ : st) {
    auto r = learn::meta_value_and_grad(s.phi, make_lstm, s.probe.task, s.x, s.state, 20, T, o);
    benchmark::DoNotOptimize(r.meta_loss);
  }
}
void BM_meta_first_order(benchmark::State& st) { meta(st, false); }
void BM_meta_exact(benchmark::State& st) { meta(st, true); }
void BM_meta_exact_checkpointed(benchmark::State& st) { meta(st, true, true); }

template <class Opt, class S>
void inner(benchmark::State& st, const Setup& s, const Opt& o, const S& state0) {
  const int T = int(st.range(0));
  {  // probe: each step's gradient tape is freed before the next step, so nothing accumulates
    const ColdCache cold;
    const std::size_t heap_before = heap_in_use();
    s.probe.peak_nodes = ad::tape_size();
    s.probe.peak_heap = heap_before;
    learn::unroll_optimizer(o, s.probe, s.x, state0, 20, T);
    set_counters(st, s.probe, heap_before);
  }
  for (auto _ : st) {
    auto r = learn::unroll_optimizer(o, s.probe.task, s.x, state0, 20, T);
    benchmark::DoNotOptimize(r.meta_loss);
  }
}
void BM_inner_lstm(benchmark::State& st) {
  const Setup s;
  inner(st, s, make_lstm(s.phi), s.state);
}
void BM_inner_adam(benchmark::State& st) {
  const Setup s;
  const auto adam = opt::adam(0.1);
  inner(st, s, adam, adam.init(s.x));
}

}  // namespace

BENCHMARK(BM_meta_first_order)->Arg(5)->Arg(10)->Arg(20)->Arg(40)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_meta_exact)->Arg(5)->Arg(10)->Arg(20)->Arg(40)->Unit(benchmark::kMillisecond);
// Long unrolls: the whole tape against segments of sqrt(T) steps recomputed in the backward pass.
BENCHMARK(BM_meta_exact)->Name("BM_meta_exact_long")->Arg(100)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_meta_exact_checkpointed)->Arg(100)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_inner_lstm)->Arg(5)->Arg(10)->Arg(20)->Arg(40)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_inner_adam)->Arg(5)->Arg(10)->Arg(20)->Arg(40)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
