#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include "optim/linesearch_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {

// Two of the More-Thuente (1994) 1-D test functions, as objectives of a one-element Tensor (search along d = 1
// from 0): phi1(a) = -a / (a^2 + 2) (minimum at sqrt 2), phi2(a) = (a + 0.004)^5 - 2 (a + 0.004)^4 (minimum at 1.6).
Tensor mt1(const Tensor& a) { return sum(-a / (square(a) + 2.0)); }
Tensor mt2(const Tensor& a) {
  const Tensor b = a + 0.004;
  return sum(pow(b, 5.0) - 2.0 * pow(b, 4.0));
}

struct Conditions {
  bool armijo, wolfe, strong_wolfe;
};
// The conditions at step t, recomputed independently of the line search.
template <class F>
Conditions check_at(F f, const Tensor& x, const Tensor& d, double t, double c1, double c2) {
  auto [f0, g0] = value_and_grad(f)(x);
  const Tensor xt = x + t * d;
  auto [ft, gt] = value_and_grad(f)(xt);
  const double dphi0 = sum(g0 * d).item(), dphit = sum(gt * d).item();
  return {ft.item() <= f0.item() + c1 * t * dphi0, dphit >= c2 * dphi0, std::abs(dphit) <= -c2 * dphi0};
}

}  // namespace

TEST_CASE("backtracking: Armijo holds at the returned step on Rosenbrock along -grad") {
  const Tensor x(Array{-1.2, 1.0});
  const Tensor d = -grad(rosenbrock)(x);
  const opt::BacktrackingLineSearch ls;
  auto r = opt::line_search(ls, rosenbrock, x, d, 1.0);
  CHECK(r.ok);
  CHECK(r.stepsize > 0.0);
  CHECK(r.stepsize < 1.0);  // the unit step is far too long here
  CHECK(check_at(rosenbrock, x, d, r.stepsize, ls.c1, ls.c2).armijo);
  CHECK(r.value == doctest::Approx(rosenbrock(x + r.stepsize * d).item()));
  CHECK(max_abs_diff(r.params, x + r.stepsize * d) < 1e-15);
  CHECK(max_abs_diff(r.grad, grad(rosenbrock)(r.params)) < 1e-12);
  // halving from 1 gives a power of two
  CHECK(std::log2(r.stepsize) == doctest::Approx(std::round(std::log2(r.stepsize))));
}

TEST_CASE("backtracking with Wolfe and strong Wolfe, and zoom, on the More-Thuente functions") {
  const Tensor x(Array{0.0}), d(Array{1.0});
  for (double t0 : {1e-3, 1e-1, 1e1, 1e3}) {
    for (auto cond : {opt::LineSearchCondition::wolfe, opt::LineSearchCondition::strong_wolfe}) {
      const opt::BacktrackingLineSearch ls{.condition = cond, .c1 = 1e-3, .c2 = 0.1, .max_iterations = 60};
      for (auto* f : {&mt1, &mt2}) {
        auto r = opt::line_search(ls, f, x, d, t0);
        INFO("t0 = " << t0 << ", strong = " << (cond == opt::LineSearchCondition::strong_wolfe));
        REQUIRE(r.ok);
        auto c = check_at(f, x, d, r.stepsize, ls.c1, ls.c2);
        CHECK(c.armijo);
        CHECK(c.wolfe);
        if (cond == opt::LineSearchCondition::strong_wolfe) CHECK(c.strong_wolfe);
      }
    }
    const opt::ZoomLineSearch zoom{.c1 = 1e-3, .c2 = 0.1};
    for (auto* f : {&mt1, &mt2}) {
      auto r = opt::line_search(zoom, f, x, d, t0);
      INFO("zoom, t0 = " << t0);
      REQUIRE(r.ok);
      auto c = check_at(f, x, d, r.stepsize, zoom.c1, zoom.c2);
      CHECK(c.armijo);
      CHECK(c.strong_wolfe);
      CHECK(r.evaluations <= 16);
    }
  }
}

