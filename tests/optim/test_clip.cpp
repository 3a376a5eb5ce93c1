#include <doctest/doctest.h>

#include <cmath>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("clip limits each element") {
  Tensor g(Array{3.0, -0.5, -7.0});
  auto t = opt::clip(1.0);
  auto u = t.update(g, t.init(g), g).updates;
  CHECK(at(u, 0) == 1.0);
  CHECK(at(u, 1) == -0.5);
  CHECK(at(u, 2) == -1.0);
}

TEST_CASE("clip_by_global_norm rescales across all leaves to the maximum norm") {
  std::vector<Tensor> g{Tensor(Array{3.0}), Tensor(Array{0.0, 4.0})};
  CHECK(opt::global_norm(g).item() == doctest::Approx(5.0));
  auto t = opt::clip_by_global_norm(2.0);
  auto u = t.update(g, t.init(g), g).updates;
  CHECK(opt::global_norm(u).item() == doctest::Approx(2.0));
  CHECK(at(u[0], 0) == doctest::Approx(1.2));
  CHECK(at(u[1], 1) == doctest::Approx(1.6));
  auto t10 = opt::clip_by_global_norm(10.0);  // below the threshold: unchanged
  auto v = t10.update(g, t10.init(g), g).updates;
  CHECK(at(v[1], 1) == 4.0);
  // differentiable, also at zero
  auto f = [](const Tensor& x) {
    auto c = opt::clip_by_global_norm(1.0);
    return sum(c.update(x, c.init(x), x).updates);
  };
  Tensor gr = grad(f)(Tensor(Array{3.0, 4.0}));  // d/dx sum(x / |x|) = (1 - x (sum x) / |x|^2) / |x|
  CHECK(at(gr, 0) == doctest::Approx((1.0 - 3.0 * 7.0 / 25.0) / 5.0));
  CHECK(std::isfinite(at(grad([](const Tensor& x) { return opt::global_norm(x); })(Tensor(Array{0.0, 0.0})), 0)));
}
