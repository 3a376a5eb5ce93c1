#include <xgrad/implicit/bilevel.hpp>

#include "implicit/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace im = xgrad::implicit;
namespace opt = xgrad::optim;

namespace {
Tensor inner_log(const Tensor& w, const Tensor& log_alpha, const Tensor& X, const Tensor& y, const Tensor&,
                 const Tensor&) {
  return ridge_inner(w, exp(log_alpha), X, y);
}
Tensor outer_log(const Tensor& w, const Tensor&, const Tensor&, const Tensor&, const Tensor& Xv, const Tensor& yv) {
  return 0.5 * mean(square(matmul(Xv, w) - yv));
}

// A ridge problem with a noisy validation set (an interior optimum), and the optimum of its validation loss over
// log alpha by golden-section search on the closed form (unimodal here).
struct Problem {
  Ridge r;
  double best;
  double val(double la) const {
    const auto cf = ridge_closed_form(r, std::exp(la));
    const Array res = xt::linalg::dot(r.Xv, cf.w) - r.yv;
    return 0.5 * xt::mean(res * res)();
  }
};
Problem problem() {
  Problem p{ridge_problem(30, 8, 31), 0.0};
  p.r.yv = p.r.yv + 1.5 * xgrad::random::normal(xgrad::random::key(77), {30});
  double a = -8.0, b = 4.0;
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  for (int k = 0; k < 200 && b - a > 1e-12; ++k) {
    const double c = b - phi * (b - a), d = a + phi * (b - a);
    (p.val(c) < p.val(d) ? b : a) = p.val(c) < p.val(d) ? d : c;
  }
  p.best = 0.5 * (a + b);
  return p;
}
}  // namespace

TEST_CASE("Bilevel: hypergradient descent on log alpha lands on the validation optimum") {
  const Problem p = problem();
  const Ridge& r = p.r;
  auto val = [&](double la) { return p.val(la); };
  const double best = p.best;
  REQUIRE(best > -7.0);
  REQUIRE(best < 3.0);

  const int steps = 200;
  std::vector<int> seen;
  im::Bilevel bilevel{.outer = opt::adam(opt::cosine_decay(0.2, steps)),
                      .inner = opt::LBFGS{.tol = 1e-10},
                      .steps = steps,
                      .callback = [&](const im::BilevelStep& s) {
                        seen.push_back(s.step);
                        return false;
                      }};
  const Tensor w0(Array(xt::zeros<double>({8})));
  auto res = bilevel.run(inner_log, outer_log, Tensor(2.0), w0, Tensor(r.X), Tensor(r.y), Tensor(r.Xv), Tensor(r.yv));
  REQUIRE(res.history.size() == std::size_t(steps));
  CHECK(seen.size() == std::size_t(steps));
  CHECK(std::abs(res.theta.item() - best) < 0.02);
  CHECK(res.history.back().outer_loss < res.history.front().outer_loss);
  CHECK(res.history.back().outer_loss <= val(best) + 1e-6);
  for (const auto& h : res.history) CHECK(h.inner_status == "converged");
  // Warm starts: later inner solves need fewer iterations than the first.
  CHECK(res.history.back().inner_iterations < res.history.front().inner_iterations);
  // The solution returned is the inner solution at the last evaluated theta.
  CHECK(rel_err(res.x.value(), ridge_closed_form(r, std::exp(res.theta.item())).w) < 1e-3);

  // A callback can stop the run.
  bilevel.callback = [](const im::BilevelStep& s) { return s.step == 4; };
  CHECK(bilevel.run(inner_log, outer_log, Tensor(2.0), w0, Tensor(r.X), Tensor(r.y), Tensor(r.Xv), Tensor(r.yv))
            .history.size() == 5);
}

TEST_CASE("Bilevel with an outer solver and automatic tolerances: converges to the optimum, tolerances follow") {
  const Problem p = problem();
  const Ridge& r = p.r;
  im::ImplicitOptions opts;
  opts.solver.method = im::Method::cg;
  opts.hypergradient_tol = 1e-12;
  opts.hypergradient_rtol = 0.1;
  im::Bilevel bilevel{.outer = opt::LBFGS{.tol = 1e-10}, .inner = opt::LBFGS{.tol = 1e-3}, .steps = 100,
                      .implicit = opts};
  const Tensor w0(Array(xt::zeros<double>({8})));
  auto res = bilevel.run(inner_log, outer_log, Tensor(2.0), w0, Tensor(r.X), Tensor(r.y), Tensor(r.Xv), Tensor(r.yv));
  CHECK(res.outer_status == "converged");
  REQUIRE(!res.history.empty());
  CHECK(res.evaluations >= int(res.history.size()));
  // The optimum of the closed form, to 1e-6 relative in alpha; the hypergradient there, exact, below 1e-8.
  CHECK(std::abs(std::exp(res.theta.item()) / std::exp(p.best) - 1.0) < 1e-6);
  const double h = 1e-5;
  const double fd = (p.val(res.theta.item() + h) - p.val(res.theta.item() - h)) / (2 * h);
  CHECK(std::abs(fd) < 1e-8);
  CHECK(res.history.back().grad_norm < 1e-10);
  // The tolerances: loose while the hypergradient is large (looser than the final ones by orders of magnitude), and
  // each hypergradient within its bound's target.
  double loosest = 0.0;
  for (const auto& st : res.history) loosest = std::max(loosest, st.inner_tol);
  CHECK(loosest >= 1e3 * res.history.back().inner_tol);
  CHECK(res.history.back().hypergradient_bound < 1e-10);
  CHECK(bilevel.implicit.report == nullptr);  // the run made its own report and left the options alone
}
