#pragma once
// The six 1-D test functions of More & Thuente, "Line search algorithms with guaranteed sufficient decrease",
// ACM TOMS 20(3), 1994, Section 5 (Tables 1-6), as flat objectives along d = 1 from 0, and an independent check of
// the line-search conditions at a step. Shared by test_more_thuente, test_hager_zhang and test_linesearch.
#include <array>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <utility>

#include "optim/solver_problems.hpp"

namespace xgrad::testing {

/// phi_k(a) and phi_k'(a) for the paper's function k = 1..6.
inline std::pair<double, double> mt_phi(int k, double a) {
  switch (k) {
    case 1: {  // -a / (a^2 + beta), beta = 2
      const double q = a * a + 2.0;
      return {-a / q, (a * a - 2.0) / (q * q)};
    }
    case 2: {  // (a + beta)^5 - 2 (a + beta)^4, beta = 0.004
      const double b = a + 0.004;
      return {std::pow(b, 5) - 2.0 * std::pow(b, 4), std::pow(b, 3) * (5.0 * b - 8.0)};
    }
    case 3: {  // phi0(a) + 2 (1 - beta) / (l pi) sin(l pi a / 2), l = 39, beta = 0.01
      const double beta = 0.01, l = 39.0, pi = std::numbers::pi;
      double f0 = 0.0, g0 = 0.0;
      if (a <= 1.0 - beta) {
        f0 = 1.0 - a;
        g0 = -1.0;
      } else if (a >= 1.0 + beta) {
        f0 = a - 1.0;
        g0 = 1.0;
      } else {
        f0 = (a - 1.0) * (a - 1.0) / (2.0 * beta) + beta / 2.0;
        g0 = (a - 1.0) / beta;
      }
      return {f0 + 2.0 * (1.0 - beta) / (l * pi) * std::sin(l * pi * a / 2.0),
              g0 + (1.0 - beta) * std::cos(l * pi * a / 2.0)};
    }
    default: {  // Yanai, Ozawa & Kaneko: gamma(b1) sqrt((1 - a)^2 + b2^2) + gamma(b2) sqrt(a^2 + b1^2)
      const std::array<std::pair<double, double>, 3> betas{{{0.001, 0.001}, {0.01, 0.001}, {0.001, 0.01}}};
      const auto [b1, b2] = betas[static_cast<std::size_t>(k - 4)];
      auto gam = [](double b) { return std::sqrt(1.0 + b * b) - b; };
      const double r1 = std::sqrt((1.0 - a) * (1.0 - a) + b2 * b2), r2 = std::sqrt(a * a + b1 * b1);
      return {gam(b1) * r1 + gam(b2) * r2, gam(b1) * (a - 1.0) / r1 + gam(b2) * a / r2};
    }
  }
}

/// Table k of the paper: mu (ftol), eta (gtol) and the published number of function evaluations for the initial
/// steps 1e-3, 1e-1, 1e1, 1e3.
struct MTTable {
  int k;
  double mu, eta;
  std::array<int, 4> nfev;
};
// The published counts (More & Thuente 1994, Tables 1-6, column "nfev"), as reproduced by the test suite of the R
// package mize (github.com/jlmelville/mize, tests/testthat/test_more_thuente.R), whose comments note it reproduces the
// tables (counts included) and that Dianne O'Leary's Matlab translation of MINPACK's cvsrch gives the same values.
inline const std::array<MTTable, 6> mt_tables{{{1, 0.001, 0.1, {6, 3, 1, 4}},
                                               {2, 0.1, 0.1, {12, 8, 8, 11}},
                                               {3, 0.1, 0.1, {12, 12, 10, 13}},
                                               {4, 0.001, 0.001, {4, 1, 3, 4}},
                                               {5, 0.001, 0.001, {6, 3, 7, 8}},
                                               {6, 0.001, 0.001, {13, 11, 8, 11}}}};
inline constexpr std::array<double, 4> mt_initial_steps{1e-3, 1e-1, 1e1, 1e3};

/// Function k as a flat objective x -> {phi(x0), {phi'(x0)}}.
inline auto mt_objective(int k) {
  return [k](const Array& x) {
    auto [f, g] = mt_phi(k, x.data()[0]);
    return std::pair<double, Array>(f, Array{g});
  };
}

/// Run `ls` on function k from 0 along +1, first trying t0.
template <class LS>
optim::LineSearchResult mt_search(const LS& ls, int k, double t0) {
  auto [f0, g0] = mt_phi(k, 0.0);
  return ls.search(mt_objective(k), Array{0.0}, f0, Array{g0}, Array{1.0}, t0);
}

/// The conditions at step t of function k, recomputed from the closed forms.
struct StepConditions {
  bool armijo, wolfe, strong_wolfe, approx_wolfe;
};
inline StepConditions mt_conditions(int k, double t, double c1, double c2, double epsilon = 0.0) {
  auto [f0, g0] = mt_phi(k, 0.0);
  auto [f, g] = mt_phi(k, t);
  const bool armijo = f <= f0 + c1 * t * g0;
  return {armijo, armijo && g >= c2 * g0, armijo && std::abs(g) <= -c2 * g0,
          f <= f0 + epsilon * std::abs(f0) && c2 * g0 <= g && g <= (2.0 * c1 - 1.0) * g0};
}

/// Call f(table, i, t0) for every table of the paper and every initial step t0 = mt_initial_steps[i].
template <class F>
void for_each_mt_case(F f) {
  for (const auto& table : mt_tables)
    for (std::size_t i = 0; i < mt_initial_steps.size(); ++i) f(table, i, mt_initial_steps[i]);
}

/// A non-finite trial is a step too long: `ls` from 0 along +1 on nan_past_one (-x, NaN from 1 on), first trying 4,
/// returns a finite point in (0, 1) and reports the non-finite trial; the same through line_search() on a pytree.
template <class LS>
void check_non_finite_is_too_long(const LS& ls) {
  const Tensor x(Array{0.0}), d(Array{1.0});
  auto r = ls.search(optim::flat_objective(nan_past_one, x), Array{0.0}, 0.0, Array{-1.0}, Array{1.0}, 4.0);
  CHECK(r.non_finite);
  CHECK(r.decrease);
  CHECK(std::isfinite(r.value));
  CHECK(r.stepsize > 0.0);
  CHECK(r.stepsize < 1.0);
  CHECK(std::isfinite(r.grad(0)));
  auto step = optim::line_search(ls, nan_past_one, x, d, 4.0);
  CHECK(std::isfinite(step.value));
  CHECK(at(step.params, 0) < 1.0);
  CHECK(at(step.params, 0) > 0.0);
}

/// An ascent direction or a zero initial step fails with the start point; a linear function is flagged unbounded at `ls.max_stepsize`.
template <class LS>
void check_ascent_and_unbounded(const LS& ls) {
  const Tensor x(Array{-1.2, 1.0});
  auto up = optim::line_search(ls, rosenbrock, x, grad(rosenbrock)(x), 1.0);
  CHECK_FALSE(up.ok);
  CHECK(up.stepsize == 0.0);
  CHECK(max_abs_diff(up.params, x) == 0.0);
  auto none = optim::line_search(ls, rosenbrock, x, -grad(rosenbrock)(x), 0.0);  // no initial step
  CHECK_FALSE(none.ok);
  CHECK(none.stepsize == 0.0);
  CHECK(none.evaluations <= 1);
  auto lin = [](const Array& v) { return std::pair<double, Array>(-v.data()[0], Array{-1.0}); };
  auto z = ls.search(lin, Array{0.0}, 0.0, Array{-1.0}, Array{1.0}, 1.0);
  CHECK_FALSE(z.ok);
  CHECK(z.unbounded);
  CHECK(z.decrease);
  CHECK(z.stepsize == ls.max_stepsize);
}

/// With two evaluations `ls` cannot finish on phi2 from 1e-3 (mu = eta = 0.1): it returns its best point with
/// sufficient decrease.
template <class LS>
void check_out_of_evaluations(const LS& ls) {
  auto s = mt_search(ls, 2, 1e-3);
  CHECK_FALSE(s.ok);
  CHECK(s.decrease);
  CHECK(s.evaluations == 2);
  CHECK(mt_conditions(2, s.stepsize, 0.1, 0.1).armijo);
}

/// Print the evaluation counts when XGRAD_LS_TABLE is set (the table in the commit notes).
inline bool print_counts() { return std::getenv("XGRAD_LS_TABLE") != nullptr; }

}  // namespace xgrad::testing
