// LBFGSB against scipy.optimize.minimize(method="L-BFGS-B") on bounded problems built by formula (the same in
// tests/optim/lbfgsb_scipy_reference.py): bounds that cut off the unconstrained minimum, bounds active at the start,
// unbounded coordinates mixed in, degenerate bounds l = u. Same solution to 1e-8; iterations and evaluations side by
// side. Then the Cauchy point against a brute-force search, pytree bounds, and bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>

#include "optim/lbfgsb_scipy_reference.hpp"
#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

struct P {  // parameters as a struct: the bounds too
  Tensor a, b;
  XGRAD_TREE_FIELDS(a, b)
};

struct Problem {
  std::string name;
  std::function<Tensor(const Tensor&)> f;
  Array x0, lower, upper;
};

Tensor rosen_n(const Tensor& x) {
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  const Tensor a = slice(x, 0, 0, n - 1), b = slice(x, 0, 1, n);
  return sum(100.0 * square(b - square(a)) + square(1.0 - a));
}

std::vector<Problem> problems() {
  std::vector<Problem> out;
  {
    const std::size_t n = 8;
    Array A = xt::zeros<double>({n, n}), c = xt::zeros<double>({n});
    for (std::size_t i = 0; i < n; ++i) {
      c(i) = 2.0 * std::sin(1.3 * double(i) + 0.5);
      for (std::size_t j = 0; j < n; ++j)
        A(i, j) = 1.0 / (1.0 + std::abs(double(i) - double(j))) + (i == j ? 1.0 + double(i) : 0.0);
    }
    auto f = [A, c](const Tensor& x) {
      const Tensor r = x - Tensor(c);
      return 0.5 * vdot(r, matmul(Tensor(A), r));
    };
    out.push_back({"quadratic_cutoff", f, xt::zeros<double>({n}), Array(xt::ones<double>({n})) * -0.5,
                   Array(xt::ones<double>({n})) * 0.5});
    out.push_back({"quadratic_active_at_start", f, Array(xt::ones<double>({n})) * 0.5,
                   Array(xt::ones<double>({n})) * -0.5, Array(xt::ones<double>({n})) * 0.5});
  }
  {
    const std::size_t n = 10;
    Array x0 = xt::zeros<double>({n}), l = xt::zeros<double>({n}), u = xt::zeros<double>({n});
    for (std::size_t i = 0; i < n; ++i) {
      x0(i) = i % 2 == 0 ? -1.2 : 1.0;
      l(i) = i % 2 == 0 ? -2.0 : -kInf;
      u(i) = i % 2 == 0 ? 0.8 : kInf;
    }
    l(3) = 1.2;
    u(3) = 2.0;
    out.push_back({"rosenbrock_mixed", rosen_n, x0, l, u});
  }
  {
    Array l = Array(xt::ones<double>({6})) * -2.0, u = Array(xt::ones<double>({6})) * 2.0;
    l(2) = u(2) = 0.3;
    l(4) = u(4) = 1.5;
    out.push_back({"rosenbrock_degenerate", rosen_n, xt::zeros<double>({6}), l, u});
  }
  {
    const std::size_t n = 7;
    Array w = xt::zeros<double>({n});
    for (std::size_t i = 0; i < n; ++i) w(i) = double(i + 1);
    auto f = [w](const Tensor& x) {
      const auto m = static_cast<std::ptrdiff_t>(x.size());
      return sum(exp(x) - Tensor(w) * x) + 0.5 * sum(square(slice(x, 0, 0, m - 1) - slice(x, 0, 1, m)));
    };
    Array l1 = xt::zeros<double>({n}), l2 = xt::zeros<double>({n}), u2 = xt::zeros<double>({n});
    for (std::size_t i = 0; i < n; ++i) {
      l1(i) = 1.0 + 0.1 * double(i);
      l2(i) = i % 2 == 0 ? 1.0 : -kInf;
      u2(i) = i % 2 == 0 ? kInf : 1.5;
    }
    out.push_back({"exp_chain_lower", f, Array(xt::ones<double>({n})) * 2.0, l1, Array{kInf}});
    out.push_back({"exp_chain_mixed", f, xt::zeros<double>({n}), l2, u2});
  }
  {
    const std::size_t m = 20, n = 5;
    Array A = xt::zeros<double>({m, n}), b = xt::zeros<double>({m});
    for (std::size_t j = 0; j < m; ++j) {
      b(j) = std::cos(double(j + 1)) >= 0.0 ? 1.0 : -1.0;
      for (std::size_t i = 0; i < n; ++i) A(j, i) = std::sin(double((j + 1) * (i + 1)) + 1.0);
    }
    auto f = [A, b](const Tensor& x) {
      return sum(softplus(-Tensor(b) * matmul(Tensor(A), x))) + 0.01 * vdot(x, x);
    };
    out.push_back({"logistic_box", f, xt::zeros<double>({n}), Array{-0.3}, Array{0.3}});
  }
  return out;
}

}  // namespace

