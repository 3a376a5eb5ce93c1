#include <doctest/doctest.h>

#include "optim/mgh_problems.hpp"
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

namespace {
// Meyer's function (MGH problem 10): LBFGS's gradient norm cannot reach 1e-6 at its minimum (f = 87.9), where
// approximate-Wolfe steps cycle between two points within f's rounding level.
const MGHProblem& meyer() { return mgh_problems()[9]; }

// The sequence of (value, error) the callback sees, with the start point first.
struct Seen {
  std::vector<double> value, error;
};
template <class Solver>
auto run_seen(Solver solver, const MGHProblem& p, Seen& seen) {
  const Tensor x0 = mgh::vec(p.x0);
  seen.value = {p(x0).item()};
  seen.error = {std::sqrt(sum(square(grad(std::cref(p))(x0))).item())};
  solver.callback = [&](const opt::IterationInfo& it) {
    seen.value.push_back(it.value);
    seen.error.push_back(it.error);
    return false;
  };
  return solver.run(std::cref(p), x0);
}
}  // namespace

TEST_CASE("solvers: a cycling run ends stalled, never converged, only after stall_iterations without progress") {
  for (auto kind : {opt::LineSearchKind::zoom, opt::LineSearchKind::hager_zhang}) {
    INFO("line search " << static_cast<int>(kind));
    Seen seen;
    const auto [x, s] = run_seen(opt::LBFGS{.maxiter = 2000, .tol = 1e-6, .linesearch = kind}, meyer(), seen);
    CHECK(s.status == opt::Status::stalled);
    CHECK(s.converged_by == opt::ConvergenceTest::none);
    CHECK(s.iter_num < 2000);
    CHECK(s.error > 1e-6);
    CHECK(std::abs(s.value - meyer().minima[0]) <= 1e-6 * meyer().minima[0]);  // at the minimum, not certified
    // recomputed from the values and errors the callback saw: the last 10 iterations brought no new lowest value
    // or error (counting from the first iteration, as the solver does), and no earlier run of 10 did
    REQUIRE(seen.value.size() == static_cast<std::size_t>(s.iter_num) + 1);
    double best_f = INFINITY, best_g = INFINITY;
    int streak = 0, first_stall = -1;
    for (std::size_t k = 1; k < seen.value.size(); ++k) {
      const bool progress = seen.value[k] < best_f || seen.error[k] < best_g;
      best_f = std::min(best_f, seen.value[k]);
      best_g = std::min(best_g, seen.error[k]);
      streak = progress ? 0 : streak + 1;
      if (streak >= 10 && first_stall < 0) first_stall = static_cast<int>(k);
    }
    CHECK(first_stall == s.iter_num);
  }
  // stall_iterations = 0 switches the test off: the same run goes on to maxiter
  const auto off = opt::LBFGS{.maxiter = 600, .tol = 1e-6, .stall_iterations = 0}.run(std::cref(meyer()),
                                                                                        mgh::vec(meyer().x0));
  CHECK(off.state.status == opt::Status::max_iterations);
  CHECK(off.state.iter_num == 600);
}

TEST_CASE("solvers: NewtonCG's alternating unit steps on Meyer end stalled, never converged") {
  const auto [x, s] = opt::NewtonCG{.maxiter = 2000, .tol = 1e-6, .linesearch = opt::LineSearchKind::more_thuente}
                          .run(std::cref(meyer()), mgh::vec(meyer().x0));
  CHECK(s.status == opt::Status::stalled);
  CHECK(s.iter_num < 2000);
  CHECK(s.error > 1e-6);
}

