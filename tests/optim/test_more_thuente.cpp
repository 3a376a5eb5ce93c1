#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "optim/linesearch_problems.hpp"
#include "optim/solver_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("More-Thuente: strong Wolfe on the six functions of More & Thuente (1994), counts near the paper's") {
  for (const auto& table : mt_tables) {
    for (std::size_t i = 0; i < mt_initial_steps.size(); ++i) {
      const double t0 = mt_initial_steps[i];
      const opt::MoreThuenteLineSearch ls{.c1 = table.mu, .c2 = table.eta};
      auto r = mt_search(ls, table.k, t0);
      INFO("function " << table.k << ", t0 = " << t0 << ", step " << r.stepsize << ", nfev " << r.evaluations);
      REQUIRE(r.ok);
      const auto c = mt_conditions(table.k, r.stepsize, table.mu, table.eta);
      CHECK(c.armijo);
      CHECK(c.strong_wolfe);
      CHECK(r.value == mt_phi(table.k, r.stepsize).first);
      CHECK(std::abs(r.evaluations - table.nfev[i]) <= 1);
      if (print_counts())
        std::printf("MT  phi%d t0=%-6g nfev=%2d paper=%2d step=%.5g\n", table.k, t0, r.evaluations, table.nfev[i],
                    r.stepsize);
    }
  }
}

TEST_CASE("More-Thuente: the interval update keeps the best end and brackets by the paper's cases") {
  using End = opt::MoreThuenteLineSearch::End;
  // case 1: a higher value closes the interval at the trial
  End l{0.0, 0.0, -1.0}, u = l;
  bool bracketed = false;
  double t = opt::MoreThuenteLineSearch::next_step(l, u, {1.0, 1.0, -0.5}, bracketed, 0.0, 5.0);
  CHECK(bracketed);
  CHECK(l.t == 0.0);
  CHECK(u.t == 1.0);
  CHECK(t > 0.0);
  CHECK(t <= 0.66);  // the 0.66 safeguard from the best end
  // case 2: a lower value with a positive slope: the trial is the best end, the old best the other
  l = {0.0, 0.0, -1.0};
  u = l;
  bracketed = false;
  t = opt::MoreThuenteLineSearch::next_step(l, u, {1.0, -0.5, 0.5}, bracketed, 0.0, 5.0);
  CHECK(bracketed);
  CHECK(l.t == 1.0);
  CHECK(u.t == 0.0);
  CHECK(t > 0.0);
  CHECK(t < 1.0);
  // cases 3 and 4 before bracketing extrapolate (case 4 to the bound)
  l = {0.0, 0.0, -1.0};
  u = l;
  bracketed = false;
  t = opt::MoreThuenteLineSearch::next_step(l, u, {1.0, -1.5, -2.0}, bracketed, 0.0, 5.0);
  CHECK_FALSE(bracketed);
  CHECK(l.t == 1.0);
  CHECK(t == 5.0);
  l = {0.0, 0.0, -1.0};
  u = l;
  t = opt::MoreThuenteLineSearch::next_step(l, u, {1.0, -0.6, -0.25}, bracketed, 0.0, 5.0);
  CHECK_FALSE(bracketed);
  CHECK(t > 1.0);
  CHECK(t <= 5.0);
}

TEST_CASE("More-Thuente: a non-finite trial is a step too long, never returned; out of evaluations falls back") {
  // nan_past_one is -x for x < 1 and NaN beyond: from 0 along +1, the initial step 4 hits the NaN region.
  const Tensor x(Array{0.0}), d(Array{1.0});
  const opt::MoreThuenteLineSearch ls;
  auto r = ls.search(opt::detail::flat_objective(nan_past_one, x), Array{0.0}, 0.0, Array{-1.0}, Array{1.0}, 4.0);
  CHECK(r.non_finite);
  CHECK(r.decrease);
  CHECK(std::isfinite(r.value));
  CHECK(r.stepsize > 0.0);
  CHECK(r.stepsize < 1.0);
  CHECK(std::isfinite(r.grad(0)));
  // the same through line_search() on a pytree
  auto step = opt::line_search(ls, nan_past_one, x, d, 4.0);
  CHECK(std::isfinite(step.value));
  CHECK(at(step.params, 0) < 1.0);
  CHECK(at(step.params, 0) > 0.0);

  // two evaluations are not enough on phi2 from 1e-3: the best point with sufficient decrease comes back
  const opt::MoreThuenteLineSearch short_ls{.c1 = 0.1, .c2 = 0.1, .max_iterations = 2};
  auto s = mt_search(short_ls, 2, 1e-3);
  CHECK_FALSE(s.ok);
  CHECK(s.decrease);
  CHECK(s.evaluations == 2);
  CHECK(mt_conditions(2, s.stepsize, 0.1, 0.1).armijo);
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

  auto up = opt::line_search(ls, rosenbrock, x, -d, 1.0);
  CHECK_FALSE(up.ok);
  CHECK(up.stepsize == 0.0);

  auto lin = [](const Array& v) { return std::pair<double, Array>(-v.data()[0], Array{-1.0}); };
  const opt::MoreThuenteLineSearch capped{.max_stepsize = 1e8};
  auto z = capped.search(lin, Array{0.0}, 0.0, Array{-1.0}, Array{1.0}, 1.0);
  CHECK_FALSE(z.ok);
  CHECK(z.unbounded);
  CHECK(z.decrease);
  CHECK(z.stepsize == 1e8);
}
