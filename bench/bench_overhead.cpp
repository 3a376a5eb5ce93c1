// W1, per-op overhead: y <- tanh(y * a + b) repeated 1000 times on 16-vectors, loss = sum(y), gradient with
// respect to (a, b). 3000 elementwise ops per iteration (mul, add, tanh); counter time_per_op = time / 3000
// (seconds; the console shows e.g. "250ns").
//
//   BM_W1_xgrad_value_and_grad   forward + backward through xgrad::value_and_grad, parameters as a struct
//   BM_W1_xgrad_forward          the same ops on plain Tensors, outside any transform (no tape): op cost alone
//   BM_W1_baseline_grad          hand-written forward (storing the 1000 intermediate y) + reverse sweep, raw arrays
//   BM_W1_baseline_forward       hand-written forward only
//   BM_W1_baseline_*_vtanh       the same with tanh through libmvec's vector tanh, as xgrad's tanh op computes it
//                                (bench::vtanh): the baseline at equal math, so the difference is the AD overhead
//
// The gradients of xgrad and of the baseline are compared once, outside the timed loop (tolerance 1e-10).
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "xgrad/ad/ad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;

constexpr std::size_t kSteps = 1000;
constexpr std::size_t kDim = 16;
constexpr double kOps = 3.0 * kSteps;

struct Params {
  Tensor a;
  Tensor b;
};

struct Data {
  Array x = bench::uniform({kDim}, -1.0, 1.0, 1);  // y0 (a constant)
  Array a = bench::uniform({kDim}, 0.5, 1.2, 2);
  Array b = bench::uniform({kDim}, -0.3, 0.3, 3);
};
const Data& data() {
  static const Data d;
  return d;
}

Tensor chain(const Params& p, const Tensor& x) {
  Tensor y = x;
  for (std::size_t k = 0; k < kSteps; ++k) y = xgrad::tanh(y * p.a + p.b);
  return xgrad::sum(y);
}

// The hand-written baseline: forward storing every y, then one reverse sweep. Buffers are owned by the caller.
struct Baseline {
  std::vector<double> ys = std::vector<double>((kSteps + 1) * kDim);
  std::array<double, kDim> ga{}, gb{}, g{};

  bool vector_tanh = false;  // tanh through bench::vtanh (libmvec, as xgrad) instead of std::tanh

  // yn = tanh(y a + b) over the 16 lanes.
  void step(const double* y, const double* a, const double* b, double* yn) const {
    if (!vector_tanh) {
      for (std::size_t i = 0; i < kDim; ++i) yn[i] = std::tanh(y[i] * a[i] + b[i]);
      return;
    }
    std::array<double, kDim> z;
    for (std::size_t i = 0; i < kDim; ++i) z[i] = y[i] * a[i] + b[i];
    bench::vtanh(z.data(), yn, kDim);
  }

  double forward(const double* x, const double* a, const double* b) {
    std::array<double, kDim> y;
    for (std::size_t i = 0; i < kDim; ++i) y[i] = x[i];
    for (std::size_t k = 0; k < kSteps; ++k) step(y.data(), a, b, y.data());
    double s = 0.0;
    for (double v : y) s += v;
    return s;
  }

  double value_and_grad(const double* x, const double* a, const double* b) {
    double* y = ys.data();
    for (std::size_t i = 0; i < kDim; ++i) y[i] = x[i];
    for (std::size_t k = 0; k < kSteps; ++k) {
      step(y + k * kDim, a, b, y + (k + 1) * kDim);
    }
    double s = 0.0;
    for (std::size_t i = 0; i < kDim; ++i) s += y[kSteps * kDim + i];
    // Reverse: g = dL/dy_{k+1}; dz = g (1 - y_{k+1}^2); da += dz y_k; db += dz; g <- dz a.
    g.fill(1.0);
    ga.fill(0.0);
    gb.fill(0.0);
    for (std::size_t k = kSteps; k-- > 0;) {
      const double* yk = y + k * kDim;
      const double* yn = y + (k + 1) * kDim;
      for (std::size_t i = 0; i < kDim; ++i) {
        const double dz = g[i] * (1.0 - yn[i] * yn[i]);
        ga[i] += dz * yk[i];
        gb[i] += dz;
        g[i] = dz * a[i];
      }
    }
    return s;
  }
};

