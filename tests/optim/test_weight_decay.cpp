#include <doctest/doctest.h>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("add_decayed_weights adds weight_decay * params") {
  Tensor p(Array{1.0, -2.0}), g(Array{0.5, 0.5});
  auto t = opt::add_decayed_weights(0.1);
  auto u = t.update(g, t.init(p), p).updates;
  CHECK(at(u, 0) == doctest::Approx(0.6));
  CHECK(at(u, 1) == doctest::Approx(0.3));
  auto f = [&](const Tensor& wd) {
    auto d = opt::add_decayed_weights(wd);
    return sum(d.update(g, d.init(p), p).updates);
  };
  CHECK(grad(f)(Tensor(0.1)).item() == doctest::Approx(-1.0));
}