TEST_CASE("zoom: strong Wolfe on the six functions of More & Thuente (1994), with the tables' mu and eta") {
  for_each_mt_case([](const MTTable& table, std::size_t, double t0) {
    const opt::ZoomLineSearch zoom{.c1 = table.mu, .c2 = table.eta};
    auto r = mt_search(zoom, table.k, t0);
    INFO("function " << table.k << ", t0 = " << t0 << ", step " << r.stepsize << ", nfev " << r.evaluations);
    REQUIRE(r.ok);
    const auto c = mt_conditions(table.k, r.stepsize, table.mu, table.eta);
    CHECK(c.armijo);
    CHECK(c.strong_wolfe);
    CHECK(r.evaluations <= 25);  // 21 and 22 on phi6 from 1e-1 and 1e3 (More-Thuente: 11 and 11)
    if (print_counts()) std::printf("ZM  phi%d t0=%-6g nfev=%2d step=%.5g\n", table.k, t0, r.evaluations, r.stepsize);
  });
}

TEST_CASE("zoom: strong Wolfe on Rosenbrock and on a pytree, with global inner products") {
  const Tensor x(Array{-1.2, 1.0});
  const Tensor d = -grad(rosenbrock)(x);
  const opt::ZoomLineSearch zoom;
  auto r = opt::line_search(zoom, rosenbrock, x, d, 1.0);
  REQUIRE(r.ok);
  auto c = check_at(rosenbrock, x, d, r.stepsize, zoom.c1, zoom.c2);
  CHECK(c.armijo);
  CHECK(c.strong_wolfe);

  // the same search with the parameters split over two leaves of a std::vector gives the same step
  auto split = [](const std::vector<Tensor>& p) { return rosenbrock(concatenate({p[0], p[1]})); };
  const std::vector<Tensor> xs{Tensor(Array{-1.2}), Tensor(Array{1.0})};
  const std::vector<Tensor> ds{slice(d, 0, 0, 1), slice(d, 0, 1, 2)};
  auto rs = opt::line_search(zoom, split, xs, ds, 1.0);
  CHECK(rs.ok);
  CHECK(rs.stepsize == r.stepsize);
  CHECK(rs.evaluations == r.evaluations);
  CHECK(rs.value == doctest::Approx(r.value).epsilon(1e-14));
}

TEST_CASE("line searches: a non-finite trial is a step too long, never returned") {
  check_non_finite_is_too_long(opt::BacktrackingLineSearch{});
  check_non_finite_is_too_long(opt::ZoomLineSearch{});
}

TEST_CASE("line searches: an ascent direction fails cleanly, a linear function is flagged unbounded") {
  const opt::ZoomLineSearch zoom;
  check_ascent_and_unbounded(zoom);
  auto lin = [](const Array& v) { return std::pair<double, Array>(-v.data()[0], Array{-1.0}); };
  CHECK(zoom.search(lin, Array{0.0}, 0.0, Array{-1.0}, Array{1.0}, 1.0).evaluations < 20);
}

TEST_CASE("zoom: where the decrease is below f's rounding level it follows the slope (Hager & Zhang)") {
  // f = 1000 + 0.5 ||x - 1||^2 at 1e-9 from its minimiser: every trial value rounds to 1000 exactly, so the value
  // cannot bracket the minimiser (t = 1 along -grad); the slopes can.
  auto f = [](const Tensor& x) { return 1e3 + 0.5 * sum(square(x - 1.0)); };
  const Tensor x(Array{1.0 + 1e-9, 1.0 - 2e-9});
  auto [y0, g0] = value_and_grad(f)(x);
  const Array d = -g0.value();
  auto vg = opt::flat_objective(f, x);
  for (double t0 : {0.1, 5.0}) {  // first trial short of the minimiser, and past it
    const auto r = opt::ZoomLineSearch{.c2 = 0.1}.search(vg, x.value(), y0.item(), g0.value(), d, t0);
    INFO("initial step " << t0);
    CHECK(r.ok);
    CHECK(r.stepsize == doctest::Approx(1.0).epsilon(0.1));  // strong Wolfe with c2 = 0.1: t in [0.9, 1.1]
    CHECK(r.value == 1e3);
    CHECK(max_abs_diff(Tensor(r.params), 1.0) < 2e-10);
  }
}
