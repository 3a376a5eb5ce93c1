#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "optim/linesearch_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("More-Thuente: strong Wolfe on the six functions of More & Thuente (1994), counts near the paper's") {
  for_each_mt_case([](const MTTable& table, std::size_t i, double t0) {
    const opt::MoreThuenteLineSearch ls{.c1 = table.mu, .c2 = table.eta};
    auto r = mt_search(ls, table.k, t0);
    INFO("function " << table.k << ", t0 = " << t0 << ", step " << r.stepsize << ", nfev " << r.evaluations);
    REQUIRE(r.ok);
    const auto c = mt_conditions(table.k, r.stepsize, table.mu, table.eta);
    CHECK(c.armijo);
    CHECK(c.strong_wolfe);
    CHECK(r.value == mt_phi(table.k, r.stepsize).first);
    CHECK(std::abs(r.evaluations - table.nfev[i]) <= 1);  // equal in all 24 cases today
    if (print_counts())
      std::printf("MT  phi%d t0=%-6g nfev=%2d paper=%2d step=%.5g\n", table.k, t0, r.evaluations, table.nfev[i],
                  r.stepsize);
  });
}

TEST_CASE("More-Thuente: the interval update keeps the best end and brackets by the paper's cases") {
  using End = opt::MoreThuenteLineSearch::End;
  const End start{0.0, 0.0, -1.0};
  auto step = [&](End p, End& l, End& u, bool& bracketed) {
    l = u = start;
    bracketed = false;
    return opt::MoreThuenteLineSearch::next_step(l, u, p, bracketed, 0.0, 5.0);
  };
  End l{}, u{};
  bool bracketed = false;
  // case 1: a higher value closes the interval at the trial; the step stays within 0.66 of it from the best end
  double t = step({1.0, 1.0, -0.5}, l, u, bracketed);
  CHECK(bracketed);
  CHECK(l.t == 0.0);
  CHECK(u.t == 1.0);
  CHECK(t > 0.0);
  CHECK(t <= 0.66);
  // case 2: a lower value with a positive slope: the trial is the best end, the old best the other
  t = step({1.0, -0.5, 0.5}, l, u, bracketed);
  CHECK(bracketed);
  CHECK(l.t == 1.0);
  CHECK(u.t == 0.0);
  CHECK(t > 0.0);
  CHECK(t < 1.0);
  // case 4 (slope not smaller) before bracketing extrapolates to the bound; case 3 (smaller) extrapolates too
  t = step({1.0, -1.5, -2.0}, l, u, bracketed);
  CHECK_FALSE(bracketed);
  CHECK(l.t == 1.0);
  CHECK(t == 5.0);
  t = step({1.0, -0.6, -0.25}, l, u, bracketed);
  CHECK_FALSE(bracketed);
  CHECK(t > 1.0);
  CHECK(t <= 5.0);
}

TEST_CASE("More-Thuente: a non-finite trial is a step too long, never returned; out of evaluations falls back") {
  check_non_finite_is_too_long(opt::MoreThuenteLineSearch{});
  check_out_of_evaluations(opt::MoreThuenteLineSearch{.c1 = 0.1, .c2 = 0.1, .max_iterations = 2});
}

TEST_CASE("More-Thuente: strong Wolfe on Rosenbrock; ascent fails cleanly; a linear function is unbounded") {
  const Tensor x(Array{-1.2, 1.0});
  const Tensor d = -grad(rosenbrock)(x);
  const opt::MoreThuenteLineSearch ls;
  auto r = opt::line_search(ls, rosenbrock, x, d, 1.0);
  REQUIRE(r.ok);
  auto [f0, g0] = value_and_grad(rosenbrock)(x);
  auto [ft, gt] = value_and_grad(rosenbrock)(r.params);
  const double dphi0 = sum(g0 * d).item(), dphit = sum(gt * d).item();
  CHECK(ft.item() <= f0.item() + ls.c1 * r.stepsize * dphi0);
  CHECK(std::abs(dphit) <= -ls.c2 * dphi0);
  check_ascent_and_unbounded(opt::MoreThuenteLineSearch{.max_stepsize = 1e8});
}
