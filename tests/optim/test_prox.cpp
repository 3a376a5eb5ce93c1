#include <doctest/doctest.h>

#include <cmath>

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
