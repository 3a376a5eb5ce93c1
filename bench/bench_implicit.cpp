// Hypergradients of ridge regression (issue 5). n = 1000 rows, d = 100 features, alpha = 0.1; the outer loss is
// 0.5 mean((X_val w*(alpha) - y_val)^2) and we want d outer / d alpha.
//
//   BM_ridge_closed_form       baseline: w* and the hypergradient -grad_w outer . (X^T X / n + alpha I)^{-1} w*
//                              with LAPACK (xtensor-blas), no AD.
//   BM_ridge_implicit/tol/atol LBFGS to ||grad|| <= 10^-tol, then the hypergradient by implicit differentiation
//                              (one node; the adjoint by CG on Hessian-vector products to a relative residual
//                              10^-atol; 10 is the default).
//   BM_ridge_solve_only/tol    the LBFGS solve of BM_ridge_implicit alone (where its time goes).
//   BM_ridge_unrolled/steps    gradient descent (step 1/L) for `steps` iterations on traced tensors, differentiated
//                              through all of them.
//   BM_ridge_bound             BM_ridge_implicit/10/10 with the error bound (ImplicitOptions::error_bound): its cost.
//   BM_ridge_path/mode/hard    hypergradients at 10 values of alpha along an outer path (alpha to 1.09 alpha), each wanted
//                              to 1e-6: mode 0, today's fixed tight tolerances (LBFGS 1e-10, CG 1e-10) from a cold
//                              start; 1, the same warm-started from the last solution; 2, automatic tolerances
//                              (hypergradient_tol = 1e-6, warm starts for the solution and the adjoint). hard = 1:
//                              the ill-conditioned problem (columns scaled down to 1e-2, alpha = 1e-3).
// Counters: rel_error (against the closed form), tape_nodes (ad::tape_size() at the end of the forward, the tape's
// peak), inner_iters; for the path, max_error (against the closed form) and max_bound, inner_iters and
// adjoint_iters summed over the path.
#include <cmath>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>
#include <xtensor-blas/xlinalg.hpp>

#include "common.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::Array;
using xgrad::Tensor;
namespace im = xgrad::implicit;
namespace opt = xgrad::optim;

struct Problem {
  Array X, y, Xv, yv;
  Tensor tX, ty, tXv, tyv;  // the same as Tensors, made once (a Tensor made from an Array copies it)
  double alpha = 0.1;
  double L = 0.0;       // largest eigenvalue of X^T X / n + alpha I
  double exact = 0.0;   // closed-form hypergradient
};

Tensor inner(const Tensor& w, const Tensor& alpha, const Tensor& X, const Tensor& y) {
  return 0.5 * xgrad::mean(xgrad::square(xgrad::matmul(X, w) - y)) + 0.5 * alpha * xgrad::sum(xgrad::square(w));
}
Tensor outer(const Tensor& w, const Problem& p) {
  return 0.5 * xgrad::mean(xgrad::square(xgrad::matmul(p.tXv, w) - p.tyv));
}

double closed_form(const Problem& p, double alpha) {
  const double n = double(p.X.shape()[0]);
  Array H = xt::linalg::dot(xt::transpose(p.X), p.X) / n;
  for (std::size_t i = 0; i < H.shape()[0]; ++i) H(i, i) += alpha;
  const Array w = xt::linalg::solve(H, Array(xt::linalg::dot(xt::transpose(p.X), p.y) / n));
  const Array gw = xt::linalg::dot(xt::transpose(p.Xv), Array(xt::linalg::dot(p.Xv, w) - p.yv)) / double(p.Xv.shape()[0]);
  return -xt::sum(gw * Array(xt::linalg::solve(H, w)))();
}

