// GaussNewton: the full step and the damped one on the Moré-Garbow-Hillstrom least-squares problems, quadratic
// convergence at a zero residual, the same fit as LevenbergMarquardt, pytrees, bad input (implicit::least_squares
// through it: tests/implicit/test_argmin.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "optim/mgh_problems.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {
Tensor rosenbrock_r(const Tensor& p) {
  const Tensor a = slice(p, 0, 0, 1), b = slice(p, 0, 1, 2);
  return concatenate({10.0 * (b - square(a)), 1.0 - a});
}
const Array kT = xt::linspace<double>(0.0, 4.0, 12);
Tensor decay(const Tensor& p, const Tensor& t, const Tensor& y) {
  return slice(p, 0, 0, 1) * exp(-slice(p, 0, 1, 2) * t) + slice(p, 0, 2, 3) - y;
}
Array decay_data(double noise) {
  Array y = 2.0 * xt::exp(-0.7 * kT) + 0.5;
  for (std::size_t i = 0; i < y.size(); ++i) y(i) += noise * std::sin(7.0 * double(i));
  return y;
}
}  // namespace

TEST_CASE("GaussNewton: Rosenbrock's residuals: the full step lands on (1, 1) in two iterations") {
  // r = (10 (x1 - x0^2), 1 - x0): the first step solves the linear residual exactly (x0 = 1), the second the other.
  auto [x, s] = opt::GaussNewton{.tol = 1e-12, .damped = false}.run(rosenbrock_r, Tensor(Array{-1.2, 1.0}));
  CHECK(s.status == opt::Status::converged);
  CHECK(s.iter_num == 2);
  CHECK(x.value()(0) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(x.value()(1) == doctest::Approx(1.0).epsilon(1e-14));
  CHECK(s.error <= 1e-12);
}

TEST_CASE("GaussNewton: quadratic convergence at a zero residual; the same fit as LevenbergMarquardt with noise") {
  const Tensor t(kT);
  std::vector<double> errors;
  opt::GaussNewton gn{.tol = 1e-13};
  gn.callback = [&](const opt::IterationInfo& info) {
    errors.push_back(info.error);
    return false;
  };
  auto [x, s] = gn.run(decay, Tensor(Array{1.5, 0.5, 0.3}), t, Tensor(decay_data(0.0)));
  CHECK(s.status == opt::Status::converged);
  CHECK(xt::amax(xt::abs(x.value() - Array{2.0, 0.7, 0.5}))() < 1e-12);
  // Quadratic: once below 1e-2, each error is at most a constant times the square of the one before.
  int quadratic_steps = 0;
  for (std::size_t k = 1; k < errors.size(); ++k)
    if (errors[k - 1] < 1e-2 && errors[k] > 0.0) {
      CHECK(errors[k] <= 10.0 * errors[k - 1] * errors[k - 1]);
      ++quadratic_steps;
    }
  CHECK(quadratic_steps >= 1);
  // With noise (a nonzero residual) the same minimiser as LevenbergMarquardt.
  const Tensor y(decay_data(0.05));
  auto [xg, sg] = opt::GaussNewton{.tol = 1e-12}.run(decay, Tensor(Array{1.0, 1.0, 0.0}), t, y);
  auto [xl, sl] = opt::LevenbergMarquardt{.ftol = 1e-15, .xtol = 1e-15, .gtol = 1e-13}.run(decay, Tensor(Array{1.0, 1.0, 0.0}), t, y);
  CHECK(sg.status == opt::Status::converged);
  CHECK(xt::amax(xt::abs(xg.value() - xl.value()))() < 1e-8);
  CHECK(sg.value == doctest::Approx(sl.value).epsilon(1e-12));
}

TEST_CASE("GaussNewton: the MGH least-squares problems, damped and full step") {
  const auto& problems = mgh_problems();
  auto solved_f = [](const MGHProblem& p, double f) {
    for (double m : p.minima)
      if (std::abs(f - m) <= 1e-6 * std::max(1.0, std::abs(m))) return true;
    return false;
  };
  int damped_solved = 0, full_solved = 0, nfev = 0, njev = 0;
  std::printf("%2s %-26s | %12s %5s %5s %-18s | %12s %-18s\n", "#", "problem", "damped f", "nfev", "njev", "status",
              "full-step f", "status");
  for (const auto& p : problems) {
    INFO(p.name);
    Array x0 = Array::from_shape({p.x0.size()});
    std::copy(p.x0.begin(), p.x0.end(), x0.begin());
    auto [xd, sd] = opt::GaussNewton{.maxiter = 200, .tol = 1e-10}.run(p.residuals, Tensor(x0));
    auto [xf, sf] = opt::GaussNewton{.maxiter = 200, .tol = 1e-10, .damped = false}.run(p.residuals, Tensor(x0));
    // Honest statuses: converged means the gradient test held; damped runs never increase ||r||.
    for (const auto* s : {&sd, &sf}) {
      CHECK(s->status != opt::Status::running);
      if (s->status == opt::Status::converged) CHECK(s->error <= 1e-10);
    }
    CHECK(2.0 * sd.value <= double(xt::sum(xt::square(p.residuals(Tensor(x0)).value()))()) * (1 + 1e-15));
    const bool d = solved_f(p, 2.0 * sd.value), f = solved_f(p, 2.0 * sf.value);
    damped_solved += d;
    full_solved += f;
    nfev += sd.num_fun_eval;
    njev += sd.num_jac_eval;
    std::printf("%2d %-26s | %12.5e %5d %5d %-18s | %12.5e %-18s\n", p.number, p.name.c_str(), 2.0 * sd.value,
                sd.num_fun_eval, sd.num_jac_eval, opt::to_string(sd.status).c_str(), 2.0 * sf.value,
                opt::to_string(sf.status).c_str());
  }
  std::printf("GaussNewton: damped solved %d/28 (nfev %d, njev %d), full step %d/28\n", damped_solved, nfev, njev,
              full_solved);
  CHECK(damped_solved > full_solved);  // the line search is what makes it converge from the standard starts
  CHECK(damped_solved >= 18);
}

namespace {
struct Decay {  // the parameters as a struct
  Tensor a, b, c;
};
}  // namespace

TEST_CASE("GaussNewton: pytree parameters give the flat problem's iterations") {
  const Tensor t(kT), y(decay_data(0.05));
  auto residuals = [](const Decay& d, const Tensor& tt, const Tensor& yy) { return d.a * exp(-d.b * tt) + d.c - yy; };
  auto [d, s] = opt::GaussNewton{.tol = 1e-11}.run(residuals, Decay{Tensor(1.0), Tensor(1.0), Tensor(0.0)}, t, y);
  auto [x, sx] = opt::GaussNewton{.tol = 1e-11}.run(decay, Tensor(Array{1.0, 1.0, 0.0}), t, y);
  CHECK(s.status == opt::Status::converged);
  CHECK(d.a.item() == x.value()(0));  // the same iterations
  CHECK(d.b.item() == x.value()(1));
  CHECK(s.num_fun_eval == sx.num_fun_eval);
}

TEST_CASE("GaussNewton: bad input") {
  auto nan_at_start = [](const Tensor& p) { return log(p - 10.0); };
  auto [x, s] = opt::GaussNewton{}.run(nan_at_start, Tensor(Array{1.0, 2.0}));
  CHECK(s.status == opt::Status::non_finite);
  CHECK(x.value() == Array{1.0, 2.0});
  CHECK_THROWS_AS(opt::GaussNewton{.tol = -1.0}.run(rosenbrock_r, Tensor(Array{1.0, 1.0})), ValueError);
  CHECK_THROWS_AS(opt::GaussNewton{.decrease_factor = 1.0}.run(rosenbrock_r, Tensor(Array{1.0, 1.0})), ValueError);
  // The budget: max_iterations.
  auto [xm, sm] = opt::GaussNewton{.maxiter = 1, .tol = 1e-14}.run(rosenbrock_r, Tensor(Array{-1.2, 1.0}));
  CHECK(sm.status == opt::Status::max_iterations);
  CHECK(sm.iter_num == 1);
  // A Jacobian of the wrong shape (through the flat interface, where a user may give it).
  opt::detail::FlatVectorFunction wrong;
  wrong.value = [](const Array& p) { return Array(p - 1.0); };
  wrong.jacobian = [](const Array&) { return Array(xt::eye<double>(3)); };
  opt::GaussNewtonState<Array> ws;
  CHECK_THROWS_WITH_AS(opt::detail::gauss_newton_flat(wrong, Array{0.0, 0.0}, ws, opt::GaussNewton{}),
                       doctest::Contains("xgrad::optim::GaussNewton: the Jacobian is (3,3) for 2 residuals"),
                       ShapeError);
}
