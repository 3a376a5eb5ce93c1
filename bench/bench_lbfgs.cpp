// LBFGS (issue 4): time per iteration of xgrad::optim::LBFGS against a hand-written LBFGS in the same binary.
//
//   BM_lbfgs_xgrad_<problem>/n      xgrad's LBFGS (zoom line search, history 10) on the objective written with xgrad
//                                   ops, its gradient by the AD core; 10 iterations from the usual start.
//   BM_lbfgs_hand_<problem>/n       hand-written: the same two-loop recursion (history 10) with a backtracking Armijo
//                                   search, on a hand-coded objective and gradient (loops, cblas_dgemv).
//   BM_lbfgs_hand_ad_<problem>/n    the hand-written LBFGS on xgrad's AD objective: isolates the solver's own cost.
// Problems: extended Rosenbrock (n = 100, 10000) and linear least squares 0.5 ||A x - b||^2 / m with d = 100
// features and m = 1000 or 100000 rows.
// Counters: time_per_iter (time / 10 iterations), evals_per_iter. Where xgrad's time goes inside a run (objective
// vs solver) is measured with perf (bench/README.md): a counter timed beside the loop underestimated the objective.
#include <cblas.h>

#include <cmath>
#include <functional>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;
using Vec = std::vector<double>;
constexpr int kIters = 10;

// ---- objectives -------------------------------------------------------------------------------------------------

Tensor rosenbrock(const Tensor& x) {
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  const Tensor a = xgrad::slice(x, 0, 0, n, 2), b = xgrad::slice(x, 0, 1, n, 2);
  return xgrad::sum(xgrad::square(1.0 - a) + 100.0 * xgrad::square(b - xgrad::square(a)));
}
double rosenbrock_hand(const Vec& x, Vec& g) {
  double f = 0.0;
  for (std::size_t i = 0; i + 1 < x.size(); i += 2) {
    const double a = x[i], b = x[i + 1], t = b - a * a;
    f += (1 - a) * (1 - a) + 100 * t * t;
    g[i] = -2 * (1 - a) - 400 * a * t;
    g[i + 1] = 200 * t;
  }
  return f;
}
Array rosenbrock_start(std::size_t n) {
  Array x = Array::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) x(i) = i % 2 == 0 ? -1.2 : 1.0;
  return x;
}

struct LeastSquares {
  std::size_t m, d;
  Array A, b;
  Tensor tA, tb;
  LeastSquares(std::size_t m_, std::size_t d_) : m(m_), d(d_) {
    A = bench::uniform({m, d}, -1.0, 1.0, 7);
    b = bench::uniform({m}, -1.0, 1.0, 8);
    tA = Tensor(A);
    tb = Tensor(b);
  }
  Tensor operator()(const Tensor& x) const {
    return 0.5 * xgrad::sum(xgrad::square(xgrad::matmul(tA, x) - tb)) / double(m);
  }
  double hand(const Vec& x, Vec& g) const {
    Vec r(b.begin(), b.end());
    cblas_dgemv(CblasRowMajor, CblasNoTrans, int(m), int(d), 1.0, A.data(), int(d), x.data(), 1, -1.0, r.data(), 1);
    cblas_dgemv(CblasRowMajor, CblasTrans, int(m), int(d), 1.0 / double(m), A.data(), int(d), r.data(), 1, 0.0,
                g.data(), 1);
    return 0.5 * cblas_ddot(int(m), r.data(), 1, r.data(), 1) / double(m);
  }
};
const LeastSquares& least_squares(std::size_t m) {
  static const LeastSquares small(1000, 100), large(100000, 100);
  return m == 1000 ? small : large;
}

// ---- the hand-written LBFGS -------------------------------------------------------------------------------------