TEST_CASE("LBFGSB: the solutions of scipy's L-BFGS-B on bounded problems, to 1e-8") {
  const auto& refs = lbfgsb_scipy_reference();
  const auto ps = problems();
  REQUIRE(refs.size() == ps.size());
  std::printf("%-28s %18s %18s\n", "problem", "xgrad iters/evals", "scipy iters/evals");
  for (std::size_t k = 0; k < ps.size(); ++k) {
    const Problem& p = ps[k];
    INFO(p.name);
    REQUIRE(p.name == refs[k].name);
    const opt::Bounds bounds{std::vector<double>(p.lower.begin(), p.lower.end()),
                             std::vector<double>(p.upper.begin(), p.upper.end())};
    auto [x, s] = opt::LBFGSB{.maxiter = 2000, .tol = 1e-11, .bounds = bounds}.run(p.f, Tensor(p.x0));
    CHECK(s.status == opt::Status::converged);
    const Array want = xt::adapt(refs[k].x, {refs[k].x.size()});
    CHECK(xt::amax(xt::abs(x.value() - want))() < 1e-8);
    CHECK(s.value == doctest::Approx(refs[k].f).epsilon(1e-12));
    // Feasible, and the projected gradient is what state.error says.
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double lo = p.lower.size() == 1 ? p.lower(0) : p.lower(i), hi = p.upper.size() == 1 ? p.upper(0) : p.upper(i);
      CHECK(x.value()(i) >= lo);
      CHECK(x.value()(i) <= hi);
    }
    // At scipy's usual tolerance: iterations and evaluations side by side (scipy's gtol is on the max norm).
    auto [x8, s8] = opt::LBFGSB{.maxiter = 2000, .tol = 1e-8, .bounds = bounds}.run(p.f, Tensor(p.x0));
    CHECK(s8.status == opt::Status::converged);
    std::printf("%-28s %10d / %-6d %10d / %-6d\n", p.name.c_str(), s8.iter_num, s8.num_fun_eval, refs[k].nit,
                refs[k].nfev);
    CHECK(s8.num_fun_eval <= 3 * refs[k].nfev + 10);  // same algorithm: the same order of work
  }
}

