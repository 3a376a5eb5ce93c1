#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "optim/linesearch_problems.hpp"
#include "optim/solver_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("Hager-Zhang: Wolfe or approximate Wolfe on the six functions of More & Thuente (1994)") {
  for (const auto& table : mt_tables) {
    for (const double t0 : mt_initial_steps) {
      // delta = mu and sigma = eta of the paper's table
      const opt::HagerZhangLineSearch ls{.c1 = table.mu, .c2 = table.eta};
      auto r = mt_search(ls, table.k, t0);
      INFO("function " << table.k << ", t0 = " << t0 << ", step " << r.stepsize << ", nfev " << r.evaluations);
      REQUIRE(r.ok);
      const auto c = mt_conditions(table.k, r.stepsize, table.mu, table.eta, ls.epsilon);
      CHECK((c.wolfe || c.approx_wolfe));
      CHECK(r.value == mt_phi(table.k, r.stepsize).first);
      CHECK(r.evaluations <= 20);
      if (print_counts())
        std::printf("HZ  phi%d t0=%-6g nfev=%2d step=%.5g wolfe=%d approx=%d\n", table.k, t0, r.evaluations,
                    r.stepsize, int(c.wolfe), int(c.approx_wolfe));
    }
  }
}

TEST_CASE("Hager-Zhang: approximate_wolfe = false keeps the exact Wolfe conditions") {
  // phi1 from 1e3: phi(1e3) = -1e-3 <= phi(0) = 0 with a tiny slope passes T2 (epsilon_k = 0 here), not T1
  const opt::HagerZhangLineSearch approx{.c1 = 0.001, .c2 = 0.1};
  auto a = mt_search(approx, 1, 1e3);
  CHECK(a.ok);
  CHECK(a.stepsize == 1e3);
  CHECK_FALSE(mt_conditions(1, a.stepsize, 0.001, 0.1).wolfe);
  for (const auto& table : mt_tables) {
    for (const double t0 : mt_initial_steps) {
      const opt::HagerZhangLineSearch ls{.c1 = table.mu, .c2 = table.eta, .approximate_wolfe = false};
      auto r = mt_search(ls, table.k, t0);
      INFO("function " << table.k << ", t0 = " << t0 << ", step " << r.stepsize << ", nfev " << r.evaluations);
      REQUIRE(r.ok);
      CHECK(mt_conditions(table.k, r.stepsize, table.mu, table.eta).wolfe);
      CHECK(r.evaluations <= 20);
      if (print_counts()) std::printf("HZ1 phi%d t0=%-6g nfev=%2d step=%.5g\n", table.k, t0, r.evaluations, r.stepsize);
    }
  }
}

TEST_CASE("Hager-Zhang: the default constants, on Rosenbrock along -grad and on a split pytree") {
  const Tensor x(Array{-1.2, 1.0});
  const Tensor d = -grad(rosenbrock)(x);
  const opt::HagerZhangLineSearch ls;
  CHECK(ls.c1 == 0.1);
  CHECK(ls.c2 == 0.9);
  CHECK(ls.theta == 0.5);
  CHECK(ls.gamma == 0.66);
  CHECK(ls.rho == 5.0);
  auto r = opt::line_search(ls, rosenbrock, x, d, 1.0);
  REQUIRE(r.ok);
  auto [f0, g0] = value_and_grad(rosenbrock)(x);
  auto [ft, gt] = value_and_grad(rosenbrock)(r.params);
  const double dphi0 = sum(g0 * d).item(), dphit = sum(gt * d).item();
  CHECK(ft.item() <= f0.item() + ls.c1 * r.stepsize * dphi0);  // far from the minimum: the exact Wolfe conditions
  CHECK(dphit >= ls.c2 * dphi0);

  auto split = [](const std::vector<Tensor>& p) { return rosenbrock(concatenate({p[0], p[1]})); };
  const std::vector<Tensor> xs{Tensor(Array{-1.2}), Tensor(Array{1.0})};
  const std::vector<Tensor> ds{slice(d, 0, 0, 1), slice(d, 0, 1, 2)};
  auto rs = opt::line_search(ls, split, xs, ds, 1.0);
  CHECK(rs.ok);
  CHECK(rs.stepsize == r.stepsize);
  CHECK(rs.evaluations == r.evaluations);
}

TEST_CASE("Hager-Zhang: a non-finite trial is a step too long, never returned; out of evaluations falls back") {
  const Tensor x(Array{0.0}), d(Array{1.0});
  const opt::HagerZhangLineSearch ls;
  auto r = ls.search(opt::detail::flat_objective(nan_past_one, x), Array{0.0}, 0.0, Array{-1.0}, Array{1.0}, 4.0);
  CHECK(r.non_finite);
  CHECK(r.decrease);
  CHECK(std::isfinite(r.value));
  CHECK(r.stepsize > 0.0);
  CHECK(r.stepsize < 1.0);
  CHECK(std::isfinite(r.grad(0)));
  auto step = opt::line_search(ls, nan_past_one, x, d, 4.0);
  CHECK(std::isfinite(step.value));
  CHECK(at(step.params, 0) < 1.0);
  CHECK(at(step.params, 0) > 0.0);

  // a minimum past a NaN-free region reached through a NaN trial: phi1 is finite, but make 1e3 non-finite
  auto vg = [](const Array& v) {
    const double a = v.data()[0];
    auto [f, g] = mt_phi(1, a);
    const double nan = std::nan("");
    return a > 100.0 ? std::pair<double, Array>(nan, Array{nan}) : std::pair<double, Array>(f, Array{g});
  };
  auto s = ls.search(vg, Array{0.0}, 0.0, Array{-0.5}, Array{1.0}, 1e3);
  CHECK(s.ok);
  CHECK(s.non_finite);
  CHECK(s.stepsize < 100.0);

  const opt::HagerZhangLineSearch short_ls{.c1 = 0.1, .c2 = 0.1, .max_iterations = 2};
  auto f = mt_search(short_ls, 2, 1e-3);
  CHECK_FALSE(f.ok);
  CHECK(f.decrease);
  CHECK(f.evaluations == 2);
  CHECK(mt_conditions(2, f.stepsize, 0.1, 0.1).armijo);
}

TEST_CASE("Hager-Zhang: ascent fails cleanly; a linear function is flagged unbounded") {
  const Tensor x(Array{-1.2, 1.0});
  auto up = opt::line_search(opt::HagerZhangLineSearch{}, rosenbrock, x, grad(rosenbrock)(x), 1.0);
  CHECK_FALSE(up.ok);
  CHECK(up.stepsize == 0.0);

  auto lin = [](const Array& v) { return std::pair<double, Array>(-v.data()[0], Array{-1.0}); };
  const opt::HagerZhangLineSearch capped{.max_stepsize = 1e8};
  auto z = capped.search(lin, Array{0.0}, 0.0, Array{-1.0}, Array{1.0}, 1.0);
  CHECK_FALSE(z.ok);
  CHECK(z.unbounded);
  CHECK(z.decrease);
  CHECK(z.stepsize == 1e8);
}
