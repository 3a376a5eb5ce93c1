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
}  // namespace

TEST_CASE("Bilevel: hypergradient descent on log alpha lands on the validation optimum") {
  Ridge r = ridge_problem(30, 8, 31);
  r.yv = r.yv + 1.5 * xgrad::random::normal(xgrad::random::key(77), {30});  // noisy validation: an interior optimum
  // The optimum by golden-section search on the closed form (unimodal here).
  auto val = [&](double la) {
    const auto cf = ridge_closed_form(r, std::exp(la));
    const Array res = xt::linalg::dot(r.Xv, cf.w) - r.yv;
    return 0.5 * xt::mean(res * res)();
  };
  double a = -8.0, b = 4.0;
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  for (int k = 0; k < 100; ++k) {
    const double c = b - phi * (b - a), d = a + phi * (b - a);
    (val(c) < val(d) ? b : a) = val(c) < val(d) ? d : c;
  }
  const double best = 0.5 * (a + b);
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
