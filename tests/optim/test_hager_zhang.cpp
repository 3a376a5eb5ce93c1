#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "optim/linesearch_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("Hager-Zhang: Wolfe or approximate Wolfe on the six functions of More & Thuente (1994)") {
  for (const bool approximate : {true, false}) {
    for_each_mt_case([&](const MTTable& table, std::size_t, double t0) {
      // delta = mu and sigma = eta of the paper's table
      const opt::HagerZhangLineSearch ls{.c1 = table.mu, .c2 = table.eta, .approximate_wolfe = approximate};
      auto r = mt_search(ls, table.k, t0);
      INFO("function " << table.k << ", t0 = " << t0 << ", step " << r.stepsize << ", nfev " << r.evaluations);
      REQUIRE(r.ok);
      const auto c = mt_conditions(table.k, r.stepsize, table.mu, table.eta, ls.epsilon);
      if (approximate)
        CHECK((c.wolfe || c.approx_wolfe));
      else
        CHECK(c.wolfe);  // approximate_wolfe = false: the exact Wolfe conditions (T1)
      CHECK(r.value == mt_phi(table.k, r.stepsize).first);
      CHECK(r.evaluations <= 20);
      if (print_counts())
        std::printf("HZ%c phi%d t0=%-6g nfev=%2d step=%.5g wolfe=%d\n", approximate ? ' ' : '1', table.k, t0,
                    r.evaluations, r.stepsize, int(c.wolfe));
    });
  }
  // phi1 from 1e3: phi(1e3) = -1e-3 <= phi(0) = 0 with a tiny positive slope passes T2 (epsilon_k = 0), not T1
  auto a = mt_search(opt::HagerZhangLineSearch{.c1 = 0.001, .c2 = 0.1}, 1, 1e3);
  CHECK(a.ok);
  CHECK(a.stepsize == 1e3);
  CHECK_FALSE(mt_conditions(1, a.stepsize, 0.001, 0.1).wolfe);
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

  // inner products are global: the parameters split over two leaves give the same search
  auto split = [](const std::vector<Tensor>& p) { return rosenbrock(concatenate({p[0], p[1]})); };
  auto rs = opt::line_search(ls, split, std::vector<Tensor>{slice(x, 0, 0, 1), slice(x, 0, 1, 2)},
                             std::vector<Tensor>{slice(d, 0, 0, 1), slice(d, 0, 1, 2)}, 1.0);
  CHECK(rs.ok);
  CHECK(rs.stepsize == r.stepsize);
  CHECK(rs.evaluations == r.evaluations);
}

TEST_CASE("Hager-Zhang: a non-finite trial is a step too long, never returned; out of evaluations falls back") {
  check_non_finite_is_too_long(opt::HagerZhangLineSearch{});
  check_out_of_evaluations(opt::HagerZhangLineSearch{.c1 = 0.1, .c2 = 0.1, .max_iterations = 2});

  // phi1 made non-finite past 100: from 1e3 the search bisects back into the finite region and succeeds
  auto vg = [](const Array& v) {
    const double a = v.data()[0], nan = std::nan("");
    auto [f, g] = mt_phi(1, a);
    return a > 100.0 ? std::pair<double, Array>(nan, Array{nan}) : std::pair<double, Array>(f, Array{g});
  };
  auto s = opt::HagerZhangLineSearch{}.search(vg, Array{0.0}, 0.0, Array{-0.5}, Array{1.0}, 1e3);
  CHECK(s.ok);
  CHECK(s.non_finite);
  CHECK(s.stepsize < 100.0);
}

TEST_CASE("Hager-Zhang: ascent fails cleanly; a linear function is flagged unbounded") {
  check_ascent_and_unbounded(opt::HagerZhangLineSearch{.max_stepsize = 1e8});
}