// Compares xgrad's gradient with the baseline's once per process; false (benchmark skipped) on a mismatch.
bool verified(benchmark::State& state) {
  static const std::string error = [] {
    const Data& d = data();
    auto [v, g] = xgrad::value_and_grad(chain)(Params{Tensor(d.a), Tensor(d.b)}, Tensor(d.x));
    Baseline base;
    const double s = base.value_and_grad(d.x.data(), d.a.data(), d.b.data());
    std::string e;
    const double ev = bench::max_err(&v.value()(), &s, 1);
    const double ea = bench::max_err(g.a.value().data(), base.ga.data(), kDim);
    const double eb = bench::max_err(g.b.value().data(), base.gb.data(), kDim);
    if (ev > 1e-10 || ea > 1e-10 || eb > 1e-10)
      e = "W1: xgrad and the baseline disagree (value " + std::to_string(ev) + ", da " + std::to_string(ea) +
          ", db " + std::to_string(eb) + "; tolerance 1e-10)";
    return e;
  }();
  if (error.empty()) return true;
  state.SkipWithError(error.c_str());
  return false;
}

void BM_W1_xgrad_value_and_grad(benchmark::State& state) {
  if (!verified(state)) return;
  const Data& d = data();
  const Params p{Tensor(d.a), Tensor(d.b)};
  const Tensor x(d.x);
  auto vg = xgrad::value_and_grad(chain);
  for (auto _ : state) {
    auto r = vg(p, x);
    benchmark::DoNotOptimize(r);
  }
  state.counters["time_per_op"] = bench::time_per_op(kOps);
}

void BM_W1_xgrad_forward(benchmark::State& state) {
  const Data& d = data();
  const Params p{Tensor(d.a), Tensor(d.b)};
  const Tensor x(d.x);
  for (auto _ : state) {
    Tensor r = chain(p, x);
    benchmark::DoNotOptimize(r);
  }
  state.counters["time_per_op"] = bench::time_per_op(kOps);
}

void baseline_grad(benchmark::State& state, bool vector_tanh) {
  if (!verified(state)) return;
  const Data& d = data();
  Baseline base;
  base.vector_tanh = vector_tanh;
  for (auto _ : state) {
    double s = base.value_and_grad(d.x.data(), d.a.data(), d.b.data());
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(base.ga.data());
    benchmark::DoNotOptimize(base.gb.data());
    benchmark::ClobberMemory();
  }
  state.counters["time_per_op"] = bench::time_per_op(kOps);
}

void baseline_forward(benchmark::State& state, bool vector_tanh) {
  const Data& d = data();
  Baseline base;
  base.vector_tanh = vector_tanh;
  for (auto _ : state) {
    double s = base.forward(d.x.data(), d.a.data(), d.b.data());
    benchmark::DoNotOptimize(s);
  }
  state.counters["time_per_op"] = bench::time_per_op(kOps);
}

void BM_W1_baseline_grad(benchmark::State& state) { baseline_grad(state, false); }
void BM_W1_baseline_forward(benchmark::State& state) { baseline_forward(state, false); }
void BM_W1_baseline_grad_vtanh(benchmark::State& state) { baseline_grad(state, true); }
void BM_W1_baseline_forward_vtanh(benchmark::State& state) { baseline_forward(state, true); }

}  // namespace

BENCHMARK(BM_W1_xgrad_value_and_grad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W1_xgrad_forward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W1_baseline_grad)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W1_baseline_forward)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W1_baseline_grad_vtanh)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_W1_baseline_forward_vtanh)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
