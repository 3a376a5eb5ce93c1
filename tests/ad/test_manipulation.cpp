#include "check.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::column;
using xgrad::testing::sample;

namespace {
// A (1, 1) array (Array{{v}} is ambiguous in xtensor).
Array one_by_one(double v) { return Array(xt::ones<double>({1, 1}) * v); }
// 0, 1, 2, ... in row-major order: the expected values of a rearrangement can be read off by hand.
Array iota(const Shape& s) {
  Array a = Array::from_shape(s);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<double>(i);
  return a;
}
// Elements idx of a 1-D array, Python's x[start:stop:step] computed by the definition in the language reference.
std::vector<double> py_slice(const std::vector<double>& x, std::ptrdiff_t start, std::ptrdiff_t stop,
                             std::ptrdiff_t step) {
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  auto fix = [&](std::ptrdiff_t i) {
    if (i < 0) i += n;
    if (i < 0) i = step < 0 ? -1 : 0;
    if (i >= n) i = step < 0 ? n - 1 : n;
    return i;
  };
  std::vector<double> out;
  for (std::ptrdiff_t i = fix(start), e = fix(stop); step > 0 ? i < e : i > e; i += step)
    out.push_back(x[static_cast<std::size_t>(i)]);
  return out;
}
}  // namespace

TEST_CASE("reshape: values kept in row-major order, -1 inferred, derivatives, errors") {
  const Array a = iota({2, 3});
  const Tensor t(a);
  const Tensor r = reshape(t, {3, 2});
  CHECK(r.shape() == Shape{3, 2});
  check_close(r.value(), Array{{0.0, 1.0}, {2.0, 3.0}, {4.0, 5.0}});
  CHECK(reshape(t, {-1}).shape() == Shape{6});
  CHECK(reshape(t, {1, -1, 2}).shape() == Shape{1, 3, 2});
  CHECK(reshape(t, {6, 1}).shape() == Shape{6, 1});
  CHECK(reshape(Tensor(Array{7.0}), {}).shape() == Shape{});
  CHECK(reshape(Tensor(7.0), {1, 1}).shape() == Shape{1, 1});
  check_close(reshape(t, {-1}).value(), Array{0.0, 1.0, 2.0, 3.0, 4.0, 5.0});
  CHECK(reshape(Tensor(Array::from_shape({0, 3})), {-1, 3}).shape() == Shape{0, 3});
  const Array b = sample({2, 3, 4});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return reshape(x, {4, -1}); }, Tensor(b));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return reshape(x, {}); }, Tensor(Array{2.0}));
  // Errors: wrong size, two -1, a negative extent.
  CHECK_THROWS_WITH_AS(reshape(t, {4, 2}), doctest::Contains("(2,3)"), ShapeError);
  CHECK_THROWS_AS(reshape(t, {4, -1}), ShapeError);
  CHECK_THROWS_AS(reshape(t, {-1, -1}), ShapeError);
  CHECK_THROWS_AS(reshape(t, {-2, -3}), ShapeError);
}

TEST_CASE("transpose: 2-D, a permutation of 3-D, inverse in the backward, bad permutations") {
  const Tensor m(Array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  check_close(transpose(m).value(), Array{{1.0, 4.0}, {2.0, 5.0}, {3.0, 6.0}});
  const Array a = iota({2, 3, 4});
  const Tensor p = transpose(Tensor(a), {2, 0, 1});
  REQUIRE(p.shape() == Shape{4, 2, 3});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) CHECK(p.value()(k, i, j) == a(i, j, k));
  // With no permutation given, all axes reverse.
  const Tensor r = transpose(Tensor(a));
  REQUIRE(r.shape() == Shape{4, 3, 2});
  CHECK(r.value()(3, 1, 0) == a(0, 1, 3));
  CHECK(transpose(Tensor(Array{1.0, 2.0})).shape() == Shape{2});
  CHECK(transpose(Tensor(3.0)).item() == 3.0);
  const Array b = sample({2, 3, 4});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return transpose(x); }, Tensor(sample({2, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return transpose(x, {1, 2, 0}); }, Tensor(b));
  // The backward must apply the inverse permutation (for a 3-cycle it differs from the permutation itself).
  const Array w = sample({3, 4, 2}, -1.0, 1.0, 9);
  const Tensor g = grad([&](const Tensor& x) { return sum(transpose(x, {1, 2, 0}) * Tensor(w)); })(Tensor(b));
  REQUIRE(g.shape() == Shape{2, 3, 4});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) CHECK(g.value()(i, j, k) == w(j, k, i));
  CHECK_THROWS_AS(transpose(Tensor(a), {0, 1}), ShapeError);
  CHECK_THROWS_AS(transpose(Tensor(a), {0, 1, 1}), ShapeError);
  CHECK_THROWS_AS(transpose(Tensor(a), {0, 1, 3}), ShapeError);
}

