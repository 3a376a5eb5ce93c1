#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("LBFGS: Rosenbrock 2-D from (-1.2, 1) to tol 1e-8 in fewer than 200 iterations") {
  opt::LBFGS solver;
  solver.maxiter = 500;
  solver.tol = 1e-8;
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(state.status == opt::Status::converged);
  CHECK(state.error <= 1e-8);
  CHECK(state.iter_num < 200);
  CHECK(max_abs_diff(x, 1.0) < 1e-7);
  CHECK(state.value < 1e-14);
  CHECK(state.num_fun_eval < 3 * state.iter_num);
}

TEST_CASE("LBFGS: Rosenbrock 2-D from (-1.2, 1) with the More-Thuente and Hager-Zhang line searches") {
  for (auto kind : {opt::LineSearchKind::more_thuente, opt::LineSearchKind::hager_zhang}) {
    const opt::LBFGS solver{.maxiter = 500, .tol = 1e-8, .linesearch = kind};
    auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
    INFO("line search " << static_cast<int>(kind) << ": " << to_string(state.status) << " after "
                        << state.iter_num << " iterations, " << state.num_fun_eval << " evaluations");
    CHECK(state.status == opt::Status::converged);
    CHECK(state.error <= 1e-8);
    CHECK(state.iter_num < 200);
    CHECK(max_abs_diff(x, 1.0) < 1e-7);
    CHECK(state.num_fun_eval < 3 * state.iter_num);
  }
}

TEST_CASE("LBFGS: extended Rosenbrock 10-D, with each line search") {
  for (auto kind : {opt::LineSearchKind::zoom, opt::LineSearchKind::backtracking, opt::LineSearchKind::more_thuente,
                    opt::LineSearchKind::hager_zhang}) {
    const opt::LBFGS solver{.maxiter = 500, .tol = 1e-8, .linesearch = kind};
    auto [x, state] = solver.run(ext_rosenbrock, rosenbrock_start(10));
    INFO("line search " << static_cast<int>(kind) << ": " << to_string(state.status));
    CHECK(state.status == opt::Status::converged);
    CHECK(state.iter_num < 200);
    CHECK(max_abs_diff(x, 1.0) < 1e-7);
    CHECK(static_cast<int>(state.s_history.size()) <= solver.history_size);
    CHECK(state.s_history.size() == state.y_history.size());
    CHECK(state.rho_history.size() == state.s_history.size());
    CHECK(state.gamma > 0.0);
  }
}

TEST_CASE("LBFGS: a quadratic with a known minimum (0) and the init_state/update loop") {
  opt::LBFGS solver{.tol = 1e-10};
  Tensor x(Array{1.0, -2.0, 0.5});
  auto state = solver.init_state(quadratic, x);
  CHECK(state.status == opt::Status::running);
  CHECK(state.num_fun_eval == 1);
  CHECK(state.error == doctest::Approx(std::sqrt(1.0 + 36.0 + 0.0625)));
  for (int k = 0; k < 20 && state.status == opt::Status::running; ++k) {
    auto [xn, sn] = solver.update(quadratic, x, state);
    CHECK(sn.value <= state.value);  // monotone
    x = xn;
    state = sn;
  }
  CHECK(state.status == opt::Status::converged);
  CHECK(max_abs_diff(x, 0.0) < 1e-9);
  // the bound spelling without the objective argument gives the same result
  auto bound = solver.bind(quadratic);
  auto [y, s2] = bound.run(Tensor(Array{1.0, -2.0, 0.5}));
  CHECK(s2.iter_num == state.iter_num);
  CHECK(max_abs_diff(x, y) == 0.0);
}

TEST_CASE("LBFGS: ridge regression against the closed form; extra arguments pass through") {
  const auto data = ridge_data(40, 6);
  const double lambda = 0.5;
  const opt::LBFGS solver{.tol = 1e-9};
  auto [w, state] = solver.run(ridge, Tensor(Array(xt::zeros<double>({6}))), data.X, data.y, lambda);
  CHECK(state.status == opt::Status::converged);
  CHECK(max_abs_diff(w, ridge_solution(data, lambda)) < 1e-8);
  // another lambda, through the same arguments, gives another (correct) solution
  auto [w2, s2] = solver.run(ridge, Tensor(Array(xt::zeros<double>({6}))), data.X, data.y, 50.0);
  CHECK(s2.status == opt::Status::converged);
  CHECK(max_abs_diff(w2, ridge_solution(data, 50.0)) < 1e-8);
  CHECK(max_abs_diff(w, w2) > 1e-3);
}

TEST_CASE("LBFGS: the two-loop recursion is global: a struct of two leaves gives the raveled iterates") {
  const auto run = check_split_iterates(opt::LBFGS{.tol = 1e-10, .history_size = 4});
  CHECK(run.steps > 5);
  CHECK(run.status == opt::Status::converged);
}

TEST_CASE("LBFGS: an objective unbounded below ends unbounded, never converged") { check_unbounded(opt::LBFGS{}); }

TEST_CASE("LBFGS: NaN objectives end with Status::non_finite and finite params") { check_nan_objectives(opt::LBFGS{}); }

TEST_CASE("LBFGS: maxiter gives Status::max_iterations; counters are consistent") {
  check_max_iterations(opt::LBFGS{});
}

TEST_CASE("LBFGS: the callback sees every iteration and can stop the run; verbose prints the table") {
  check_callback_and_verbose(opt::LBFGS{}, "LBFGS", Tensor(Array{-1.2, 1.0}));
}

TEST_CASE("Status: to_string") {
  CHECK(opt::to_string(opt::Status::converged) == "converged");
  CHECK(opt::to_string(opt::Status::max_iterations) == "max_iterations");
  CHECK(opt::to_string(opt::Status::line_search_failed) == "line_search_failed");
  CHECK(opt::to_string(opt::Status::non_finite) == "non_finite");
  CHECK(opt::to_string(opt::Status::unbounded) == "unbounded");
  CHECK(opt::to_string(opt::Status::running) == "running");
}
