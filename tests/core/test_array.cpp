#include <doctest/doctest.h>

#include <xgrad/core/array.hpp>
#include <xgrad/core/error.hpp>

using namespace xgrad;

TEST_CASE("broadcast_shapes follows numpy") {
  CHECK(broadcast_shapes({3, 1}, {4}) == Shape{3, 4});
  CHECK(broadcast_shapes({}, {2, 3}) == Shape{2, 3});
  CHECK(broadcast_shapes({5, 1, 2}, {4, 1}) == Shape{5, 4, 2});
  CHECK(broadcast_shapes({0}, {1}) == Shape{0});
  CHECK(broadcast_shapes({2, 0}, {2, 1}) == Shape{2, 0});
}

TEST_CASE("broadcast_shapes error names the op and both shapes") {
  try {
    broadcast_shapes({2, 3}, {4}, "add");
    FAIL("no exception");
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    CHECK(msg.find("xgrad::add") != std::string::npos);
    CHECK(msg.find("(2,3)") != std::string::npos);
    CHECK(msg.find("(4)") != std::string::npos);
  }
  CHECK_THROWS_AS(broadcast_shapes({0}, {2}), ShapeError);
}

TEST_CASE("broadcast_reduce_axes and unbroadcast undo a broadcast") {
  CHECK(broadcast_reduce_axes({3, 1}, {2, 3, 4}) == std::vector<std::size_t>{0, 2});
  CHECK(broadcast_reduce_axes({2, 3}, {2, 3}).empty());
  Array g = xt::ones<double>({2, 3, 4});
  Array r = unbroadcast(g, {3, 1});
  CHECK(shape_of(r) == Shape{3, 1});
  CHECK(r(1, 0) == doctest::Approx(8.0));
  Array s = unbroadcast(g, {});
  CHECK(s.dimension() == 0);
  CHECK(s() == doctest::Approx(24.0));
  CHECK_THROWS_AS(unbroadcast(g, {5}), ShapeError);
}

TEST_CASE("shape helpers") {
  CHECK(shape_str({}) == "()");
  CHECK(shape_str({1, 10}) == "(1,10)");
  CHECK(shape_size({}) == 1);
  CHECK(shape_size({2, 0}) == 0);
  // Element counts never wrap around: an overflowing product, or more doubles than memory can index, is refused.
  const std::size_t two62 = std::size_t{1} << 62, two32 = std::size_t{1} << 32;
  CHECK_THROWS_WITH_AS(shape_size({two62 + 1, 4}, "reshape"), doctest::Contains("xgrad::reshape"), ShapeError);
  CHECK_THROWS_AS(shape_size({two32, two32}), ShapeError);
  CHECK_THROWS_AS(shape_size({two62}), ShapeError);  // 2^62 doubles are 2^65 bytes
  CHECK(shape_size({two32, two32, 0}) == 0);         // numpy accepts a zero extent beside huge ones
  CHECK(shape_size({std::size_t{1} << 20, std::size_t{1} << 20}) == std::size_t{1} << 40);
  CHECK_THROWS_WITH_AS(broadcast_shapes({two32, 1}, {1, two32}, "add"), doctest::Contains("xgrad::add"), ShapeError);
  CHECK(normalize_axis(-1, 3, "sum") == 2);
  CHECK_THROWS_AS(normalize_axis(3, 3, "sum"), ShapeError);
}
