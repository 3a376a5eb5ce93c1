// LevenbergMarquardt: the Moré-Garbow-Hillstrom least-squares problems 1-28 (mgh_problems.hpp, their residuals) beside
// scipy.optimize.least_squares(method="lm", x_scale="jac") (MINPACK's lmder in its mode 1; mgh_scipy_lm_reference.hpp,
// written by scripts/mgh_scipy_lm.py):
// solved count and evaluations. Then the trust-region step, a curve fit, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <xtensor-blas/xlinalg.hpp>

#include "optim/mgh_problems.hpp"
#include "optim/mgh_scipy_lm_reference.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
bool solved_f(const MGHProblem& p, double f) {
  for (double m : p.minima)
    if (std::abs(f - m) <= 1e-6 * std::max(1.0, std::abs(m))) return true;
  return false;
}
}  // namespace

TEST_CASE("LevenbergMarquardt: the MGH least-squares problems, beside scipy's MINPACK lm") {
  const auto& problems = mgh_problems();
  REQUIRE(problems.size() == mgh_scipy_lm_reference.size());
  int solved = 0, scipy_solved = 0, nfev = 0, njev = 0, scipy_nfev = 0, scipy_njev = 0, same_counts = 0;
  std::printf("%2s %-26s | %12s %5s %5s %-16s | %12s %5s %5s\n", "#", "problem", "xgrad f", "nfev", "njev", "status",
              "scipy f", "nfev", "njev");
  for (std::size_t k = 0; k < problems.size(); ++k) {
    const MGHProblem& p = problems[k];
    const auto& ref = mgh_scipy_lm_reference[k];
    INFO(p.name);
    Array x0 = Array::from_shape({p.x0.size()});
    std::copy(p.x0.begin(), p.x0.end(), x0.begin());
    auto [x, s] = opt::LevenbergMarquardt{}.run(p.residuals, Tensor(x0));
    const double f = 2.0 * s.value;  // sum r^2, as the paper's minima
    const bool ok = solved_f(p, f);
    // Solved, or an honest status: never "converged" by gtol away from a stationary point.
    CHECK(s.status != opt::Status::running);
    if (!ok) CHECK(s.converged_by != opt::ConvergenceTest::gtol);
    solved += ok;
    scipy_solved += solved_f(p, ref.f);
    nfev += s.num_fun_eval;
    njev += s.num_jac_eval;
    scipy_nfev += ref.nfev;
    scipy_njev += ref.njev;
    same_counts += s.num_fun_eval == ref.nfev && s.num_jac_eval == ref.njev;
    std::string status = opt::to_string(s.status);
    if (s.status == opt::Status::converged) status.append(1, ' ').append(opt::to_string(s.converged_by));
    std::printf("%2d %-26s | %12.5e %5d %5d %-16s | %12.5e %5d %5d\n", p.number, p.name.c_str(), f, s.num_fun_eval,
                s.num_jac_eval, status.c_str(), ref.f, ref.nfev, ref.njev);
  }
  std::printf("xgrad LevenbergMarquardt: solved %d/28, nfev %d, njev %d | scipy lm: solved %d/28, nfev %d, njev %d\n",
              solved, nfev, njev, scipy_solved, scipy_nfev, scipy_njev);
  std::printf("the same evaluation counts as MINPACK on %d of 28 problems\n", same_counts);
  CHECK(solved >= scipy_solved - 1);
  CHECK(nfev <= 2 * scipy_nfev);
  // The same algorithm as MINPACK's lmder (mode 1): the same path on most problems, to the evaluation.
  CHECK(same_counts >= 20);
}

TEST_CASE("LevenbergMarquardt: the step is Gauss-Newton inside the region, on its boundary (within 10 %) outside") {
  const Array J{{1.0, 2.0}, {0.5, -1.0}, {3.0, 0.2}}, r{1.0, -2.0, 0.5}, d{1.0, 2.0};
  // Gauss-Newton: the least-squares solution of J p = -r.
  const Array gn = std::get<0>(xt::linalg::lstsq(J, Array(-r)));
  auto scaled = [&](const Array& p) { return std::sqrt(std::pow(d(0) * p(0), 2) + std::pow(d(1) * p(1), 2)); };
  auto [lam0, p0] = opt::detail::levenberg_marquardt_step(J, d, r, 10.0 * scaled(gn), 0.0);
  CHECK(lam0 == 0.0);
  CHECK(xt::amax(xt::abs(p0 - gn))() < 1e-12);
  for (double frac : {0.5, 0.1, 0.01}) {
    const double delta = frac * scaled(gn);
    auto [lam, p] = opt::detail::levenberg_marquardt_step(J, d, r, delta, 0.0);
    CHECK(lam > 0.0);
    CHECK(std::abs(scaled(p) - delta) <= 0.1 * delta);
    // p solves (J^T J + lambda D^2) p = -J^T r.
    Array A = xt::linalg::dot(xt::transpose(J), J);
    for (std::size_t j = 0; j < 2; ++j) A(j, j) += lam * d(j) * d(j);
    const Array want = xt::linalg::solve(A, Array(-xt::linalg::dot(xt::transpose(J), r)));
    CHECK(xt::amax(xt::abs(p - want))() < 1e-10 * (1.0 + xt::amax(xt::abs(want))()));
  }
}

TEST_CASE("LevenbergMarquardt: a curve fit recovers its parameters; extra arguments pass through") {
  // y = a exp(-b t) + c, sampled without noise: zero residual at (2, 0.7, 0.5).
  Array t = xt::linspace<double>(0.0, 5.0, 30);
  const Array y = 2.0 * xt::exp(-0.7 * t) + 0.5;
  auto residuals = [](const Tensor& p, const Tensor& tt, const Tensor& yy) {
    const Tensor a = slice(p, 0, 0, 1), b = slice(p, 0, 1, 2), c = slice(p, 0, 2, 3);
    return a * exp(-b * tt) + c - yy;
  };
  auto [p, s] = opt::LevenbergMarquardt{.xtol = 1e-12}.run(residuals, Tensor(Array{1.0, 1.0, 0.0}), Tensor(t),
                                                            Tensor(y));
  CHECK(s.status == opt::Status::converged);
  CHECK(xt::amax(xt::abs(p.value() - Array{2.0, 0.7, 0.5}))() < 1e-9);
  CHECK(s.value < 1e-20);
  CHECK(s.residual.size() == 30);
  CHECK(s.num_jac_eval >= 1);
}

TEST_CASE("LevenbergMarquardt: bad input") {
  auto nan_at_start = [](const Tensor& p) { return log(p - 10.0); };  // NaN for p < 10
  auto [x, s] = opt::LevenbergMarquardt{}.run(nan_at_start, Tensor(Array{1.0, 2.0}));
  CHECK(s.status == opt::Status::non_finite);
  CHECK(xt::all(xt::equal(x.value(), Array{1.0, 2.0})));
  CHECK_THROWS_AS(opt::LevenbergMarquardt{.ftol = -1.0}.run([](const Tensor& p) { return p; }, Tensor(Array{1.0})),
                  ValueError);
  // A budget that runs out ends max_iterations.
  auto rosen = [](const Tensor& p) {
    const Tensor a = slice(p, 0, 0, 1), b = slice(p, 0, 1, 2);
    return concatenate({10.0 * (b - square(a)), 1.0 - a});
  };
  auto [xr, sr] = opt::LevenbergMarquardt{.max_nfev = 3}.run(rosen, Tensor(Array{-1.2, 1.0}));
  CHECK(sr.status == opt::Status::max_iterations);
  CHECK(sr.num_fun_eval == 3);
}
