#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "optim/solver_checks.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {

// An ill-conditioned quadratic 0.5 sum(c x^2) with curvatures 1 ... 100: minimum 0 at 0.
Tensor ill_quadratic(const Tensor& x) {
  Array c = Array::from_shape({x.size()});
  for (std::size_t i = 0; i < x.size(); ++i) c(i) = std::pow(100.0, static_cast<double>(i) / (x.size() - 1.0));
  return 0.5 * sum(Tensor(c) * square(x));
}

}  // namespace

TEST_CASE("GradientDescent: fixed step on a quadratic with a known minimum") {
  opt::GradientDescent solver;
  solver.stepsize = 0.5;  // < 2 / L = 2 / 3
  solver.tol = 1e-10;
  solver.maxiter = 1000;
  auto [x, state] = solver.run(quadratic, Tensor(Array{1.0, -2.0, 0.5}));
  CHECK(state.status == opt::Status::converged);
  CHECK(max_abs_diff(x, 0.0) < 1e-9);
  CHECK(state.stepsize == 0.5);
  CHECK(state.num_fun_eval == state.iter_num + 1);
  CHECK(state.num_linesearch_iter == 0);
  // first iterate: x - 0.5 c x
  auto s0 = solver.init_state(quadratic, Tensor(Array{1.0, -2.0, 0.5}));
  auto [x1, s1] = solver.update(quadratic, Tensor(Array{1.0, -2.0, 0.5}), s0);
  CHECK(at(x1, 0) == doctest::Approx(0.5));
  CHECK(at(x1, 1) == doctest::Approx(-2.0 + 3.0));
  CHECK(at(x1, 2) == doctest::Approx(0.5 - 0.125));
}

TEST_CASE("GradientDescent: backtracking, and acceleration needs fewer iterations on an ill-conditioned quadratic") {
  const Tensor x0(Array{1.0, 1.0, 1.0, 1.0, 1.0, 1.0});
  const opt::GradientDescent plain{.maxiter = 5000, .tol = 1e-8};
  const opt::GradientDescent fista{.maxiter = 5000, .tol = 1e-8, .acceleration = true};
  auto [xp, sp] = plain.run(ill_quadratic, x0);
  auto [xa, sa] = fista.run(ill_quadratic, x0);
  CHECK(sp.status == opt::Status::converged);
  CHECK(sa.status == opt::Status::converged);
  CHECK(max_abs_diff(xp, 0.0) < 1e-8);
  CHECK(max_abs_diff(xa, 0.0) < 1e-8);
  CHECK(sa.iter_num < sp.iter_num / 2);
  CHECK(sp.num_linesearch_iter > 0);
  CHECK(sp.num_fun_eval >= sp.iter_num);
  CHECK(sa.num_fun_eval >= sa.iter_num);
}

TEST_CASE("GradientDescent: with acceleration the backtracked step never grows; without it, it does") {
  // FISTA's backtracking (Beck and Teboulle): the step only shrinks. A step grown past 1/L can pass the Armijo test
  // along the direction taken and make the accelerated iteration circle (as it did in ProximalGradient).
  const Tensor x0(Array{1.0, 1.0, 1.0, 1.0, 1.0, 1.0});
  for (bool acceleration : {true, false}) {
    INFO("acceleration " << acceleration);
    std::vector<double> steps;
    opt::GradientDescent solver{.maxiter = 5000, .tol = 1e-8, .acceleration = acceleration};
    solver.callback = [&](const opt::IterationInfo& info) {
      steps.push_back(info.stepsize);
      return false;
    };
    auto [x, s] = solver.run(ill_quadratic, x0);
    CHECK(s.status == opt::Status::converged);
    REQUIRE(steps.size() > 2);
    int grew = 0;
    for (std::size_t k = 1; k < steps.size(); ++k) grew += steps[k] > steps[k - 1];
    if (acceleration)
      CHECK(grew == 0);
    else
      CHECK(grew > 0);  // the plain search starts from twice the last step
  }
}