TEST_CASE("LBFGSB: the Cauchy point is the first minimiser of the model along the projected gradient path") {
  // Without memory the model is f + g^T s + 1/2 ||s||^2 (theta = 1); brute force over a fine grid of t.
  const Array x{0.2, -0.4, 0.9, 0.0}, g{1.0, -2.0, 0.5, -0.3}, l{-0.5, -1.0, 0.0, -kInf}, u{0.5, 0.0, 1.0, kInf};
  const Array xcp = opt::detail::lbfgsb_cauchy_point(x, g, l, u, {}, {}, 1.0);
  auto model = [&](const Array& y) {
    const Array s = y - x;
    return xt::sum(g * s)() + 0.5 * xt::sum(s * s)();
  };
  double best = model(x), best_t = 0.0;
  for (int k = 1; k <= 400000; ++k) {
    const double t = 4.0 * k / 400000.0;
    const double m = model(opt::project_onto(Array(x - t * g), l, u));
    if (m < best) best = m, best_t = t;
  }
  CHECK(model(xcp) <= best + 1e-9);
  CHECK(xt::amax(xt::abs(xcp - opt::project_onto(Array(x - best_t * g), l, u)))() < 1e-4);
  // And with a memory of one pair: the model with B = theta I - W M W^T, by brute force too.
  const std::vector<Array> S{Array{0.1, 0.2, -0.1, 0.3}}, Y{Array{0.3, 0.5, -0.1, 0.4}};
  const double theta = 2.0;
  const Array xcp2 = opt::detail::lbfgsb_cauchy_point(x, g, l, u, S, Y, theta);
  // B from the BFGS update of theta I with (s, y): B = theta I - theta s s^T theta / (theta s^T s) + y y^T / s^T y.
  const Array& s0 = S[0];
  const Array& y0 = Y[0];
  Array B = xt::eye<double>(4) * theta;
  const double sBs = theta * xt::sum(s0 * s0)(), sy = xt::sum(s0 * y0)();
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) B(i, j) += -theta * s0(i) * theta * s0(j) / sBs + y0(i) * y0(j) / sy;
  auto model2 = [&](const Array& y) {
    const Array s = y - x;
    return xt::sum(g * s)() + 0.5 * xt::sum(s * Array(xt::linalg::dot(B, s)))();
  };
  double best2 = model2(x);
  for (int k = 1; k <= 400000; ++k) {
    const double t = 4.0 * k / 400000.0;
    const double m = model2(opt::project_onto(Array(x - t * g), l, u));
    if (m < best2) best2 = m;
    else if (m > best2 + 1e-3) break;  // past the first local minimiser
  }
  CHECK(model2(xcp2) <= best2 + 1e-9);
}

TEST_CASE("LBFGSB: pytree bounds, no bounds, the start projected, and bad input") {
  auto f = [](const P& p) { return sum(square(p.a - 3.0)) + sum(square(p.b + 3.0)); };
  const P x0{Tensor(Array{0.0, 0.0}), Tensor(Array{0.0})};
  const P lo{Tensor(Array{-1.0, -1.0}), Tensor(Array{-2.0})};
  const P hi{Tensor(Array{1.0, 2.0}), Tensor(Array{5.0})};
  auto [x, s] = opt::LBFGSB{.tol = 1e-10, .bounds = opt::Bounds::of(lo, hi)}.run(f, x0);
  CHECK(s.status == opt::Status::converged);
  CHECK(x.a.value()(0) == 1.0);
  CHECK(x.a.value()(1) == 2.0);
  CHECK(x.b.value()(0) == -2.0);
  CHECK(s.error <= 1e-10);
  // No bounds: an unconstrained solver.
  auto [xr, sr] = opt::LBFGSB{.tol = 1e-9}.run(rosen_n, Tensor(Array{-1.2, 1.0}));
  CHECK(sr.status == opt::Status::converged);
  CHECK(xt::amax(xt::abs(xr.value() - 1.0))() < 1e-7);
  // A start outside the box is projected (as scipy); init_state does not project and says so.
  auto [xp, sp] = opt::LBFGSB{.tol = 1e-10, .bounds = opt::Bounds::of(0.5, 2.0)}.run(rosen_n, Tensor(Array{-3.0, 9.0}));
  CHECK(sp.status == opt::Status::converged);
  CHECK(xp.value()(0) == doctest::Approx(1.0).epsilon(1e-7));
  CHECK_THROWS_WITH_AS(opt::LBFGSB{.bounds = opt::Bounds::of(0.5, 2.0)}.init_state(rosen_n, Tensor(Array{-3.0, 1.0})),
                       doctest::Contains("outside the bounds at coordinate 0"), ValueError);
  // Bounds of the wrong size, crossed, NaN.
  const opt::LBFGSB three{.bounds = {.lower = {0.0, 0.0, 0.0}}};
  CHECK_THROWS_WITH_AS(three.run(rosen_n, Tensor(Array{1.0, 1.0})),
                       doctest::Contains("the lower bound has 3 values for parameters of 2"), ShapeError);
  CHECK_THROWS_WITH_AS(opt::LBFGSB{.bounds = opt::Bounds::of(1.0, 0.0)}.run(rosen_n, Tensor(Array{1.0, 1.0})),
                       doctest::Contains("lower bound 1.0"), ValueError);
  CHECK_THROWS_AS(opt::LBFGSB{.bounds = opt::Bounds::of(std::nan(""), 1.0)}.run(rosen_n, Tensor(Array{1.0, 1.0})),
                  ValueError);
  // A fixed coordinate (l = u) never moves; a problem whose minimum is a corner converges there.
  const opt::LBFGSB fixed{.tol = 1e-12, .bounds = {.lower = {-1.0, 0.25}, .upper = {1.0, 0.25}}};
  auto [xc, sc] = fixed.run(
      [](const Tensor& z) { return sum(square(z - 5.0)); }, Tensor(Array{0.0, 0.0}));
  CHECK(sc.status == opt::Status::converged);
  CHECK(xc.value()(0) == 1.0);
  CHECK(xc.value()(1) == 0.25);
}

