// LevenbergMarquardt: the Moré-Garbow-Hillstrom least-squares problems 1-28 (mgh_problems.hpp, their residuals) beside
// scipy.optimize.least_squares(method="lm", x_scale="jac") (MINPACK's lmder in its mode 1; mgh_scipy_lm_reference.hpp,
// written by scripts/mgh_scipy_lm.py):
// solved count and evaluations. Then the trust-region step, a curve fit, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <cstdio>
#include <string>
#include <xtensor-blas/xlinalg.hpp>

#include "optim/mgh_problems.hpp"
#include "optim/lm_bounds_scipy_reference.hpp"
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
  // Residuals whose number depends on x, and (through the flat interface, where a user may give the Jacobian) a
  // Jacobian of the wrong shape: ShapeErrors that say what was found.
  auto growing = [](const Tensor& p) { return p.value()(0) > 0.5 ? concatenate({p - 1.0, p - 1.0}) : p - 1.0; };
  CHECK_THROWS_WITH_AS(opt::LevenbergMarquardt{}.run(growing, Tensor(Array{0.0, 1.0})),
                       doctest::Contains("the residuals had 2 values at x and 4 at the trial point"), ShapeError);
  opt::detail::FlatVectorFunction wrong;
  wrong.value = [](const Array& p) { return Array(p - 1.0); };
  wrong.jacobian = [](const Array&) { return Array(xt::eye<double>(3)); };
  opt::LevenbergMarquardtState<Array> ws;
  CHECK_THROWS_WITH_AS(opt::detail::levenberg_marquardt_flat(wrong, Array{0.0, 0.0}, ws, opt::LevenbergMarquardt{}),
                       doctest::Contains("the Jacobian is (3,3) for 2 residuals and 2 parameters"), ShapeError);
}

namespace {
// The bounded problems of tests/optim/lm_bounds_scipy_reference.py, in its order.
const Array kT = xt::arange<double>(17) * 0.25;
const Array kY = 3.0 * xt::exp(-0.7 * kT) + 0.5 + 0.05 * xt::sin(3.0 * kT);
Tensor box_decay(const Tensor& p) {
  return slice(p, 0, 0, 1) * exp(-slice(p, 0, 1, 2) * Tensor(kT)) + slice(p, 0, 2, 3) - Tensor(kY);
}
Tensor box_rosenbrock(const Tensor& p) {
  const Tensor a = slice(p, 0, 0, 1), b = slice(p, 0, 1, 2);
  return concatenate({10.0 * (b - square(a)), 1.0 - a});
}
Tensor box_powell_singular(const Tensor& p) {
  const Tensor x0 = slice(p, 0, 0, 1), x1 = slice(p, 0, 1, 2), x2 = slice(p, 0, 2, 3), x3 = slice(p, 0, 3, 4);
  return concatenate({x0 + 10.0 * x1, std::sqrt(5.0) * (x2 - x3), square(x1 - 2.0 * x2),
                      std::sqrt(10.0) * square(x0 - x3)});
}
Tensor box_beale(const Tensor& p) {
  const Tensor x0 = slice(p, 0, 0, 1), x1 = slice(p, 0, 1, 2);
  return concatenate({1.5 - x0 * (1.0 - x1), 2.25 - x0 * (1.0 - square(x1)), 2.625 - x0 * (1.0 - x1 * square(x1))});
}
struct BoundedProblem {
  std::string name;
  Tensor (*residuals)(const Tensor&);
  Array x0;
  opt::Bounds bounds;
  int active;  // coordinates at a bound at the solution
};
}  // namespace

