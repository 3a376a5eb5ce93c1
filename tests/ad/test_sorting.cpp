#include <cmath>

#include "check.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::sample;

TEST_CASE("argsort and sort: ascending along an axis, stable on ties, NaN last") {
  const Array a{{3.0, 1.0, 2.0, 1.0}, {-1.0, std::nan(""), -5.0, 0.0}};
  CHECK(argsort(Tensor(a)) == Array{{1.0, 3.0, 2.0, 0.0}, {2.0, 0.0, 3.0, 1.0}});
  CHECK(argsort(Tensor(a), 0) == Array{{1.0, 0.0, 1.0, 1.0}, {0.0, 1.0, 0.0, 0.0}});  // NaN after 1.0
  const Array s = sort(Tensor(a)).value();
  CHECK(s(0, 0) == 1.0);
  CHECK(s(0, 3) == 3.0);
  CHECK(s(1, 0) == -5.0);
  CHECK(std::isnan(s(1, 3)));
  check_close(sort(Tensor(Array{{4.0, 2.0}, {1.0, 3.0}}), 0).value(), Array{{1.0, 2.0}, {4.0, 3.0}});
  // The derivative is the permutation: d sort(x)[j] / d x[argsort(x)[j]] = 1.
  const Tensor g = grad([](const Tensor& x) { return sum(sort(x) * Tensor(Array{1.0, 10.0, 100.0})); })(
      Tensor(Array{0.3, -2.0, 7.0}));
  check_close(g.value(), Array{10.0, 1.0, 100.0});
  const Array r = sample({3, 4}, -1, 1, 9);
  for (std::ptrdiff_t axis : {0, 1, -1}) {
    CAPTURE(axis);
    XGRAD_CHECK_GRADS([axis](const Tensor& x) { return square(sort(x, axis)) * Tensor(sample({3, 4}, 0, 1, 3)); },
                      Tensor(r));
  }
  CHECK(sort(Tensor(Array::from_shape({2, 0}))).shape() == Shape{2, 0});
  CHECK_THROWS_AS(sort(Tensor(1.0)), ShapeError);
  CHECK_THROWS_AS(argsort(Tensor(a), 2), ShapeError);
}

TEST_CASE("top_k: the k largest along the last axis, largest first, lower index first on ties") {
  const Array a{{1.0, 5.0, 3.0, 5.0}, {0.0, -1.0, 2.0, 8.0}};
  auto [values, indices] = top_k(Tensor(a), 3);
  CHECK(values.value() == Array{{5.0, 5.0, 3.0}, {8.0, 2.0, 0.0}});
  CHECK(indices == Array{{1.0, 3.0, 2.0}, {3.0, 2.0, 0.0}});
  CHECK(top_k(Tensor(a), 0).values.shape() == Shape{2, 0});
  const Tensor g = grad([](const Tensor& x) { return sum(top_k(x, 2).values); })(Tensor(Array{0.1, 0.9, 0.5}));
  check_close(g.value(), Array{0.0, 1.0, 1.0});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return top_k(x * x, 2).values; }, Tensor(sample({3, 4}, -1, 1, 11)));
  CHECK_THROWS_WITH_AS(top_k(Tensor(a), 5), doctest::Contains("k = 5"), ValueError);
  CHECK_THROWS_AS(top_k(Tensor(2.0), 1), ShapeError);
}
