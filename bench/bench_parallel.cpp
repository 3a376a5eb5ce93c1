// Strong scaling of the parallel map (core/parallel.hpp) on two workloads, each with 1, 2 (and 4) threads; the
// 1-thread run is the baseline (the same code, serially). Wall-clock time (UseRealTime), since the work is spread
// over threads.
//
//   BM_meta_step/threads      one outer step of meta-training: 8 trajectories (32 random 10-D quadratics each) of the
//                             2-layer, 20-unit LSTM optimizer, each a first-order meta-gradient over an unroll of
//                             20 inner steps, averaged in trajectory order (what meta_train does with meta_batch = 8)
//   BM_data_parallel/threads/shard/inputs  one epoch of data-parallel training of an MLP inputs-128-10 (tanh,
//                             softmax cross-entropy) on 2048 examples: steps of a batch of 8 shards, each batch's
//                             gradient summed over its shards with parallel::map_reduce, then one sgd update. Shards
//                             of 64, 128 and 256 examples (4, 2 and 1 steps per epoch); 64 inputs (the 8x8 digits)
//                             or 784 (MNIST's 28x28, random values: the time does not depend on them). The smaller
//                             the pieces, the larger the serial share (the reduction and the update) and the pool's
//                             hand-off cost
//   BM_data_parallel_floor/threads/shard/inputs  the same epoch without the pool: each step's 8 shards split
//                             statically over `threads` std::threads made once per run and met at a std::barrier,
//                             each thread summing its own shards (no ordered reduction): the floor the pool is
//                             measured against. Run with OPENBLAS_NUM_THREADS=1 (the pool sets it; the floor does not)
//   BM_adam_update/xgrad      the serial step that every rank of a data-parallel job repeats: adam.update and
//                             apply_updates on the MLP 784-128-10's gradients (101 770 parameters, a struct of four
//                             Tensors), against BM_adam_update/hand, the same arithmetic in one loop over flat arrays
//                             updated in place (the floor: no allocation at all)
#include <atomic>
#include <barrier>
#include <thread>

#include <xtensor/xview.hpp>
#include <xgrad/learn/learn.hpp>
#include <xgrad/optim/optim.hpp>

#include "common.hpp"

namespace {

using namespace xgrad;
namespace opt = xgrad::optim;
using Phi = learn::LstmOptimizerParams;

void BM_meta_step(benchmark::State& st) {
  const std::size_t threads = static_cast<std::size_t>(st.range(0));
  const learn::LearnedOptions o{};
  auto make = [o](const Phi& p) { return learn::lstm_optimizer(p, o); };
  const Phi phi = learn::init_lstm_optimizer(random::key(1), o, {.hidden = 20, .layers = 2});
  const learn::Quadratics dist{.dim = 10, .batch = 32};
  std::vector<learn::QuadraticTask> tasks;
  for (std::uint32_t k = 0; k < 8; ++k) tasks.push_back(dist.sample(random::fold_in(random::key(2), k)));
  for (auto _ : st) {
    auto grads = parallel::map(
        tasks.size(),
        [&](std::size_t k) {
          const Tensor x = tasks[k].init();
          return learn::meta_value_and_grad(phi, make, tasks[k], x, make(phi).init(x), 0, 20).grad;
        },
        threads);
    benchmark::DoNotOptimize(parallel::sum_trees(grads));
  }
  st.counters["threads"] = static_cast<double>(threads);
}
BENCHMARK(BM_meta_step)->Arg(1)->Arg(2)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);

struct Mlp {
  Tensor w1, b1, w2, b2;
};
Tensor mlp_loss(const Mlp& m, const Tensor& x, const Tensor& labels) {
  const Tensor h = tanh(linear(x, m.w1, m.b1));
  return sum(softmax_cross_entropy(linear(h, m.w2, m.b2), labels));
}

// The data-parallel epoch's data: 2048 examples (random inputs, labels i mod 10) cut once into shards, and the
// MLP inputs-128-10's initial weights.
struct Epoch {
  static constexpr std::size_t n = 2048, hidden = 128, classes = 10;
  std::vector<Tensor> xs, ys;
  Mlp m0;
  Epoch(std::size_t shard, std::size_t in) {
    const Array X = bench::uniform({n, in}, -1, 1, 1);
    Array Y = xt::zeros<double>({n, classes});
    for (std::size_t i = 0; i < n; ++i) Y(i, i % classes) = 1.0;
    for (std::size_t s = 0; s < n / shard; ++s) {
      xs.emplace_back(Array(xt::view(X, xt::range(s * shard, (s + 1) * shard), xt::all())));
      ys.emplace_back(Array(xt::view(Y, xt::range(s * shard, (s + 1) * shard), xt::all())));
    }
    m0 = Mlp{Tensor(bench::uniform({in, hidden}, -0.1, 0.1, 2)), Tensor(Array(xt::zeros<double>({hidden}))),
             Tensor(bench::uniform({hidden, classes}, -0.1, 0.1, 3)), Tensor(Array(xt::zeros<double>({classes})))};
  }
};