TEST_CASE("LevenbergMarquardt: bounds, beside scipy's bounded least squares (trf)") {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<BoundedProblem> problems = {
      {"decay, rate capped below its fit", box_decay, {1.0, 0.1, 0.0}, {.upper = {inf, 0.5, inf}}, 1},
      {"decay, bounds active at the start", box_decay, {1.0, 0.5, 0.6}, {{-inf, 0.5, 0.6}, {inf, 2.0, inf}}, 1},
      {"Rosenbrock, x0 <= 0.5", box_rosenbrock, {-1.2, 1.0}, {.upper = {0.5, inf}}, 1},
      {"Powell singular, x2 = 0.5 fixed", box_powell_singular, {3.0, -1.0, 0.5, 1.0}, {{-inf, -inf, 0.5, -inf},
                                                                                    {inf, inf, 0.5, inf}}, 1},
      {"Beale in a box", box_beale, {1.0, 0.2}, {{0.5, 0.0}, {2.0, 0.4}}, 1},
  };
  REQUIRE(problems.size() == lm_bounds_scipy_reference.size());
  std::printf("%-36s | %5s %5s | %5s %5s  (scipy trf)\n", "bounded problem", "nfev", "njev", "nfev", "njev");
  for (std::size_t k = 0; k < problems.size(); ++k) {
    const auto& p = problems[k];
    const auto& ref = lm_bounds_scipy_reference[k];
    INFO(p.name);
    // At tight tolerances the solution; at scipy's defaults the evaluations, side by side.
    auto [x, s] = opt::LevenbergMarquardt{.ftol = 1e-15, .xtol = 1e-15, .gtol = 1e-12, .certify = true,
                                          .bounds = p.bounds}.run(p.residuals, Tensor(p.x0));
    auto [xd, sd] = opt::LevenbergMarquardt{.bounds = p.bounds}.run(p.residuals, Tensor(p.x0));
    CHECK(s.status == opt::Status::converged);  // by gtol, or by ftol where Gauss-Newton converges linearly
    CHECK(sd.status == opt::Status::converged);
    CHECK(xt::amax(xt::abs(xd.value() - x.value()))() < 1e-4);
    CHECK(s.active == p.active);
    const auto [lo, hi] = p.bounds.expand(p.x0.size(), "test");
    for (std::size_t j = 0; j < p.x0.size(); ++j) {
      CHECK(x.value()(j) >= lo(j));  // never outside the box
      CHECK(x.value()(j) <= hi(j));
      CHECK(x.value()(j) == doctest::Approx(ref.x[j]).epsilon(1e-8).scale(1.0));
    }
    CHECK(s.value == doctest::Approx(ref.cost).epsilon(1e-12));
    CHECK(s.error < 1e-7);  // the projected gradient
    std::printf("%-36s | %5d %5d | %5d %5d\n", p.name.c_str(), sd.num_fun_eval, sd.num_jac_eval, ref.nfev, ref.njev);
  }
}

namespace {
struct Decay {  // the decay model's parameters as a struct: the bounds are structs too
  Tensor amplitude, rate, offset;
  XGRAD_TREE_FIELDS(amplitude, rate, offset)
};
}  // namespace

TEST_CASE("LevenbergMarquardt: parameters and bounds as pytrees give the flat problem's solution") {
  const double inf = std::numeric_limits<double>::infinity();
  auto residuals = [](const Decay& d, const Tensor& t, const Tensor& y) {
    return d.amplitude * exp(-d.rate * t) + d.offset - y;
  };
  const Decay x0{Tensor(1.0), Tensor(0.1), Tensor(0.0)};
  const opt::Bounds bounds = opt::Bounds::of(Decay{Tensor(-inf), Tensor(-inf), Tensor(-inf)},
                                             Decay{Tensor(inf), Tensor(0.5), Tensor(inf)});
  auto [d, s] = opt::LevenbergMarquardt{.certify = true, .bounds = bounds}.run(residuals, x0, Tensor(kT), Tensor(kY));
  auto [x, sf] = opt::LevenbergMarquardt{.certify = true, .bounds = {.upper = {inf, 0.5, inf}}}.run(box_decay,
                                                                                                   Tensor(Array{1.0, 0.1, 0.0}));
  CHECK(s.status == opt::Status::converged);
  CHECK(d.amplitude.item() == x.value()(0));  // the same iterations, bit for bit
  CHECK(d.rate.item() == 0.5);
  CHECK(d.offset.item() == x.value()(2));
  CHECK(s.num_fun_eval == sf.num_fun_eval);
  CHECK(s.grad.rate.item() < 0.0);  // the gradient pushes against the cap: the rate is held there
  CHECK(s.residual.size() == kT.size());
}

TEST_CASE("LevenbergMarquardt: bad bounds, and a start outside the box") {
  const Tensor x0(Array{1.0, 1.0});
  auto crossed = [&] { return opt::LevenbergMarquardt{.bounds = opt::Bounds::of(1.0, 0.0)}.run(box_rosenbrock, x0); };
  CHECK_THROWS_WITH_AS(crossed(), doctest::Contains("xgrad::optim::LevenbergMarquardt: lower bound 1"), ValueError);
  auto three = [&] { return opt::LevenbergMarquardt{.bounds = {.lower = {0.0, 0.0, 0.0}}}.run(box_rosenbrock, x0); };
  CHECK_THROWS_AS(three(), ShapeError);
  // x0 is projected onto the box first: the run never evaluates outside it.
  auto [x, s] = opt::LevenbergMarquardt{.bounds = opt::Bounds::of(-0.5, 0.5)}.run(
      [](const Tensor& p) {
        CHECK(xt::amax(xt::abs(p.value()))() <= 0.5);
        return box_rosenbrock(p);
      },
      Tensor(Array{-1.2, 1.0}));
  CHECK(s.status == opt::Status::converged);
  CHECK(x.value()(0) == doctest::Approx(0.5).epsilon(1e-6));
}
