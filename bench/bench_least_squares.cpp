// The bounded and least-squares solvers of issue 15, each beside a baseline in the same binary.
//
//   BM_lm_xgrad/m      LevenbergMarquardt on y = a exp(-b t) + c fitted to m points (the residuals written with xgrad
//                      ops, the Jacobian from the AD core), from (1, 1, 0) to scipy's default tolerances.
//   BM_lm_hand/m       the same algorithm (the same flat code, detail::levenberg_marquardt_flat) with the residual and
//                      the Jacobian written by hand in loops: the floor; the ratio is what AD costs.
//   BM_lbfgsb/n        LBFGSB on 1/2 x^T A x - b^T x (A tridiagonal, 4 on the diagonal, -1 beside) in [0, 1]^n with
//                      about half the bounds active at the solution.
//   BM_lbfgs_free/n    LBFGS on the same objective without bounds: what the Cauchy point and subspace step cost.
// The data are the same formulas as scripts/bench_least_squares_scipy.py, which times scipy on them (and runs this
// binary) for the side-by-side table. Counters: nfev, njev (LM), iters, cost / value.
#include <cmath>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;
namespace opt = xgrad::optim;

struct Curve {
  Array t, y;
};
Curve curve(std::size_t m) {
  Curve c{Array::from_shape({m}), Array::from_shape({m})};
  for (std::size_t i = 0; i < m; ++i) {
    c.t(i) = 5.0 * double(i) / double(m - 1);
    c.y(i) = 2.0 * std::exp(-0.7 * c.t(i)) + 0.5 + 0.05 * std::sin(37.0 * double(i));
  }
  return c;
}

Tensor residuals(const Tensor& p, const Tensor& t, const Tensor& y) {
  const Tensor a = xgrad::slice(p, 0, 0, 1), b = xgrad::slice(p, 0, 1, 2), c = xgrad::slice(p, 0, 2, 3);
  return a * xgrad::exp(-b * t) + c - y;
}

void BM_lm_xgrad(benchmark::State& state) {
  const Curve c = curve(std::size_t(state.range(0)));
  const Tensor t(c.t), y(c.y);
  opt::LevenbergMarquardtState<Tensor> s;
  for (auto _ : state) {
    auto r = opt::LevenbergMarquardt{}.run(residuals, Tensor(Array{1.0, 1.0, 0.0}), t, y);
    s = std::move(r.state);
    benchmark::DoNotOptimize(r.params);
  }
  state.counters["nfev"] = s.num_fun_eval;
  state.counters["njev"] = s.num_jac_eval;
  state.counters["cost"] = s.value;
}

void BM_lm_hand(benchmark::State& state) {
  const Curve c = curve(std::size_t(state.range(0)));
  const std::size_t m = c.t.size();
  opt::detail::FlatVectorFunction problem;
  problem.value = [&](const Array& p) {
    Array r = Array::from_shape({m});
    for (std::size_t i = 0; i < m; ++i) r(i) = p(0) * std::exp(-p(1) * c.t(i)) + p(2) - c.y(i);
    return r;
  };
  problem.jacobian = [&](const Array& p) {
    Array J = Array::from_shape({m, 3});
    for (std::size_t i = 0; i < m; ++i) {
      const double e = std::exp(-p(1) * c.t(i));
      J(i, 0) = e;
      J(i, 1) = -p(0) * c.t(i) * e;
      J(i, 2) = 1.0;
    }
    return J;
  };
  opt::LevenbergMarquardtState<Array> s;
  for (auto _ : state) {
    s = {};
    Array p = opt::detail::levenberg_marquardt_flat(problem, Array{1.0, 1.0, 0.0}, s, opt::LevenbergMarquardt{});
    benchmark::DoNotOptimize(p);
  }
  state.counters["nfev"] = s.num_fun_eval;
  state.counters["njev"] = s.num_jac_eval;
  state.counters["cost"] = s.value;
}

Tensor quadratic(const Tensor& x) {
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  // 1/2 x^T A x - b^T x with A = tridiag(-1, 4, -1) and b_i = 3 + sin(i): written with slices, no dense A.
  const Tensor inner = xgrad::slice(x, 0, 0, n - 1) * xgrad::slice(x, 0, 1, n);
  Array b = Array::from_shape({std::size_t(n)});
  for (std::ptrdiff_t i = 0; i < n; ++i) b(std::size_t(i)) = 3.0 * std::sin(0.1 * double(i)) + 1.0;
  return 2.0 * xgrad::sum(xgrad::square(x)) - xgrad::sum(inner) - xgrad::sum(Tensor(b) * x);
}

// A solver on the quadratic in n dimensions, from 0; counters iters, nfev, value.
template <class Solver>
void run_quadratic(benchmark::State& state, const Solver& solver) {
  const std::size_t n = std::size_t(state.range(0));
  int iters = 0, nfev = 0;
  double value = 0.0;
  for (auto _ : state) {
    auto r = solver.run(quadratic, Tensor(Array(xt::zeros<double>({n}))));
    iters = r.state.iter_num;
    nfev = r.state.num_fun_eval;
    value = r.state.value;
    benchmark::DoNotOptimize(r.params);
  }
  state.counters["iters"] = iters;
  state.counters["nfev"] = nfev;
  state.counters["value"] = value;
}

void BM_lbfgsb(benchmark::State& state) {
  run_quadratic(state, opt::LBFGSB{.maxiter = 1000, .tol = 1e-8, .bounds = opt::Bounds::of(0.0, 1.0)});
}
void BM_lbfgs_free(benchmark::State& state) { run_quadratic(state, opt::LBFGS{.maxiter = 1000, .tol = 1e-8}); }

}  // namespace

BENCHMARK(BM_lm_xgrad)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lm_hand)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lbfgsb)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lbfgs_free)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
