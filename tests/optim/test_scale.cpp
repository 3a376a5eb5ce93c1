#include <doctest/doctest.h>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("scale multiplies by a constant or a traced Tensor") {
  Tensor g(Array{1.0, -2.0});
  auto t = opt::scale(0.5);
  auto r = t.update(g, t.init(g), g);
  CHECK(at(r.updates, 1) == -1.0);
  auto f = [&](const Tensor& c) {
    auto s = opt::scale(c);
    return sum(s.update(g, s.init(g), g).updates);
  };
  CHECK(grad(f)(Tensor(2.0)).item() == doctest::Approx(-1.0));
}

TEST_CASE("scale_by_schedule and scale_by_learning_rate count the steps") {
  Tensor g(Array{1.0, -2.0});
  auto t = opt::scale_by_learning_rate(opt::linear(1.0, 0.0, 4));
  auto state = t.init(g);
  CHECK(state.count.item() == 0.0);
  const double expect[] = {-1.0, -0.75, -0.5, -0.25, 0.0, 0.0};
  for (double e : expect) {
    auto [u, s] = t.update(g, state, g);
    CHECK(at(u, 0) == doctest::Approx(e));
    CHECK(at(u, 1) == doctest::Approx(-2.0 * e));
    state = s;
  }
  CHECK(state.count.item() == 6.0);
  auto up = opt::scale_by_learning_rate(0.1, false);
  CHECK(at(up.update(g, up.init(g), g).updates, 0) == doctest::Approx(0.1));
  auto sched = opt::scale_by_schedule([](int step) { return 2.0 * step; });
  auto s1 = sched.update(g, sched.init(g), g).state;
  CHECK(at(sched.update(g, s1, g).updates, 0) == doctest::Approx(2.0));
}

TEST_CASE("scale_by_sign") {
  Tensor g(Array{3.0, -0.5, 0.0});
  auto t = opt::scale_by_sign();
  auto u = t.update(g, t.init(g), g).updates;
  CHECK(at(u, 0) == 1.0);
  CHECK(at(u, 1) == -1.0);
  CHECK(at(u, 2) == 0.0);
}