TEST_CASE("squeeze and expand_dims") {
  const Tensor t(iota({1, 3, 1}));
  CHECK(squeeze(t).shape() == Shape{3});
  CHECK(squeeze(t, 0).shape() == Shape{3, 1});
  CHECK(squeeze(t, -1).shape() == Shape{1, 3});
  check_close(squeeze(t).value(), Array{0.0, 1.0, 2.0});
  CHECK(squeeze(Tensor(one_by_one(5.0))).shape() == Shape{});
  CHECK_THROWS_AS(squeeze(t, 1), ShapeError);
  CHECK_THROWS_AS(squeeze(t, 3), ShapeError);
  const Tensor v(Array{1.0, 2.0, 3.0});
  CHECK(expand_dims(v, 0).shape() == Shape{1, 3});
  CHECK(expand_dims(v, 1).shape() == Shape{3, 1});
  CHECK(expand_dims(v, -1).shape() == Shape{3, 1});
  CHECK(expand_dims(v, -2).shape() == Shape{1, 3});
  CHECK(expand_dims(Tensor(2.0), 0).shape() == Shape{1});
  CHECK_THROWS_AS(expand_dims(v, 2), ShapeError);
  CHECK_THROWS_AS(expand_dims(v, -3), ShapeError);
  XGRAD_CHECK_GRADS([](const Tensor& x) { return squeeze(x); }, Tensor(sample({1, 3, 1})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return expand_dims(x, 1); }, Tensor(sample({2, 3})));
}

TEST_CASE("broadcast_to and sum_to are adjoint; values and derivatives") {
  const Tensor col(column({1.0, 2.0}));
  const Tensor b = broadcast_to(col, {3, 2, 4});
  REQUIRE(b.shape() == Shape{3, 2, 4});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t k = 0; k < 4; ++k) {
      CHECK(b.value()(i, 0, k) == 1.0);
      CHECK(b.value()(i, 1, k) == 2.0);
    }
  check_close(broadcast_to(Tensor(2.0), {2}).value(), Array{2.0, 2.0});
  CHECK_THROWS_AS(broadcast_to(Tensor(Array{1.0, 2.0}), {3}), ShapeError);
  CHECK_THROWS_AS(broadcast_to(Tensor(Array{1.0, 2.0}), {2, 1}), ShapeError);  // would give (2,2)
  // sum_to by loops.
  const Array a = iota({3, 2, 4});
  Array want = xt::zeros<double>({2, 1});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < 4; ++k) want(j, 0) += a(i, j, k);
  check_close(sum_to(Tensor(a), {2, 1}).value(), want);
  CHECK(sum_to(Tensor(a), {}).item() == 276.0);  // 0 + 1 + ... + 23
  CHECK_THROWS_AS(sum_to(Tensor(a), {3}), ShapeError);
  // <broadcast_to(x), y> == <x, sum_to(y)>
  const Array x = sample({2, 1}), y = sample({3, 2, 4}, -1.0, 1.0, 3);
  const double lhs = xt::sum(broadcast_to(Tensor(x), {3, 2, 4}).value() * y)();
  const double rhs = xt::sum(x * sum_to(Tensor(y), {2, 1}).value())();
  CHECK(lhs == doctest::Approx(rhs));
  XGRAD_CHECK_GRADS([](const Tensor& t) { return broadcast_to(t, {3, 2, 4}); }, Tensor(x));
  XGRAD_CHECK_GRADS([](const Tensor& t) { return broadcast_to(t, {2, 3}); }, Tensor(1.5));
  XGRAD_CHECK_GRADS([](const Tensor& t) { return sum_to(t, {2, 1}); }, Tensor(sample({3, 2, 4})));
  XGRAD_CHECK_GRADS([](const Tensor& t) { return sum_to(t, {4}); }, Tensor(sample({2, 4})));
}

