#include <doctest/doctest.h>

#include <xgrad/core/array.hpp>
#include <xgrad/core/error.hpp>

using namespace xgrad;

TEST_CASE("the error hierarchy: every xgrad error is an xgrad::Error and a std::runtime_error") {
  CHECK_THROWS_AS(throw ShapeError("s"), Error);
  CHECK_THROWS_AS(throw ValueError("v"), Error);
  CHECK_THROWS_AS(throw MisuseError("m"), Error);
  CHECK_THROWS_AS(throw Error("e"), std::runtime_error);
  try {
    broadcast_shapes({2}, {3}, "multiply");
  } catch (const Error& e) {  // caught through the base
    CHECK(std::string(e.what()) == "xgrad::multiply: shapes (2) and (3) do not broadcast (axis 0: 2 vs 3)");
  }
}