// `iters` iterations of LBFGS (history 10, Armijo backtracking from step 1; the first step 1/||g||). Returns the
// number of objective evaluations.
int hand_lbfgs(const std::function<double(const Vec&, Vec&)>& fg, Vec x, int iters) {
  const std::size_t n = x.size(), m = 10;
  Vec g(n), xn(n), gn(n), d(n);
  double f = fg(x, g);
  int evals = 1;
  std::vector<Vec> S, Y;
  std::vector<double> rho;
  for (int k = 0; k < iters; ++k) {
    // two-loop recursion
    d = g;
    std::vector<double> alpha(S.size());
    for (std::size_t j = S.size(); j-- > 0;) {
      alpha[j] = rho[j] * cblas_ddot(int(n), S[j].data(), 1, d.data(), 1);
      cblas_daxpy(int(n), -alpha[j], Y[j].data(), 1, d.data(), 1);
    }
    if (!S.empty()) {
      const double gamma = cblas_ddot(int(n), S.back().data(), 1, Y.back().data(), 1) /
                           cblas_ddot(int(n), Y.back().data(), 1, Y.back().data(), 1);
      cblas_dscal(int(n), gamma, d.data(), 1);
    }
    for (std::size_t j = 0; j < S.size(); ++j) {
      const double beta = rho[j] * cblas_ddot(int(n), Y[j].data(), 1, d.data(), 1);
      cblas_daxpy(int(n), alpha[j] - beta, S[j].data(), 1, d.data(), 1);
    }
    cblas_dscal(int(n), -1.0, d.data(), 1);
    const double gd = cblas_ddot(int(n), g.data(), 1, d.data(), 1);
    double t = S.empty() ? std::min(1.0, 1.0 / std::sqrt(cblas_ddot(int(n), g.data(), 1, g.data(), 1))) : 1.0;
    double fn = 0.0;
    for (int ls = 0; ls < 30; ++ls) {
      for (std::size_t i = 0; i < n; ++i) xn[i] = x[i] + t * d[i];
      fn = fg(xn, gn);
      ++evals;
      if (fn <= f + 1e-4 * t * gd || fn <= f + 1e-12 * std::abs(f)) break;  // Armijo, or within rounding of f
      t *= 0.5;
    }
    Vec s(n), y(n);
    for (std::size_t i = 0; i < n; ++i) s[i] = xn[i] - x[i], y[i] = gn[i] - g[i];
    const double sy = cblas_ddot(int(n), s.data(), 1, y.data(), 1);
    if (sy > 1e-10) {
      S.push_back(std::move(s));
      Y.push_back(std::move(y));
      rho.push_back(1.0 / sy);
      if (S.size() > m) S.erase(S.begin()), Y.erase(Y.begin()), rho.erase(rho.begin());
    }
    x.swap(xn);
    g.swap(gn);
    f = fn;
  }
  benchmark::DoNotOptimize(f);
  return evals;
}

// The AD objective seen as flat arrays.
template <class F>
std::function<double(const Vec&, Vec&)> ad_objective(const F& f, std::size_t n) {
  return [f, n](const Vec& x, Vec& g) {
    Array xa = Array::from_shape({n});
    std::copy(x.begin(), x.end(), xa.begin());
    auto [y, gr] = xgrad::value_and_grad(f)(Tensor(std::move(xa)));
    std::copy(gr.value().begin(), gr.value().end(), g.begin());
    return y.item();
  };
}

// ---- benchmarks -------------------------------------------------------------------------------------------------

template <class F>
void run_xgrad(benchmark::State& state, const F& f, const Array& x0) {
  const xgrad::optim::LBFGS solver{.maxiter = kIters, .tol = 0.0};
  int evals = 0;
  for (auto _ : state) {
    auto [x, s] = solver.run(f, Tensor(x0));
    benchmark::DoNotOptimize(x);
    evals = s.num_fun_eval;
  }
  state.counters["time_per_iter"] = bench::time_per_op(kIters);
  state.counters["evals_per_iter"] = double(evals) / kIters;
}
void run_hand(benchmark::State& state, const std::function<double(const Vec&, Vec&)>& fg, const Array& x0) {
  int evals = 0;
  const Vec x(x0.begin(), x0.end());
  for (auto _ : state) evals = hand_lbfgs(fg, x, kIters);
  state.counters["time_per_iter"] = bench::time_per_op(kIters);
  state.counters["evals_per_iter"] = double(evals) / kIters;
}

void BM_lbfgs_xgrad_rosenbrock(benchmark::State& s) { run_xgrad(s, rosenbrock, rosenbrock_start(s.range(0))); }
void BM_lbfgs_hand_rosenbrock(benchmark::State& s) { run_hand(s, rosenbrock_hand, rosenbrock_start(s.range(0))); }
void BM_lbfgs_hand_ad_rosenbrock(benchmark::State& s) {
  run_hand(s, ad_objective(rosenbrock, s.range(0)), rosenbrock_start(s.range(0)));
}
void BM_lbfgs_xgrad_least_squares(benchmark::State& s) {
  const auto& p = least_squares(s.range(0));
  run_xgrad(s, [&p](const Tensor& x) { return p(x); }, Array(xt::zeros<double>({p.d})));
}
void BM_lbfgs_hand_least_squares(benchmark::State& s) {
  const auto& p = least_squares(s.range(0));
  run_hand(s, [&p](const Vec& x, Vec& g) { return p.hand(x, g); }, Array(xt::zeros<double>({p.d})));
}
void BM_lbfgs_hand_ad_least_squares(benchmark::State& s) {
  const auto& p = least_squares(s.range(0));
  run_hand(s, ad_objective([&p](const Tensor& x) { return p(x); }, p.d), Array(xt::zeros<double>({p.d})));
}

}  // namespace

BENCHMARK(BM_lbfgs_xgrad_rosenbrock)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lbfgs_hand_rosenbrock)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lbfgs_hand_ad_rosenbrock)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lbfgs_xgrad_least_squares)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lbfgs_hand_least_squares)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lbfgs_hand_ad_least_squares)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