TEST_CASE("GradientDescent: ridge regression against the closed form, data as extra arguments") {
  const auto data = ridge_data(30, 4);
  const double lambda = 2.0;
  // tol 1e-6 on ||grad|| with f near 10: an Armijo test much tighter than this is at f's rounding level
  const opt::GradientDescent solver{.maxiter = 5000, .tol = 1e-6, .acceleration = true};
  auto [w, state] = solver.run(ridge, Tensor(Array(xt::zeros<double>({4}))), data.X, data.y, lambda);
  CHECK(state.status == opt::Status::converged);
  CHECK(state.error <= 1e-6);
  CHECK(max_abs_diff(w, ridge_solution(data, lambda)) < 1e-6);
}

TEST_CASE("GradientDescent: a map pytree gives the same iterates as one Tensor") {
  using Params = std::map<std::string, Tensor>;
  auto split = [](const Params& p) { return rosenbrock(concatenate({p.at("a"), p.at("b")})); };
  const opt::GradientDescent solver{.maxiter = 30, .tol = 1e-12};
  auto [x, sx] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  auto [p, sp] = solver.run(split, Params{{"a", Tensor(Array{-1.2})}, {"b", Tensor(Array{1.0})}});
  CHECK(sx.status == opt::Status::max_iterations);  // Rosenbrock is slow for gradient descent: honest status
  CHECK(sp.status == opt::Status::max_iterations);
  CHECK(sx.iter_num == 30);
  CHECK(sp.num_fun_eval == sx.num_fun_eval);
  CHECK(at(p.at("a"), 0) == doctest::Approx(at(x, 0)).epsilon(1e-13));
  CHECK(at(p.at("b"), 0) == doctest::Approx(at(x, 1)).epsilon(1e-13));
  CHECK(sx.value < rosenbrock(Tensor(Array{-1.2, 1.0})).item());
}

TEST_CASE("GradientDescent: unbounded below ends unbounded; NaN ends non_finite with finite params") {
  const auto data = ridge_data(20, 3);
  const opt::GradientDescent solver{.maxiter = 2000};
  auto [w, state] = solver.run(linear_loss, Tensor(Array(xt::zeros<double>({3}))), data.X, data.y);
  CHECK(state.status == opt::Status::unbounded);
  CHECK(state.value < -1e100);

  auto [x0, s0] = solver.run(nan_everywhere, Tensor(Array{1.0}));
  CHECK(s0.status == opt::Status::non_finite);
  CHECK(s0.iter_num == 0);

  // a fixed step that jumps into the NaN region stops there, keeping the last finite params
  const opt::GradientDescent fixed{.stepsize = 0.3};
  auto [x, s] = fixed.run(nan_past_one, Tensor(Array{0.0, 0.0}));
  CHECK(s.status == opt::Status::non_finite);
  CHECK(at(x, 0) == doctest::Approx(0.9));
  CHECK(std::isfinite(s.value));

  auto [xb, sb] = solver.run(nan_past_one, Tensor(Array{0.0, 0.0}));
  CHECK(sb.status == opt::Status::non_finite);
  for (double v : xb.value()) CHECK((std::isfinite(v) && v < 1.0));
}

TEST_CASE("GradientDescent: callback stops the run, maxiter is reported") {
  int calls = 0;
  opt::GradientDescent solver{.maxiter = 7};
  solver.callback = [&](const opt::IterationInfo& info) {
    ++calls;
    CHECK(info.iter_num == calls);
    return false;
  };
  auto [x, state] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(calls == 7);
  CHECK(state.status == opt::Status::max_iterations);
  solver.callback = [](const opt::IterationInfo& info) { return info.iter_num >= 3; };
  auto [x2, s2] = solver.run(rosenbrock, Tensor(Array{-1.2, 1.0}));
  CHECK(s2.status == opt::Status::running);  // stopped early: not success
  CHECK(s2.iter_num == 3);
  CHECK(s2.value < state.value + 20.0);
}

TEST_CASE("GradientDescent: verbose prints one table line per iteration; the callback sees each one") {
  check_callback_and_verbose(opt::GradientDescent{}, "GradientDescent", Tensor(Array{-1.2, 1.0}));
}