TEST_CASE("concatenate along axis 0, 1, -1; shape mismatch names both shapes") {
  const Tensor a(Array{{1.0, 2.0}, {3.0, 4.0}}), b(Array{{5.0, 6.0}}), c(column({7.0, 8.0}));
  check_close(concatenate({a, b}).value(), Array{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}});
  check_close(concatenate({a, c}, 1).value(), Array{{1.0, 2.0, 7.0}, {3.0, 4.0, 8.0}});
  check_close(concatenate({c, a, c}, -1).value(), Array{{7.0, 1.0, 2.0, 7.0}, {8.0, 3.0, 4.0, 8.0}});
  check_close(concatenate({Tensor(Array{1.0}), Tensor(Array{2.0, 3.0})}).value(), Array{1.0, 2.0, 3.0});
  check_close(concatenate({a}).value(), a.value());
  // The middle axis of 3-D operands, by loops.
  const Array p = iota({2, 1, 3}), q = sample({2, 2, 3});
  const Tensor r = concatenate({Tensor(p), Tensor(q)}, 1);
  REQUIRE(r.shape() == Shape{2, 3, 3});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t k = 0; k < 3; ++k) {
      CHECK(r.value()(i, 0, k) == p(i, 0, k));
      CHECK(r.value()(i, 1, k) == q(i, 0, k));
      CHECK(r.value()(i, 2, k) == q(i, 1, k));
    }
  CHECK_THROWS_WITH_AS(concatenate({a, b}, 1), doctest::Contains("(2,2) and (1,2)"), ShapeError);
  CHECK_THROWS_AS(concatenate({a, Tensor(Array{1.0, 2.0})}), ShapeError);
  CHECK_THROWS_AS(concatenate({Tensor(1.0), Tensor(2.0)}), ShapeError);
  CHECK_THROWS_AS(concatenate({}), ValueError);
  CHECK_THROWS_AS(concatenate({a, a}, 2), ShapeError);
  auto f = [](const Tensor& x, const Tensor& y, const Tensor& z) { return concatenate({x, y, z, x}, -1); };
  XGRAD_CHECK_GRADS(
      f, std::make_tuple(Tensor(sample({2, 2})), Tensor(sample({2, 1}, -1, 1, 3)), Tensor(sample({2, 3}, -1, 1, 4))));
  XGRAD_CHECK_GRADS(
      [](const Tensor& x, const Tensor& y) {
        return concatenate({x, y}, 0);
      },
      std::make_tuple(Tensor(sample({1, 3})), Tensor(sample({2, 3}, -1, 1, 5))));
  // The same tensor twice gets both cotangents.
  const Tensor g = grad([](const Tensor& x) {
    return sum(concatenate({x, x}) * Tensor(Array{1.0, 2.0, 3.0, 4.0}));
  })(Tensor(Array{0.0, 0.0}));
  check_close(g.value(), Array{4.0, 6.0});
}

