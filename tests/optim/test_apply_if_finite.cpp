#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("apply_if_finite skips non-finite gradients and counts them") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto t = opt::apply_if_finite(opt::sgd(0.1, {.momentum = 0.9}), 2);
  Tensor p(Array{1.0, 2.0});
  auto state = t.init(p);
  auto r1 = t.update(Tensor(Array{1.0, 1.0}), state, p);
  CHECK(at(r1.updates, 0) == doctest::Approx(-0.1));
  CHECK(r1.state.last_finite.item() == 1.0);
  auto r2 = t.update(Tensor(Array{nan, 1.0}), r1.state, p);
  CHECK(at(r2.updates, 0) == 0.0);
  CHECK(at(r2.updates, 1) == 0.0);
  CHECK(r2.state.notfinite_count.item() == 1.0);
  CHECK(r2.state.total_notfinite.item() == 1.0);
  CHECK(r2.state.last_finite.item() == 0.0);
  // the inner state did not move: the momentum buffer still holds the first gradient
  CHECK(at(std::get<0>(r2.state.inner_state)->trace, 1) == 1.0);
  auto r3 = t.update(Tensor(Array{std::numeric_limits<double>::infinity(), 0.0}), r2.state, p);
  CHECK(r3.state.notfinite_count.item() == 2.0);
  CHECK(at(r3.updates, 1) == 0.0);
  auto r4 = t.update(Tensor(Array{1.0, 1.0}), r3.state, p);
  CHECK(r4.state.notfinite_count.item() == 0.0);
  CHECK(r4.state.total_notfinite.item() == 2.0);
  CHECK(at(r4.updates, 1) == doctest::Approx(-0.1 * 1.9));
  // more than max_consecutive_errors in a row: the update goes through
  auto s = r4.state;
  for (int k = 0; k < 3; ++k) s = t.update(Tensor(Array{nan, 0.0}), s, p).state;
  CHECK(s.notfinite_count.item() == 3.0);
  CHECK(s.total_notfinite.item() == 5.0);
  CHECK(std::isnan(at(std::get<0>(s.inner_state)->trace, 0)));
}
