#include <doctest/doctest.h>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

TEST_CASE("trace: heavy-ball and Nesterov momentum against t = decay t + g") {
  const std::vector<double> gs = {1.0, -0.5, 2.0, 0.25};
  for (bool nesterov : {false, true}) {
    auto t = opt::trace(0.9, nesterov);
    Tensor p(Array{0.0});
    auto state = t.init(p);
    CHECK(state.trace.item() == 0.0);
    double tr = 0.0;
    for (double g : gs) {
      auto [u, s] = t.update(Tensor(Array{g}), state, p);
      tr = 0.9 * tr + g;
      CHECK(u.item() == doctest::Approx(nesterov ? g + 0.9 * tr : tr));
      CHECK(s.trace.item() == doctest::Approx(tr));
      state = s;
    }
  }
}
