#include <doctest/doctest.h>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
template <class Solver>
void every_line_search(Solver solver, const char* name) {
  for (auto kind : {opt::LineSearchKind::zoom, opt::LineSearchKind::backtracking, opt::LineSearchKind::more_thuente,
                    opt::LineSearchKind::hager_zhang}) {
    solver.linesearch = kind;
    auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
    INFO(name << " with line search " << static_cast<int>(kind) << ": " << to_string(state.status) << " after "
              << state.iter_num << " iterations, " << state.num_fun_eval << " evaluations");
    CHECK(state.status == opt::Status::converged);
    CHECK(max_abs_diff(x, 1.0) < 1e-5);
    CHECK(state.num_linesearch_iter > 0);
  }
}
}  // namespace

TEST_CASE("solvers: every solver with every line search reaches the Rosenbrock minimum") {
  every_line_search(opt::LBFGS{.maxiter = 500, .tol = 1e-8}, "LBFGS");
  every_line_search(opt::BFGS{.maxiter = 500, .tol = 1e-8}, "BFGS");
  every_line_search(opt::NonlinearCG{.maxiter = 2000, .tol = 1e-8}, "NonlinearCG");
  every_line_search(opt::NewtonCG{.maxiter = 500, .tol = 1e-8}, "NewtonCG");
}

TEST_CASE("solvers: L2-regularised logistic regression to a tight gradient norm, all solvers agree") {
  auto k = xgrad::random::split(xgrad::random::key(5), 2);
  const std::size_t n = 200, d = 8;
  const Array Xa = xgrad::random::normal(k[0], {n, d});
  const Array ya = xgrad::random::bernoulli(k[1], 0.4, {n});
  const Tensor X(Xa), y(ya);
  const double lambda = 1e-2;
  auto loss = [&](const Tensor& w) {
    const Tensor z = matmul(X, w);
    return mean(softplus(z) - y * z) + 0.5 * lambda * sum(square(w));
  };
  // The gradient by its formula, independent of the AD core: X^T (sigmoid(X w) - y) / n + lambda w.
  auto hand_grad_norm = [&](const Array& w) {
    Array z = Array::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0.0;
      for (std::size_t j = 0; j < d; ++j) s += Xa(i, j) * w(j);
      z(i) = 1.0 / (1.0 + std::exp(-s)) - ya(i);
    }
    double total = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
      double g = lambda * w(j);
      for (std::size_t i = 0; i < n; ++i) g += Xa(i, j) * z(i) / double(n);
      total += g * g;
    }
    return std::sqrt(total);
  };
  const Tensor w0(Array(xt::zeros<double>({d})));
  const auto lbfgs = opt::LBFGS{.tol = 1e-10}.run(loss, w0);
  CHECK(lbfgs.state.status == opt::Status::converged);
  CHECK(hand_grad_norm(lbfgs.params.value()) < 1e-9);
  auto agree = [&](const auto& r, const char* name) {
    INFO(name << ": " << to_string(r.state.status) << " after " << r.state.iter_num);
    CHECK(r.state.status == opt::Status::converged);
    CHECK(hand_grad_norm(r.params.value()) < 1e-9);
    CHECK(max_abs_diff(r.params, lbfgs.params) < 1e-8);
  };
  agree(opt::BFGS{.tol = 1e-10}.run(loss, w0), "BFGS");
  agree(opt::NonlinearCG{.maxiter = 2000, .tol = 1e-10}.run(loss, w0), "NonlinearCG");
  agree(opt::NewtonCG{.tol = 1e-10}.run(loss, w0), "NewtonCG");
}
