#include <xgrad/implicit/argmin.hpp>
#include <xgrad/implicit/fixed_point.hpp>

#include "implicit/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace im = xgrad::implicit;

TEST_CASE("FixedPointIteration converges on a contraction and reports honestly") {
  auto T = [](const Tensor& x, const Tensor& a, const Tensor& b) { return a * x + b; };
  const Array a{0.5, -0.3, 0.9}, b{1.0, 2.0, -1.0};
  auto [x, s] = im::FixedPointIteration{.maxiter = 1000, .tol = 1e-12}.run(T, Tensor(Array(xt::zeros<double>({3}))),
                                                                          Tensor(a), Tensor(b));
  CHECK(s.status == optim::Status::converged);
  CHECK(s.error <= 1e-12);
  CHECK(rel_err(x.value(), b / (1.0 - a)) < 1e-10);
  auto capped = im::FixedPointIteration{.maxiter = 5, .tol = 1e-12}.run(T, Tensor(Array(xt::zeros<double>({3}))),
                                                                      Tensor(a), Tensor(b));
  CHECK(capped.state.status == optim::Status::max_iterations);
  CHECK(capped.state.iter_num == 5);
  auto blowup = im::FixedPointIteration{.maxiter = 5000}.run([](const Tensor& x) { return exp(x) + 1.0; },
                                                              Tensor(0.0));
  CHECK(blowup.state.status == optim::Status::non_finite);
  CHECK(std::isfinite(blowup.params.item()));
}

TEST_CASE("fixed_point: derivatives of x* = a x* + b against the closed form") {
  // x* = b / (1 - a): dx*/da = b / (1 - a)^2, dx*/db = 1 / (1 - a).
  auto T = [](const Tensor& x, const Tensor& a, const Tensor& b) { return a * x + b; };
  const Array a{0.5, -0.3, 0.9}, b{1.0, 2.0, -1.0};
  const Tensor x0(Array(xt::zeros<double>({3})));
  const im::FixedPointIteration solver{.maxiter = 2000, .tol = 1e-13};
  auto loss = [&](const Tensor& ta, const Tensor& tb) { return sum(im::fixed_point(solver, T, x0, ta, tb).params); };
  const Array ga = grad([&](const Tensor& ta) { return loss(ta, Tensor(b)); })(Tensor(a)).value();
  const Array gb = grad([&](const Tensor& tb) { return loss(Tensor(a), tb); })(Tensor(b)).value();
  CHECK(rel_err(ga, b / ((1.0 - a) * (1.0 - a))) < 1e-9);
  CHECK(rel_err(gb, 1.0 / (1.0 - a)) < 1e-9);

  // A nonlinear contraction x = 0.5 cos(x) + theta: dx/dtheta = 1 / (1 + 0.5 sin x).
  auto C = [](const Tensor& x, const Tensor& th) { return 0.5 * cos(x) + th; };
  const double th = 0.3;
  auto xs = [&](const Tensor& t) { return im::fixed_point(solver, C, Tensor(0.0), t).params; };
  const double x = xs(Tensor(th)).item();
  CHECK(x == doctest::Approx(0.5 * std::cos(x) + th).epsilon(1e-12));
  CHECK(grad([&](const Tensor& t) { return xs(t); })(Tensor(th)).item() ==
        doctest::Approx(1.0 / (1.0 + 0.5 * std::sin(x))).epsilon(1e-9));
}