TEST_CASE("stack along a new axis") {
  const Tensor a(Array{1.0, 2.0, 3.0}), b(Array{4.0, 5.0, 6.0});
  check_close(stack({a, b}).value(), Array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  check_close(stack({a, b}, 1).value(), Array{{1.0, 4.0}, {2.0, 5.0}, {3.0, 6.0}});
  check_close(stack({a, b}, -1).value(), Array{{1.0, 4.0}, {2.0, 5.0}, {3.0, 6.0}});
  check_close(stack({Tensor(1.0), Tensor(2.0)}).value(), Array{1.0, 2.0});
  CHECK(stack({Tensor(sample({2, 3})), Tensor(sample({2, 3}))}, 1).shape() == Shape{2, 2, 3});
  CHECK_THROWS_AS(stack({a, Tensor(Array{1.0, 2.0})}), ShapeError);
  CHECK_THROWS_AS(stack({a, b}, 2), ShapeError);
  XGRAD_CHECK_GRADS(
      [](const Tensor& x, const Tensor& y) {
        return stack({x, y, x}, 1);
      },
      std::make_tuple(Tensor(sample({2, 2})), Tensor(sample({2, 2}, -1, 1, 3))));
}

TEST_CASE("slice follows Python: negative indices, steps, negative steps, clamped bounds") {
  const std::vector<double> xs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const Tensor x(Array{0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0});
  struct S {
    std::ptrdiff_t start, stop, step;
  };
  const std::vector<S> cases{{2, 5, 1},    {-3, 10, 1},  {-3, -1, 1},    {0, 10, 3},      {1, 9, 4}, {8, 2, -1},
                             {9, -11, -2}, {-1, -4, -1}, {-100, 100, 1}, {100, -100, -3}, {5, 2, 1}, {2, 5, -1},
                             {3, 3, 1},    {-20, 2, 1},  {4, 100, 2},    {100, 200, 1}};
  for (const auto& c : cases) {
    CAPTURE(c.start);
    CAPTURE(c.stop);
    CAPTURE(c.step);
    const auto want = py_slice(xs, c.start, c.stop, c.step);
    const Tensor y = slice(x, 0, c.start, c.stop, c.step);
    REQUIRE(y.shape() == Shape{want.size()});
    for (std::size_t i = 0; i < want.size(); ++i) CHECK(y.value()(i) == want[i]);
  }
  // Spot checks written out by hand.
  check_close(slice(x, 0, -1, -11, -3).value(), Array{9.0, 6.0, 3.0, 0.0});
  check_close(slice(x, 0, 7, 100, 1).value(), Array{7.0, 8.0, 9.0});
  // Along another axis of a 2-D tensor.
  const Tensor m(iota({3, 4}));
  check_close(slice(m, 1, 3, 0, -2).value(), Array{{3.0, 1.0}, {7.0, 5.0}, {11.0, 9.0}});
  check_close(slice(m, -2, 1, 3).value(), Array{{4.0, 5.0, 6.0, 7.0}, {8.0, 9.0, 10.0, 11.0}});
  CHECK_THROWS_AS(slice(m, 0, 0, 2, 0), ValueError);
  CHECK_THROWS_AS(slice(m, 2, 0, 2), ShapeError);
  CHECK_THROWS_AS(slice(Tensor(1.0), 0, 0, 1), ShapeError);
  // Gradient: the cotangent lands on the sliced elements, 0 elsewhere.
  const Tensor g = grad([](const Tensor& t) {
    return sum(slice(t, 0, 4, 0, -2) * Tensor(Array{1.0, 2.0}));
  })(Tensor(sample({5})));
  check_close(g.value(), Array{0.0, 0.0, 2.0, 0.0, 1.0});
  XGRAD_CHECK_GRADS([](const Tensor& t) { return slice(t, 1, -1, -5, -2); }, Tensor(sample({2, 4})));
  XGRAD_CHECK_GRADS([](const Tensor& t) { return slice(t, 0, 0, 3, 2) * slice(t, 0, 1, 3); }, Tensor(sample({3, 2})));
}

TEST_CASE("take: flat, along an axis, repeated indices (scatter-add backward), out-of-range error") {
  const Tensor m(iota({3, 4}));
  const Tensor t(Array{10.0, 11.0, 12.0});
  // Flat: numpy's default for take, on the row-major flattening.
  check_close(take(t, {0, 2}).value(), Array{10.0, 12.0});
  check_close(take(m, {0, 5, 11, -1}).value(), Array{0.0, 5.0, 11.0, 11.0});
  check_close(take(Tensor(4.0), {0, 0}).value(), Array{4.0, 4.0});
  // Along an axis.
  check_close(take(m, {2, 0}, 0).value(), Array{{8.0, 9.0, 10.0, 11.0}, {0.0, 1.0, 2.0, 3.0}});
  check_close(take(m, {3, -4, 3}, 1).value(), Array{{3.0, 0.0, 3.0}, {7.0, 4.0, 7.0}, {11.0, 8.0, 11.0}});
  check_close(take(m, {1}, -1).value(), column({1.0, 5.0, 9.0}));
  CHECK(take(m, {}, 0).shape() == Shape{0, 4});
  // Repeated indices: the backward adds the cotangents of every copy.
  const Tensor g = grad([](const Tensor& x) {
    return sum(take(x, {0, 2, 0, 0}) * Tensor(Array{1.0, 2.0, 3.0, 4.0}));
  })(t);
  check_close(g.value(), Array{8.0, 0.0, 2.0});
  const Tensor ga = grad([](const Tensor& x) { return sum(take(x, {1, 1, 0}, 1)); })(Tensor(sample({2, 3})));
  check_close(ga.value(), Array{{1.0, 2.0, 0.0}, {1.0, 2.0, 0.0}});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return take(x, {0, 2}); }, Tensor(sample({3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return take(x, {3, 0, 3, -1}); }, Tensor(sample({2, 2})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return take(x, {2, 0, 2}, 1); }, Tensor(sample({2, 3})));
  // Second order through a repeated take: d^2/dx^2 sum(take(x, {0, 0})^3) = 6 x0 * 2 at x0.
  const Array h = hessian([](const Tensor& x) { return sum(pow(take(x, {0, 0}), 3.0)); })(Tensor(Array{2.0, 1.0}));
  check_close(h, Array{{24.0, 0.0}, {0.0, 0.0}});
  CHECK_THROWS_WITH_AS(take(t, {3}), doctest::Contains("index 3"), ValueError);
  CHECK_THROWS_AS(take(t, {-4}), ValueError);
  CHECK_THROWS_AS(take(m, {4}, 1), ValueError);
  CHECK_THROWS_AS(take(m, {0}, 2), ShapeError);
}

TEST_CASE("flip and roll: numpy's values, along an axis and over all, derivatives, errors") {
  const Tensor m(iota({2, 3}));
  CHECK(flip(m, 1).value() == Array{{2.0, 1.0, 0.0}, {5.0, 4.0, 3.0}});
  CHECK(flip(m, 0).value() == Array{{3.0, 4.0, 5.0}, {0.0, 1.0, 2.0}});
  CHECK(flip(m).value() == Array{{5.0, 4.0, 3.0}, {2.0, 1.0, 0.0}});
  CHECK(roll(m, 1, 1).value() == Array{{2.0, 0.0, 1.0}, {5.0, 3.0, 4.0}});
  CHECK(roll(m, -4, 1).value() == Array{{1.0, 2.0, 0.0}, {4.0, 5.0, 3.0}});  // -4 = -1 (mod 3)
  CHECK(roll(m, 2).value() == Array{{4.0, 5.0, 0.0}, {1.0, 2.0, 3.0}});      // flattened, shape kept
  CHECK(roll(m, 3, 1).value() == m.value());
  XGRAD_CHECK_GRADS([](const Tensor& x) { return flip(x, -1) * x; }, Tensor(sample({2, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return flip(x) * x; }, Tensor(sample({2, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return roll(x, 2, 0) * x; }, Tensor(sample({3, 2})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return roll(x, -1) * x; }, Tensor(sample({2, 3})));
  CHECK(flip(Tensor(3.0)).value()() == 3.0);
  CHECK_THROWS_AS(flip(m, 2), ShapeError);
  CHECK_THROWS_AS(roll(Tensor(1.0), 1, 0), ShapeError);
}

TEST_CASE("pad, tile and repeat: numpy's values, derivatives, errors") {
  const Tensor m(iota({2, 2}));
  CHECK(pad(m, {{1, 0}, {0, 2}}, -1.0).value() ==
        Array{{-1.0, -1.0, -1.0, -1.0}, {0.0, 1.0, -1.0, -1.0}, {2.0, 3.0, -1.0, -1.0}});
  CHECK(pad(Tensor(Array{1.0, 2.0}), {{2, 1}}).value() == Array{0.0, 0.0, 1.0, 2.0, 0.0});
  CHECK(pad(m, {{1, 1}}).shape() == Shape{4, 4});  // one pair for every axis
  CHECK(tile(Tensor(Array{1.0, 2.0}), {3}).value() == Array{1.0, 2.0, 1.0, 2.0, 1.0, 2.0});
  CHECK(tile(Tensor(Array{1.0, 2.0}), {2, 2}).value() == Array{{1.0, 2.0, 1.0, 2.0}, {1.0, 2.0, 1.0, 2.0}});
  CHECK(tile(m, {2}).value() == Array{{0.0, 1.0, 0.0, 1.0}, {2.0, 3.0, 2.0, 3.0}});  // reps count for the last axes
  CHECK(repeat(m, 2).value() == Array{0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0});
  CHECK(repeat(m, 2, 0).value() == Array{{0.0, 1.0}, {0.0, 1.0}, {2.0, 3.0}, {2.0, 3.0}});
  CHECK(repeat(m, 0, 1).shape() == Shape{2, 0});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(pad(x, {{1, 2}, {2, 0}}, 3.0)); }, Tensor(sample({2, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return tile(x, {2, 1, 3}) * tile(x, {2, 1, 3}); }, Tensor(sample({2, 2})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(repeat(x, 3, -1)); }, Tensor(sample({2, 2})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(repeat(x, 2)); }, Tensor(sample({3})));
  // The padding constant has no derivative; each copy of a tiled element adds its cotangent.
  const Tensor g = grad([](const Tensor& x) { return sum(tile(x, {3})) + sum(pad(x, {{1, 1}}, 5.0)); })(
      Tensor(Array{1.0, 2.0}));
  check_close(g.value(), Array{4.0, 4.0});
  CHECK_THROWS_WITH_AS(pad(m, {{1, 1}, {1, 1}, {1, 1}}), doctest::Contains("(2,2)"), ShapeError);
  CHECK_THROWS_AS(repeat(Tensor(1.0), 2, 0), ShapeError);
}

TEST_CASE("diagonal, trace, diag, triu and tril: numpy's values, derivatives, errors") {
  const Tensor m(iota({3, 4}));
  CHECK(diagonal(m).value() == Array{0.0, 5.0, 10.0});
  CHECK(diagonal(m, 1).value() == Array{1.0, 6.0, 11.0});
  CHECK(diagonal(m, -1).value() == Array{4.0, 9.0});
  CHECK(diagonal(m, 5).shape() == Shape{0});
  const Tensor c(iota({2, 2, 3}));
  CHECK(diagonal(c, 0, 1, 2).value() == Array{{0.0, 4.0}, {6.0, 10.0}});  // the planes of the last two axes
  CHECK(diagonal(c, 0, 0, 2).value() == Array{{0.0, 7.0}, {3.0, 10.0}});  // numpy: axis 1 leads, the diagonal last
  CHECK(trace(m).value()() == 15.0);
  CHECK(trace(m, -1).value()() == 13.0);
  CHECK(trace(c, 0, 1, 2).value() == Array{4.0, 16.0});
  CHECK(diag(Tensor(Array{1.0, 2.0})).value() == Array{{1.0, 0.0}, {0.0, 2.0}});
  CHECK(diag(Tensor(Array{1.0, 2.0}), 1).value() == Array{{0.0, 1.0, 0.0}, {0.0, 0.0, 2.0}, {0.0, 0.0, 0.0}});
  CHECK(diag(Tensor(Array{1.0, 2.0}), -1).value() == Array{{0.0, 0.0, 0.0}, {1.0, 0.0, 0.0}, {0.0, 2.0, 0.0}});
  CHECK(diag(m, 2).value() == Array{2.0, 7.0});
  CHECK(triu(m).value() == Array{{0.0, 1.0, 2.0, 3.0}, {0.0, 5.0, 6.0, 7.0}, {0.0, 0.0, 10.0, 11.0}});
  CHECK(tril(m, -1).value() == Array{{0.0, 0.0, 0.0, 0.0}, {4.0, 0.0, 0.0, 0.0}, {8.0, 9.0, 0.0, 0.0}});
  CHECK(triu(m, 2).value() == Array{{0.0, 0.0, 2.0, 3.0}, {0.0, 0.0, 0.0, 7.0}, {0.0, 0.0, 0.0, 0.0}});
  CHECK(tril(c).value()(1, 0, 1) == 0.0);
  CHECK(tril(c).value()(1, 1, 0) == 9.0);
  // triu zeroes, it does not multiply: an infinity below the diagonal does not become NaN.
  CHECK(triu(Tensor(Array{{1.0, 2.0}, {INFINITY, 3.0}})).value()(1, 0) == 0.0);
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(diagonal(x, 1)); }, Tensor(sample({3, 4})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(diagonal(x, -1, 2, 0)); }, Tensor(sample({3, 2, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(trace(x)); }, Tensor(sample({3, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(diag(x, -2)); }, Tensor(sample({3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(triu(x, 1)); }, Tensor(sample({2, 3, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(tril(x)); }, Tensor(sample({3, 2})));
  CHECK_THROWS_AS(diagonal(Tensor(Array{1.0, 2.0})), ShapeError);
  CHECK_THROWS_AS(diagonal(m, 0, 1, -1), ValueError);
  CHECK_THROWS_AS(diag(c), ShapeError);
  CHECK_THROWS_AS(triu(Tensor(Array{1.0})), ShapeError);
}

TEST_CASE("take_along_axis, scatter_add and one_hot: numpy's and JAX's values, derivatives, errors") {
  const Tensor m(iota({2, 3}));
  CHECK(take_along_axis(m, Array{{2.0, 0.0}, {1.0, 1.0}}, 1).value() == Array{{2.0, 0.0}, {4.0, 4.0}});
  CHECK(take_along_axis(m, Array{{1.0, 0.0, -1.0}}, 0).value() == Array{{3.0, 1.0, 5.0}});
  // take_along_axis with argsort sorts, as in numpy.
  const Tensor u(Array{{3.0, 1.0, 2.0}});
  CHECK(take_along_axis(u, argsort(u), 1).value() == Array{{1.0, 2.0, 3.0}});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(take_along_axis(x, Array{{2.0, 2.0}, {0.0, 1.0}}, 1)); },
                    Tensor(sample({2, 3})));
  CHECK_THROWS_WITH_AS(take_along_axis(m, column({3.0, 0.0}), 1), doctest::Contains("index 3"), ValueError);
  CHECK_THROWS_AS(take_along_axis(m, column({0.5, 0.0}), 1), ValueError);
  CHECK_THROWS_WITH_AS(take_along_axis(m, one_by_one(0.0), 1), doctest::Contains("(1,1)"), ShapeError);

  // scatter_add: repeated indices add up (numpy.add.at), along axis 0 and 1.
  const Tensor z(Array(xt::zeros<double>({3, 2})));
  CHECK(scatter_add(z, {0, 2, 0}, Tensor(Array{{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}})).value() ==
        Array{{6.0, 8.0}, {0.0, 0.0}, {3.0, 4.0}});
  CHECK(scatter_add(m, {-1}, Tensor(column({10.0, 20.0})), 1).value() == Array{{0.0, 1.0, 12.0}, {3.0, 4.0, 25.0}});
  // d/d updates is a gather of the cotangent; d/dx is the identity.
  const Tensor w(Array{1.0, 2.0, 3.0}), x0(Array{0.0, 0.0, 0.0}), u0(Array{5.0, 7.0});
  const Tensor gx = grad([&](const Tensor& x) { return sum(scatter_add(x, {1, 1}, u0) * w); })(x0);
  const Tensor gu = grad([&](const Tensor& up) { return sum(scatter_add(x0, {1, 1}, up) * w); })(u0);
  check_close(gx.value(), Array{1.0, 2.0, 3.0});
  check_close(gu.value(), Array{2.0, 2.0});
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(scatter_add(x, {0, 0, 1}, x * 2.0, 0)); },
                    Tensor(sample({3, 2})));
  CHECK_THROWS_WITH_AS(scatter_add(z, {0}, Tensor(Array{1.0, 2.0})), doctest::Contains("(1,2)"), ShapeError);
  CHECK_THROWS_AS(scatter_add(z, {3}, Tensor(Array{{1.0, 2.0}})), ValueError);

  // one_hot: labels of any shape; out-of-range labels give zero rows, as jax.nn.one_hot.
  CHECK(one_hot(Array{2.0, 0.0, -1.0}, 3).value() == Array{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}, {0.0, 0.0, 0.0}});
  CHECK(one_hot(Array{{1.0, 1.0}}, 2).shape() == Shape{1, 2, 2});
  CHECK_THROWS_AS(one_hot(Array{0.5}, 3), ValueError);
  CHECK_THROWS_AS(one_hot(Array{std::nan("")}, 3), ValueError);
}
