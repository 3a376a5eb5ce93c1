#include <doctest/doctest.h>

#include <cmath>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("BFGS: Rosenbrock 2-D from (-1.2, 1) to (1, 1)") {
  const opt::BFGS solver{.maxiter = 500, .tol = 1e-8};
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  MESSAGE("BFGS on Rosenbrock 2-D: " << state.iter_num << " iterations, " << state.num_fun_eval << " evaluations");
  CHECK(state.status == opt::Status::converged);
  CHECK(state.error <= 1e-8);
  CHECK(state.iter_num < 100);
  CHECK(max_abs_diff(x, 1.0) < 1e-7);
  CHECK(state.value < 1e-14);
  CHECK(state.inv_hessian.shape(0) == 2);
  CHECK(state.inv_hessian.shape(1) == 2);
}

TEST_CASE("BFGS: extended Rosenbrock 100-D, with zoom and with strong-Wolfe backtracking") {
  for (auto kind : {opt::LineSearchKind::zoom, opt::LineSearchKind::backtracking}) {
    const opt::BFGS solver{.maxiter = 1000, .tol = 1e-6, .linesearch = kind};
    auto [x, state] = solver.run(ext_rosenbrock, rosenbrock_start(100));
    INFO("line search " << static_cast<int>(kind) << ": " << to_string(state.status) << " after " << state.iter_num);
    CHECK(state.status == opt::Status::converged);
    CHECK(max_abs_diff(x, 1.0) < 1e-5);
    CHECK(state.inv_hessian.size() == 100 * 100);
  }
}

TEST_CASE("BFGS: random strongly convex quadratics against A^{-1} b") {
  for (std::uint64_t seed : {5u, 6u}) {
    const auto q = random_quadratic(25, 0.3, seed);
    const opt::BFGS solver{.maxiter = 200, .tol = 1e-10};
    auto [x, state] = solver.run(quadratic_form, Tensor(Array(xt::zeros<double>({25}))), q.A, q.b);
    INFO("seed " << seed);
    CHECK(state.status == opt::Status::converged);
    CHECK(max_abs_diff(x, quadratic_solution(q)) < 1e-9);  // ||x - x*|| <= ||grad|| / mu
    CHECK(state.iter_num <= 50);
  }
}

TEST_CASE("BFGS: every update satisfies the secant equation H y = s and keeps H symmetric") {
  const opt::BFGS solver{.tol = 1e-9};
  Tensor x = rosenbrock_start(6);
  auto state = solver.init_state(ext_rosenbrock, x);
  CHECK(state.num_updates == 0);
  CHECK(max_abs_diff(Tensor(state.inv_hessian), Tensor(opt::BFGS::identity(6))) == 0.0);
  int checked = 0;
  for (int k = 0; k < 200 && state.status == opt::Status::running; ++k) {
    auto [xn, sn] = solver.update(ext_rosenbrock, x, state);
    CHECK(sn.value <= state.value);
    if (sn.num_updates == state.num_updates + 1) {
      const Array s = flat::sub(flat::values(xn), flat::values(x));
      const Array y = flat::sub(flat::values(sn.grad), flat::values(state.grad));
      const Array hy = flat::negative(opt::BFGS::direction(sn.inv_hessian, y));
      CHECK(max_abs_diff(Tensor(hy), Tensor(s)) <= 1e-10 * (1.0 + flat::norm2(s)));
      CHECK(max_abs_diff(Tensor(sn.inv_hessian), Tensor(Array(xt::transpose(sn.inv_hessian)))) <= 1e-12);
      ++checked;
    }
    x = xn;
    state = sn;
  }
  CHECK(state.status == opt::Status::converged);
  CHECK(checked > 10);
  auto [y, s2] = solver.bind(ext_rosenbrock).run(rosenbrock_start(6));
  CHECK(s2.iter_num == state.iter_num);
  CHECK(max_abs_diff(x, y) == 0.0);
}

TEST_CASE("BFGS: the inverse Hessian is global: a struct of two leaves gives the raveled iterates") {
  const auto run = check_split_iterates(opt::BFGS{.tol = 1e-10});
  CHECK(run.steps > 5);
  CHECK(run.status == opt::Status::converged);
}

TEST_CASE("BFGS: an objective unbounded below ends unbounded, never converged") { check_unbounded(opt::BFGS{}); }

TEST_CASE("BFGS: NaN objectives end with Status::non_finite and finite params") { check_nan_objectives(opt::BFGS{}); }

TEST_CASE("BFGS: maxiter gives Status::max_iterations; counters are consistent") { check_max_iterations(opt::BFGS{}); }

TEST_CASE("BFGS: the callback sees every iteration and can stop the run; verbose prints the table") {
  check_callback_and_verbose(opt::BFGS{}, "BFGS", Tensor(Array{-1.2, 1.0}));
}