void BM_data_parallel(benchmark::State& st) {
  const std::size_t threads = static_cast<std::size_t>(st.range(0)), shard = static_cast<std::size_t>(st.range(1));
  const std::size_t in = static_cast<std::size_t>(st.range(2));
  const Epoch e(shard, in);
  const std::size_t n = Epoch::n, batch = 8 * shard;
  const auto& xs = e.xs;
  const auto& ys = e.ys;
  const Mlp& m0 = e.m0;
  auto sgd = opt::sgd(1e-3);
  for (auto _ : st) {
    Mlp m = m0;
    auto state = sgd.init(m);
    for (std::size_t b = 0; b < n / batch; ++b) {
      const std::size_t first = b * (batch / shard);
      const Mlp g = parallel::map_reduce(
          batch / shard, [&](std::size_t s) { return grad(mlp_loss)(m, xs[first + s], ys[first + s]); }, threads);
      auto [u, next] = sgd.update(g, state, m);
      m = opt::apply_updates(m, u);
      state = std::move(next);
    }
    benchmark::DoNotOptimize(m.w1.value().data());
  }
  st.counters["threads"] = static_cast<double>(threads);
}

void BM_data_parallel_floor(benchmark::State& st) {
  const std::size_t threads = static_cast<std::size_t>(st.range(0)), shard = static_cast<std::size_t>(st.range(1));
  const std::size_t in = static_cast<std::size_t>(st.range(2));
  const Epoch e(shard, in);
  const std::size_t n = Epoch::n, batch = 8 * shard, pieces = batch / shard;
  if (threads == 0 || threads > pieces) {  // a worker without shards would sum no trees
    st.SkipWithError("the floor needs 1 <= threads <= 8");
    return;
  }
  const auto& xs = e.xs;
  const auto& ys = e.ys;
  const Mlp& m0 = e.m0;
  Mlp m = m0;
  std::size_t first = 0;
  std::vector<Mlp> partial(threads);
  auto work = [&](std::size_t t) {  // thread t's shards of the current step, summed
    std::vector<Mlp> gs;
    for (std::size_t s = t; s < pieces; s += threads) gs.push_back(grad(mlp_loss)(m, xs[first + s], ys[first + s]));
    partial[t] = parallel::sum_trees(gs, 1);
  };
  std::barrier start(static_cast<std::ptrdiff_t>(threads)), done(static_cast<std::ptrdiff_t>(threads));
  std::atomic<bool> stop{false};
  // Workers leave at the stop flag after the timed loop; an exception inside the loop would leave them waiting at a
  // barrier (a hang, not a wrong figure): nothing there throws for the registered arguments.
  std::vector<std::jthread> workers;
  for (std::size_t t = 1; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (;;) {
        start.arrive_and_wait();
        if (stop.load()) return;
        work(t);
        done.arrive_and_wait();
      }
    });
  auto sgd = opt::sgd(1e-3);
  for (auto _ : st) {
    m = m0;
    auto state = sgd.init(m);
    for (std::size_t b = 0; b < n / batch; ++b) {
      first = b * pieces;
      start.arrive_and_wait();
      work(0);
      done.arrive_and_wait();
      auto [u, next] = sgd.update(parallel::sum_trees(partial, 1), state, m);
      m = opt::apply_updates(m, u);
      state = std::move(next);
    }
    benchmark::DoNotOptimize(m.w1.value().data());
  }
  stop.store(true);
  start.arrive_and_wait();
  st.counters["threads"] = static_cast<double>(threads);
}

void BM_adam_update_xgrad(benchmark::State& st) {
  Mlp m{Tensor(bench::uniform({784, 128}, -0.1, 0.1, 2)), Tensor(Array(xt::zeros<double>({128}))),
        Tensor(bench::uniform({128, 10}, -0.1, 0.1, 3)), Tensor(Array(xt::zeros<double>({10})))};
  const Mlp g{Tensor(bench::uniform({784, 128}, -1, 1, 4)), Tensor(bench::uniform({128}, -1, 1, 5)),
              Tensor(bench::uniform({128, 10}, -1, 1, 6)), Tensor(bench::uniform({10}, -1, 1, 7))};
  auto adam = opt::adam(1e-3);
  auto state = adam.init(m);
  for (auto _ : st) {
    auto [u, next] = adam.update(g, state, m);
    m = opt::apply_updates(m, u);
    state = std::move(next);
  }
  benchmark::DoNotOptimize(m.w1.value().data());
}
BENCHMARK(BM_adam_update_xgrad)->Name("BM_adam_update/xgrad")->Unit(benchmark::kMicrosecond);

void BM_adam_update_hand(benchmark::State& st) {
  const std::size_t n = 784 * 128 + 128 + 128 * 10 + 10;
  std::vector<double> p(n, 0.0), g(n), mu(n, 0.0), nu(n, 0.0);
  const Array gs = bench::uniform({n}, -1, 1, 4);
  std::copy(gs.begin(), gs.end(), g.begin());
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 1e-3;
  double k = 0.0;
  for (auto _ : st) {
    k += 1.0;
    const double c1 = 1.0 - std::pow(b1, k), c2 = 1.0 - std::pow(b2, k);
    for (std::size_t i = 0; i < n; ++i) {
      mu[i] = b1 * mu[i] + (1.0 - b1) * g[i];
      nu[i] = b2 * nu[i] + (1.0 - b2) * (g[i] * g[i]);
      p[i] -= lr * (mu[i] / c1) / (std::sqrt(nu[i] / c2) + eps);
    }
    benchmark::DoNotOptimize(p.data());
  }
}
BENCHMARK(BM_adam_update_hand)->Name("BM_adam_update/hand")->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_data_parallel)
    ->ArgsProduct({{1, 2, 4}, {64, 128, 256}, {64, 784}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_data_parallel_floor)
    ->ArgsProduct({{1, 2}, {64, 256}, {784}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