Problem make_problem(bool hard) {
  Problem q;
  const std::size_t n = 1000, d = 100;
  q.X = bench::uniform({n, d}, -1.7, 1.7, 1);
  if (hard) {
    for (std::size_t j = 0; j < d; ++j) xt::view(q.X, xt::all(), j) *= std::pow(1e-2, double(j) / double(d - 1));
    q.alpha = 1e-3;
  }
  const Array w_true = bench::uniform({d}, -1.0, 1.0, 2);
  q.y = xt::linalg::dot(q.X, w_true) + bench::uniform({n}, -0.5, 0.5, 3);
  q.Xv = bench::uniform({n, d}, -1.7, 1.7, 4);
  if (hard)
    for (std::size_t j = 0; j < d; ++j) xt::view(q.Xv, xt::all(), j) *= std::pow(1e-2, double(j) / double(d - 1));
  q.yv = xt::linalg::dot(q.Xv, w_true);
  const Array gram = xt::linalg::dot(xt::transpose(q.X), q.X) / double(n);
  q.L = xt::amax(xt::linalg::eigvalsh(gram))() + q.alpha;
  q.exact = closed_form(q, q.alpha);
  q.tX = Tensor(q.X);
  q.ty = Tensor(q.y);
  q.tXv = Tensor(q.Xv);
  q.tyv = Tensor(q.yv);
  return q;
}

// hard: the columns scaled from 1 down to 1e-2 and alpha = 1e-3, so that X^T X / n + alpha I has a condition number
// of about 1e3 and the solves need many more iterations.
const Problem& problem(bool hard = false) {
  static const Problem easy = make_problem(false), difficult = make_problem(true);
  return hard ? difficult : easy;
}

void report(benchmark::State& state, double got, std::size_t nodes) {
  state.counters["rel_error"] = std::abs(got - problem().exact) / std::abs(problem().exact);
  state.counters["tape_nodes"] = double(nodes);
}

void BM_ridge_closed_form(benchmark::State& state) {
  const Problem& p = problem();
  double g = 0.0;
  for (auto _ : state) benchmark::DoNotOptimize(g = closed_form(p, p.alpha));
  report(state, g, 0);
}

void BM_ridge_implicit(benchmark::State& state) {
  const Problem& p = problem();
  const double tol = std::pow(10.0, -double(state.range(0)));
  const im::ImplicitOptions options{.solver = {.method = im::Method::cg,
                                               .options = {.tol = std::pow(10.0, -double(state.range(1)))}}};
  const Tensor w0(Array(xt::zeros<double>({p.X.shape()[1]})));
  double g = 0.0;
  std::size_t nodes = 0;
  int iters = 0;
  for (auto _ : state) {
    g = xgrad::grad([&](const Tensor& a) {
          auto [w, s] = im::argmin(options, opt::LBFGS{.maxiter = 1000, .tol = tol}, inner, w0, a, p.tX, p.ty);
          iters = s.iter_num;
          const Tensor val = outer(w, p);
          nodes = xgrad::ad::tape_size();
          return val;
        })(Tensor(p.alpha)).item();
  }
  report(state, g, nodes);
  state.counters["inner_iters"] = iters;
}

// The inner solve alone (no hypergradient): how the implicit benchmark's time splits.
void BM_ridge_solve_only(benchmark::State& state) {
  const Problem& p = problem();
  const double tol = std::pow(10.0, -double(state.range(0)));
  const Tensor w0(Array(xt::zeros<double>({p.X.shape()[1]})));
  int iters = 0, evals = 0;
  for (auto _ : state) {
    auto [w, s] = opt::LBFGS{.maxiter = 1000, .tol = tol}.run(inner, w0, Tensor(p.alpha), p.tX, p.ty);
    benchmark::DoNotOptimize(w);
    iters = s.iter_num;
    evals = s.num_fun_eval;
  }
  state.counters["inner_iters"] = iters;
  state.counters["fun_evals"] = evals;
}

