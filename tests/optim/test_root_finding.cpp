// Newton, Broyden and Bisection: roots of nonlinear systems, convergence rates, and bad input.
#include <doctest/doctest.h>

#include <cmath>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
// x^2 + y^2 = 4, exp(x) + y = 1: a root near (-1.8163, 0.8374) and one near (1.0042, -1.7296).
Tensor circle_exp(const Tensor& v) {
  const Tensor x = slice(v, 0, 0, 1), y = slice(v, 0, 1, 2);
  return concatenate({square(x) + square(y) - 4.0, exp(x) + y - 1.0});
}
double residual_norm(const Tensor& v) { return std::sqrt(xt::sum(xt::square(circle_exp(v).value()))()); }
}  // namespace

TEST_CASE("Newton: a root of a nonlinear system, quadratically") {
  std::vector<double> errors;
  auto [x, s] = opt::Newton{.tol = 1e-13, .callback = [&](const opt::IterationInfo& it) {
                              errors.push_back(it.error);
                              return false;
                            }}.run(circle_exp, Tensor(Array{-1.0, 1.0}));
  CHECK(s.status == opt::Status::converged);
  CHECK(s.converged_by == opt::ConvergenceTest::gtol);
  CHECK(residual_norm(x) <= 1e-13);
  CHECK(x.value()(0) == doctest::Approx(-1.8162640688251506).epsilon(1e-12));
  CHECK(s.iter_num <= 6);
  CHECK(s.num_jac_eval == s.iter_num);
  // Quadratic convergence: each error about the square of the last (up to a constant) once close.
  REQUIRE(errors.size() >= 3);
  const std::size_t k = errors.size() - 2;
  CHECK(errors[k] <= 10.0 * errors[k - 1] * errors[k - 1]);
  // From far away the backtracking still finds a root.
  auto [xf, sf] = opt::Newton{.tol = 1e-12}.run(circle_exp, Tensor(Array{10.0, -10.0}));
  CHECK(sf.status == opt::Status::converged);
  CHECK(residual_norm(xf) <= 1e-12);
}

TEST_CASE("Broyden: the same root with one Jacobian") {
  auto [x, s] = opt::Broyden{.tol = 1e-12}.run(circle_exp, Tensor(Array{-1.0, 1.0}));
  CHECK(s.status == opt::Status::converged);
  CHECK(residual_norm(x) <= 1e-12);
  CHECK(x.value()(0) == doctest::Approx(-1.8162640688251506).epsilon(1e-10));
  CHECK(s.num_jac_eval < s.iter_num);  // superlinear on secant updates, not a Jacobian per step
  // Extra arguments pass through; a system of any shape.
  auto cube = [](const Tensor& x, const Tensor& a) { return x * x * x - a; };
  auto [c, sc] = opt::Broyden{.tol = 1e-12}.run(cube, Tensor(Array{{1.0, 1.5}, {2.5, 1.0}}),
                                                Tensor(Array{{8.0, 27.0}, {64.0, 1.0}}));
  CHECK(sc.status == opt::Status::converged);
  CHECK(xt::amax(xt::abs(c.value() - Array{{2.0, 3.0}, {4.0, 1.0}}))() < 1e-10);
}

TEST_CASE("Bisection: a scalar root in its bracket") {
  auto f = [](const Tensor& x) { return cos(x) - x; };
  auto [x, s] = opt::Bisection{.lower = 0.0, .upper = 1.0, .tol = 1e-14}.run(f, Tensor(0.5));
  CHECK(x.item() == doctest::Approx(0.7390851332151607).epsilon(1e-13));
  CHECK(s.status != opt::Status::running);
  CHECK(s.error <= 1e-13);
  auto [x2, s2] = opt::Bisection{.lower = 0.0, .upper = 1.0, .tol = 0.0, .xtol = 1e-6}.run(f, Tensor(0.5));
  CHECK(s2.converged_by == opt::ConvergenceTest::xtol);
  CHECK(std::abs(x2.item() - 0.7390851332151607) <= 1e-6);
  CHECK(s2.iter_num <= 21);
  const opt::Bisection no_root{.lower = 2.0, .upper = 3.0}, crossed{.lower = 1.0, .upper = 0.0};
  CHECK_THROWS_WITH_AS(no_root.run(f, Tensor(0.5)), doctest::Contains("same sign at both ends"), ValueError);
  CHECK_THROWS_AS(crossed.run(f, Tensor(0.5)), ValueError);
  CHECK_THROWS_AS(opt::Bisection{}.run(f, Tensor(Array{0.5, 0.5})), ShapeError);
}

TEST_CASE("root finders: bad input gets an honest status or a clear error") {
  // NaN at the start.
  auto nan_F = [](const Tensor& x) { return log(x - 5.0); };
  CHECK(opt::Newton{}.run(nan_F, Tensor(Array{1.0, 2.0})).state.status == opt::Status::non_finite);
  CHECK(opt::Broyden{}.run(nan_F, Tensor(Array{1.0, 2.0})).state.status == opt::Status::non_finite);
  // F of the wrong size.
  auto wide = [](const Tensor& x) { return concatenate({x, x}); };
  CHECK_THROWS_WITH_AS(opt::Newton{}.run(wide, Tensor(Array{1.0, 2.0})),
                       doctest::Contains("F returned 4 values for 2 unknowns"), ShapeError);
  // No root: x^2 + 1 = 0. Never converged; ends on a failed search or the iteration limit.
  auto none = [](const Tensor& x) { return square(x) + 1.0; };
  const auto r = opt::Newton{.maxiter = 50}.run(none, Tensor(Array{0.5}));
  CHECK(r.state.status != opt::Status::converged);
  CHECK(r.state.status != opt::Status::running);
  // A singular Jacobian at the start (x^2 at 0 has J = 0): the least-squares step, no crash, no NaN.
  auto flat_at_0 = [](const Tensor& x) { return square(x) - 1.0; };
  const auto q = opt::Newton{.tol = 1e-12}.run(flat_at_0, Tensor(Array{0.0}));
  CHECK(flat::all_finite(q.params.value()));
  CHECK(q.state.status != opt::Status::running);
}
