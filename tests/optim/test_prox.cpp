#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "optim/common.hpp"

using namespace xgrad;
namespace opt = xgrad::optim;

namespace {
// prox_{s g}(x) minimises 1/2 ||z - x||^2 + s g(z): no point on a fine grid around it does better.
template <class G>
void check_minimises(const opt::Prox& prox, G g, const Array& x, double s) {
  const Array p = prox(x, s);
  const auto objective = [&](const Array& z) { return 0.5 * flat::dot(z - x, z - x) + s * g(z); };
  const double best = objective(p);
  for (std::size_t i = 0; i < x.size(); ++i)
    for (double h : {-1e-3, -1e-6, 1e-6, 1e-3}) {
      Array z = p;
      z(i) += h;
      CHECK(objective(z) >= best - 1e-15);
    }
}
double l1(const Array& z) { return xt::sum(xt::abs(z))(); }
double l2sq(const Array& z) { return flat::dot(z, z); }
}  // namespace

TEST_CASE("prox: lasso, non-negative lasso, elastic net, ridge, group lasso minimise their definitions") {
  const Array x{1.5, -0.2, 0.05, -2.0, 0.0};
  CHECK(opt::prox_none()(x, 3.0) == x);
  CHECK(xt::allclose(opt::prox_lasso(0.5)(x, 0.4), Array{1.3, 0.0, 0.0, -1.8, 0.0}, 1e-15, 1e-15));
  check_minimises(opt::prox_lasso(0.5), [](const Array& z) { return 0.5 * l1(z); }, x, 0.4);
  check_minimises(opt::prox_elastic_net(0.5, 2.0), [](const Array& z) { return 0.5 * l1(z) + 1.0 * l2sq(z); }, x, 0.4);
  check_minimises(opt::prox_ridge(3.0), [](const Array& z) { return 1.5 * l2sq(z); }, x, 0.7);
  check_minimises(opt::prox_group_lasso(0.8), [](const Array& z) { return 0.8 * std::sqrt(l2sq(z)); }, x, 0.5);
  CHECK(opt::prox_group_lasso(10.0)(x, 1.0) == Array{0.0, 0.0, 0.0, 0.0, 0.0});  // the whole group is zeroed
  const Array nn = opt::prox_non_negative_lasso(0.5)(x, 0.4);
  CHECK(xt::allclose(nn, Array{1.3, 0.0, 0.0, 0.0, 0.0}, 1e-15, 1e-15));
  // From a projection: the scaling does not matter.
  const auto box = opt::make_prox_from_projection(opt::projection_box(-1.0, 1.0));
  CHECK(box(x, 0.1) == box(x, 10.0));
  CHECK_THROWS_AS(opt::prox_lasso(-1.0), ValueError);
  CHECK_THROWS_AS(opt::prox_elastic_net(0.1, -1.0), ValueError);
  CHECK_THROWS_AS(opt::make_prox_from_projection({}), ValueError);
}

TEST_CASE("prox: each factory's differentiable form is its Array form, and differentiable where the prox is smooth") {
  // Points away from the kinks (no coordinate at +-s l1reg, a group norm far from s l2reg), several scalings.
  const Array x{1.5, -0.23, 0.07, -2.0, 0.71, -0.93};
  const std::vector<std::pair<std::string, opt::Prox>> proxes = {
      {"none", opt::prox_none()},
      {"lasso", opt::prox_lasso(0.5)},
      {"non-negative lasso", opt::prox_non_negative_lasso(0.5)},
      {"elastic net", opt::prox_elastic_net(0.5, 2.0)},
      {"ridge", opt::prox_ridge(3.0)},
      {"group lasso", opt::prox_group_lasso(0.8)},
      {"group lasso, zeroed", opt::prox_group_lasso(10.0)},
  };
  for (const auto& [name, prox] : proxes) {
    INFO(name);
    REQUIRE(prox.differentiable);
    for (double s : {0.1, 0.4, 1.0}) {
      const Array a = prox(x, s), d = prox.differentiable(Tensor(x), s).value();
      CHECK(xt::allclose(a, d, 1e-15, 1e-15));
      // Its derivatives at x agree with central differences of the Array form (the implicit derivative uses them).
      const Array J = jacobian([&](const Tensor& z) { return prox.differentiable(z, s); })(Tensor(x));
      for (std::size_t j = 0; j < x.size(); ++j) {
        Array up = x, down = x;
        up(j) += 1e-7;
        down(j) -= 1e-7;
        const Array fd = (prox(up, s) - prox(down, s)) / 2e-7;
        for (std::size_t i = 0; i < x.size(); ++i) CHECK(J(i, j) == doctest::Approx(fd(i)).epsilon(1e-6).scale(1.0));
      }
    }
  }
  // A projection with its differentiable form: the same on both sides.
  const auto box = opt::make_prox_from_projection(opt::projection_box(-1.0, 1.0),
                                                  [](const Tensor& z) { return minimum(maximum(z, -1.0), 1.0); });
  CHECK(box(x, 1.0) == box.differentiable(Tensor(x), 1.0).value());
}