void BM_ridge_unrolled(benchmark::State& state) {
  const Problem& p = problem();
  const int steps = int(state.range(0));
  const Tensor w0(Array(xt::zeros<double>({p.X.shape()[1]})));
  double g = 0.0;
  std::size_t nodes = 0;
  for (auto _ : state) {
    g = xgrad::grad([&](const Tensor& a) {
          const Tensor w = im::unroll(opt::sgd(1.0 / p.L), inner, w0, {.steps = steps}, a, p.tX, p.ty);
          const Tensor val = outer(w, p);
          nodes = xgrad::ad::tape_size();
          return val;
        })(Tensor(p.alpha)).item();
  }
  report(state, g, nodes);
  state.counters["inner_iters"] = steps;
}

void BM_ridge_bound(benchmark::State& state) {
  const Problem& p = problem();
  im::ImplicitOptions options{.solver = {.method = im::Method::cg, .options = {.tol = 1e-10}}};
  options.report = std::make_shared<im::ImplicitReport>();
  options.error_bound = true;
  const Tensor w0(Array(xt::zeros<double>({p.X.shape()[1]})));
  double g = 0.0;
  for (auto _ : state) {
    g = xgrad::grad([&](const Tensor& a) {
          auto [w, s] = im::argmin(options, opt::LBFGS{.maxiter = 1000, .tol = 1e-10}, inner, w0, a, p.tX, p.ty);
          return outer(w, p);
        })(Tensor(p.alpha)).item();
  }
  report(state, g, 0);
  state.counters["bound"] = options.report->error_bound.bound;
  state.counters["bound_ms"] = 1e3 * options.report->error_bound.seconds;
}

void BM_ridge_path(benchmark::State& state) {
  const Problem& p = problem(state.range(1) == 1);
  const int mode = int(state.range(0));
  constexpr int kPoints = 10;
  std::vector<double> exact;
  for (int k = 0; k < kPoints; ++k) exact.push_back(closed_form(p, p.alpha * (1.0 + 0.01 * k)));
  double max_error = 0.0, max_bound = 0.0;
  int inner_iters = 0, adjoint_iters = 0;
  for (auto _ : state) {
    im::ImplicitOptions options{.solver = {.method = im::Method::cg, .options = {.tol = 1e-10}}};
    options.report = std::make_shared<im::ImplicitReport>();
    if (mode == 2) options.hypergradient_tol = 1e-6;
    const double inner_tol = mode == 2 ? 1e-4 : 1e-10;  // automatic: the solver's tol is where it starts
    Tensor w(Array(xt::zeros<double>({p.X.shape()[1]})));
    max_error = max_bound = 0.0;
    inner_iters = adjoint_iters = 0;
    for (int k = 0; k < kPoints; ++k) {
      const Tensor w0 = mode == 0 ? Tensor(Array(xt::zeros<double>({p.X.shape()[1]}))) : w;
      const double g = xgrad::grad([&](const Tensor& a) {
                         auto [wk, s] = im::argmin(options, opt::LBFGS{.maxiter = 1000, .tol = inner_tol}, inner, w0, a,
                                                   p.tX, p.ty);
                         inner_iters += s.iter_num;
                         w = xgrad::stop_gradient(wk);
                         return outer(wk, p);
                       })(Tensor(p.alpha * (1.0 + 0.01 * k))).item();
      adjoint_iters += options.report->adjoint.iterations;
      max_error = std::max(max_error, std::abs(g - exact[std::size_t(k)]));
      if (mode == 2) max_bound = std::max(max_bound, options.report->error_bound.bound);
    }
  }
  state.counters["max_error"] = max_error;
  state.counters["max_bound"] = max_bound;
  state.counters["inner_iters"] = inner_iters;
  state.counters["adjoint_iters"] = adjoint_iters;
}

}  // namespace

BENCHMARK(BM_ridge_bound)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ridge_path)->ArgsProduct({{0, 1, 2}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ridge_closed_form)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ridge_implicit)->Args({6, 10})->Args({10, 10})->Args({10, 8})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ridge_solve_only)->Arg(10)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ridge_unrolled)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