// The checks every solver passes (solver_checks.hpp), with bounds where they change nothing (wide) or something.
TEST_CASE("LBFGSB: global over the leaves: a struct of two leaves gives the raveled iterates (bounds included)") {
  const auto run = check_split_iterates(opt::LBFGSB{.tol = 1e-10, .history_size = 4,
                                                    .bounds = {.lower = {-1.5}, .upper = {2.5}}});
  CHECK(run.steps > 5);
  CHECK(run.status == opt::Status::converged);
}
TEST_CASE("LBFGSB: unbounded below ends unbounded; a lower bound makes the same objective bounded") {
  check_unbounded(opt::LBFGSB{});
}
TEST_CASE("LBFGSB: NaN objectives end with Status::non_finite and finite params") { check_nan_objectives(opt::LBFGSB{}); }
TEST_CASE("LBFGSB: max_iterations, callback and verbose") {
  check_max_iterations(opt::LBFGSB{});
  check_callback_and_verbose(opt::LBFGSB{}, "LBFGSB", Tensor(Array{-1.2, 1.0}));
}

TEST_CASE("LBFGSB: the state's S^T S and S^T Y are those of its memory; products of the wrong size are recomputed") {
  // history_size 3 on a 6-D Rosenbrock in a box: the memory fills, then drops a pair per iteration.
  const opt::LBFGSB solver{.history_size = 3, .bounds = opt::Bounds::of(-2.0, 0.9)};
  Tensor x(Array{-1.2, 0.9, -1.2, 0.9, -1.2, 0.9});
  auto s = solver.init_state(rosen_n, x);
  for (int it = 0; it < 8; ++it) {
    auto next = solver.update(rosen_n, x, s);
    x = next.params;
    s = next.state;
  }
  const std::size_t k = s.s_history.size();
  REQUIRE(k == 3);
  REQUIRE(s.restarts == 0);  // 8 pairs went in without a reset: the oldest were dropped one by one
  REQUIRE(s.sts.shape() == std::vector<std::size_t>{k, k});
  REQUIRE(s.sty.shape() == std::vector<std::size_t>{k, k});
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      CHECK(s.sts(i, j) == flat::dot(s.s_history[std::max(i, j)], s.s_history[std::min(i, j)]));
      if (j <= i) CHECK(s.sty(i, j) == flat::dot(s.s_history[i], s.y_history[j]));
    }
  // Products of the wrong size (a state made by hand) are recomputed: the same next iterate, bit for bit.
  auto edited = s;
  edited.sts = Array();
  edited.sty = xt::zeros<double>({1, 1});
  auto [x1, s1] = solver.update(rosen_n, x, s);
  auto [x2, s2] = solver.update(rosen_n, x, edited);
  CHECK(x1.value() == x2.value());
  CHECK(s2.sts == s1.sts);
  CHECK(s2.sty == s1.sty);
  // A memory whose two halves differ in length is a clear error, not a read out of bounds.
  auto broken = s;
  broken.y_history.pop_back();
  CHECK_THROWS_WITH_AS(solver.update(rosen_n, x, broken), doctest::Contains("3 steps and 2 gradient changes"),
                       ValueError);
}
