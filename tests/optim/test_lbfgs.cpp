#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "optim/solver_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {

struct Split {  // the 5-vector of `chained` split over two leaves
  Tensor head;  // 2 values
  Tensor tail;  // 3 values
};
// A non-separable objective (chained Rosenbrock plus a coupling term) of a 5-vector.
Tensor chained(const Tensor& x) {
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  const Tensor a = slice(x, 0, 0, n - 1), b = slice(x, 0, 1, n);
  return sum(square(1.0 - a) + 10.0 * square(b - square(a))) + 0.1 * square(sum(x));
}
Tensor chained_split(const Split& s) { return chained(concatenate({s.head, s.tail})); }

}  // namespace

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
  const opt::LBFGS solver{.tol = 1e-10, .history_size = 4};
  Tensor x(Array{-1.0, 0.5, 2.0, -0.3, 0.8});
  Split p{Tensor(Array{-1.0, 0.5}), Tensor(Array{2.0, -0.3, 0.8})};
  auto sx = solver.init_state(chained, x);
  auto sp = solver.init_state(chained_split, p);
  int steps = 0;
  for (; steps < 60 && sx.status == opt::Status::running; ++steps) {
    auto [xn, sxn] = solver.update(chained, x, sx);
    auto [pn, spn] = solver.update(chained_split, p, sp);
    x = xn, sx = sxn, p = pn, sp = spn;
    const Tensor joined = concatenate({p.head, p.tail});
    INFO("iteration " << steps);
    REQUIRE(max_abs_diff(x, joined) <= 1e-13 * (1.0 + max_abs_diff(x, 0.0)));
    REQUIRE(sp.stepsize == doctest::Approx(sx.stepsize).epsilon(1e-12));
    REQUIRE(sp.num_fun_eval == sx.num_fun_eval);
  }
  CHECK(steps > 5);
  CHECK(sx.status == opt::Status::converged);
  CHECK(sp.status == opt::Status::converged);
  CHECK(tree::repr(sp.grad) == "Split(head=f64[2], tail=f64[3])");
}

TEST_CASE("LBFGS: an objective unbounded below ends unbounded, never converged") {
  const auto data = ridge_data(20, 3);
  opt::LBFGS solver;
  auto [w, state] = solver.run(linear_loss, Tensor(Array(xt::zeros<double>({3}))), data.X, data.y);
  CHECK(state.status == opt::Status::unbounded);
  for (double v : w.value()) CHECK(std::isfinite(v));
}

TEST_CASE("LBFGS: NaN objectives end with Status::non_finite and finite params") {
  opt::LBFGS solver;
  auto [x0, s0] = solver.run(nan_everywhere, Tensor(Array{1.0, 2.0}));
  CHECK(s0.status == opt::Status::non_finite);
  CHECK(s0.iter_num == 0);

  auto [x, state] = solver.run(nan_past_one, Tensor(Array{0.0, 0.0}));
  CHECK(state.status == opt::Status::non_finite);
  for (double v : x.value()) {
    CHECK(std::isfinite(v));
    CHECK(v < 1.0);
  }
  CHECK(std::isfinite(state.value));
}

TEST_CASE("LBFGS: maxiter gives Status::max_iterations; counters are consistent") {
  const opt::LBFGS solver{.maxiter = 5, .tol = 1e-12};
  auto [x, state] = solver.run(ext_rosenbrock, rosenbrock_start(10));
  CHECK(state.status == opt::Status::max_iterations);
  CHECK(state.iter_num == 5);
  CHECK(state.num_fun_eval >= state.iter_num + 1);
  CHECK(state.num_grad_eval == state.num_fun_eval);
  CHECK(state.num_linesearch_iter == state.num_fun_eval - 1);  // all but the initial evaluation
  CHECK(state.error == doctest::Approx(std::sqrt(sum(square(grad(ext_rosenbrock)(x))).item())));
  CHECK(state.value == doctest::Approx(ext_rosenbrock(x).item()));
}

TEST_CASE("LBFGS: the callback sees every iteration and can stop the run") {
  std::vector<opt::IterationInfo> seen;
  opt::LBFGS solver;
  solver.callback = [&](const opt::IterationInfo& info) {
    seen.push_back(info);
    return info.iter_num >= 3;
  };
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(state.iter_num == 3);
  CHECK(state.status == opt::Status::running);  // stopped early: not success
  REQUIRE(seen.size() == 3);
  for (std::size_t k = 0; k < seen.size(); ++k) {
    CHECK(seen[k].iter_num == static_cast<int>(k) + 1);
    CHECK(seen[k].num_fun_eval >= seen[k].iter_num);
    if (k > 0) CHECK(seen[k].value <= seen[k - 1].value);
  }
}

TEST_CASE("Status: to_string") {
  CHECK(opt::to_string(opt::Status::converged) == "converged");
  CHECK(opt::to_string(opt::Status::max_iterations) == "max_iterations");
  CHECK(opt::to_string(opt::Status::line_search_failed) == "line_search_failed");
  CHECK(opt::to_string(opt::Status::non_finite) == "non_finite");
  CHECK(opt::to_string(opt::Status::unbounded) == "unbounded");
  CHECK(opt::to_string(opt::Status::running) == "running");
}