TEST_CASE("solvers: ftol ends a run at the first iteration whose relative decrease of f is at most ftol") {
  const double ftol = 1e-10;
  auto check = [&](auto solver, const char* name) {
    INFO(name);
    Seen seen;
    const auto [x, s] = run_seen(solver, mgh_problems()[0], seen);  // Rosenbrock, f* = 0
    CHECK(s.status == opt::Status::converged);
    CHECK(s.converged_by == opt::ConvergenceTest::ftol);
    CHECK(s.error > solver.tol);  // the gradient test alone would not have stopped here
    CHECK(s.value < 1e-6);
    const std::size_t last = seen.value.size() - 1;
    auto small = [&](std::size_t k) {
      const double a = seen.value[k - 1], b = seen.value[k];
      return a - b <= ftol * std::max({std::abs(a), std::abs(b), 1.0});
    };
    CHECK(small(last));
    for (std::size_t k = 1; k < last; ++k) CHECK_FALSE(small(k));
  };
  check(opt::LBFGS{.tol = 1e-14, .ftol = ftol}, "LBFGS");
  check(opt::BFGS{.tol = 1e-14, .ftol = ftol}, "BFGS");
  check(opt::NonlinearCG{.maxiter = 2000, .tol = 1e-14, .ftol = ftol}, "NonlinearCG");
  check(opt::NewtonCG{.tol = 1e-14, .ftol = ftol}, "NewtonCG");
  check(opt::GradientDescent{.maxiter = 20000, .tol = 1e-14, .ftol = ftol}, "GradientDescent");
}

TEST_CASE("solvers: xtol ends a run at the first step shorter than xtol max(1, ||x||)") {
  const double xtol = 1e-6;
  auto check = [&](auto solver, const char* name) {
    INFO(name);
    const auto& p = mgh_problems()[0];
    Tensor x = mgh::vec(p.x0);
    auto s = solver.init_state(std::cref(p), x);
    std::vector<double> steps, norms;
    for (int k = 0; k < 500 && s.status == opt::Status::running; ++k) {
      auto [xn, sn] = solver.update(std::cref(p), x, s);
      steps.push_back(std::sqrt(sum(square(xn - x)).item()));
      norms.push_back(std::sqrt(sum(square(x)).item()));
      x = xn;
      s = sn;
    }
    CHECK(s.status == opt::Status::converged);
    CHECK(s.converged_by == opt::ConvergenceTest::xtol);
    CHECK(s.error > solver.tol);
    REQUIRE_FALSE(steps.empty());
    CHECK(steps.back() <= xtol * std::max(1.0, norms.back()));
    for (std::size_t k = 0; k + 1 < steps.size(); ++k) CHECK(steps[k] > xtol * std::max(1.0, norms[k]));
  };
  check(opt::LBFGS{.tol = 1e-14, .xtol = xtol}, "LBFGS");
  check(opt::BFGS{.tol = 1e-14, .xtol = xtol}, "BFGS");
  check(opt::NewtonCG{.tol = 1e-14, .xtol = xtol}, "NewtonCG");
}

TEST_CASE("solvers: converged_by says gtol for the gradient test, none otherwise; the callback sees it") {
  std::vector<opt::ConvergenceTest> seen;
  opt::LBFGS solver{.tol = 1e-8};
  solver.callback = [&](const opt::IterationInfo& it) {
    seen.push_back(it.converged_by);
    return false;
  };
  const auto [x, s] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(s.status == opt::Status::converged);
  CHECK(s.converged_by == opt::ConvergenceTest::gtol);
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.back() == opt::ConvergenceTest::gtol);
  for (std::size_t k = 0; k + 1 < seen.size(); ++k) CHECK(seen[k] == opt::ConvergenceTest::none);
  const auto capped = opt::LBFGS{.maxiter = 3, .tol = 1e-8}.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(capped.state.status == opt::Status::max_iterations);
  CHECK(capped.state.converged_by == opt::ConvergenceTest::none);
  CHECK(opt::to_string(opt::Status::stalled) == "stalled");
  CHECK(opt::to_string(opt::ConvergenceTest::ftol) == "ftol");
  CHECK(opt::to_string(opt::ConvergenceTest::xtol) == "xtol");
  CHECK(opt::to_string(opt::ConvergenceTest::gtol) == "gtol");
}
