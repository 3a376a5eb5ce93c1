#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "optim/common.hpp"

using namespace xgrad;
namespace opt = xgrad::optim;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();

// A projection P onto a convex set C is characterised by P(x) in C and <x - P(x), z - P(x)> <= 0 for every z in C.
void check_variational(const opt::Projection& P, const Array& x, const std::vector<Array>& points_of_c) {
  const Array p = P(x);
  for (const Array& z : points_of_c) CHECK(flat::dot(x - p, z - p) <= 1e-12);
}
}  // namespace

TEST_CASE("projection: box, non-negative orthant, per-coordinate bounds with infinities and l = u") {
  const Array x{-2.0, 0.5, 3.0, -0.1};
  CHECK(opt::projection_non_negative()(x) == Array{0.0, 0.5, 3.0, 0.0});
  CHECK(opt::projection_box(-1.0, 1.0)(x) == Array{-1.0, 0.5, 1.0, -0.1});
  const auto box = opt::projection_box(Array{-inf, 1.0, 0.0, -0.1}, Array{-1.5, inf, 2.0, -0.1});
  CHECK(box(x) == Array{-2.0, 1.0, 2.0, -0.1});
  CHECK_THROWS_AS(opt::projection_box(1.0, 0.0), ValueError);
  CHECK_THROWS_AS(opt::projection_box(Array{0.0, 2.0}, Array{1.0, 1.0}), ValueError);  // l > u at coordinate 1
  CHECK_THROWS_AS(opt::projection_box(Array{0.0}, Array{1.0, 1.0}), ShapeError);
  CHECK_THROWS_AS(box(Array{1.0, 2.0}), ShapeError);
  check_variational(opt::projection_box(-1.0, 1.0), x, {Array{1.0, 1.0, 1.0, 1.0}, Array{-1.0, 0.0, 0.3, -1.0}});
}

TEST_CASE("projection: simplex and l1 ball against their definitions") {
  const Array x{0.9, -0.3, 0.6, 0.2};
  const Array p = opt::projection_simplex()(x);
  CHECK(xt::sum(p)() == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(xt::amin(p)() >= 0.0);
  // Known answer: theta = 0.25 gives (0.65, 0, 0.35, 0): sum 1.
  CHECK(xt::allclose(p, Array{0.65, 0.0, 0.35, 0.0}, 1e-15, 1e-15));
  check_variational(opt::projection_simplex(), x, {Array{1.0, 0.0, 0.0, 0.0}, Array{0.25, 0.25, 0.25, 0.25},
                                                   Array{0.0, 0.0, 0.0, 1.0}});
  const Array q = opt::projection_simplex(2.0)(x);
  CHECK(xt::sum(q)() == doctest::Approx(2.0).epsilon(1e-15));
  // l1 ball: inside unchanged, outside onto the surface with the signs kept.
  CHECK(opt::projection_l1_ball(3.0)(x) == x);
  const Array r = opt::projection_l1_ball(1.0)(Array{0.9, -0.3, 0.6, 0.2});
  CHECK(xt::sum(xt::abs(r))() == doctest::Approx(1.0).epsilon(1e-15));
  const double theta = 0.8 / 3.0;  // |x| sorted: 0.9, 0.6, 0.3 stay above the threshold (1.8 - 1) / 3
  CHECK(xt::allclose(r, Array{0.9 - theta, -(0.3 - theta), 0.6 - theta, 0.0}, 1e-14, 1e-14));
  const Array s = opt::projection_l1_ball(1.0)(Array{-0.9, 0.3, -0.6, 0.2});
  CHECK(xt::allclose(s, Array{-(0.9 - theta), 0.3 - theta, -(0.6 - theta), 0.0}, 1e-14, 1e-14));
  check_variational(opt::projection_l1_ball(1.0), Array{-0.9, 0.3, -0.6, 0.2},
                    {Array{0.0, 1.0, 0.0, 0.0}, Array{-0.5, 0.0, 0.0, -0.5}, Array{0.0, 0.0, 0.0, 0.0}});
  CHECK(opt::projection_l1_ball(0.0)(x) == Array{0.0, 0.0, 0.0, 0.0});
  CHECK_THROWS_AS(opt::projection_simplex(0.0), ValueError);
  CHECK_THROWS_AS(opt::projection_l1_ball(-1.0), ValueError);
}

TEST_CASE("projection: l2 ball and hyperplane") {
  const Array x{3.0, 4.0};
  CHECK(xt::allclose(opt::projection_l2_ball(1.0)(x), Array{0.6, 0.8}, 1e-15, 1e-15));
  CHECK(opt::projection_l2_ball(10.0)(x) == x);
  const auto h = opt::projection_hyperplane(Array{1.0, 1.0}, 1.0);
  const Array p = h(x);
  CHECK(p(0) + p(1) == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(p(0) - p(1) == doctest::Approx(x(0) - x(1)).epsilon(1e-15));  // moved along the normal only
  CHECK_THROWS_AS(opt::projection_hyperplane(Array{0.0, 0.0}, 1.0), ValueError);
  CHECK_THROWS_AS(opt::projection_l2_ball(-0.5), ValueError);
  CHECK_THROWS_AS(h(Array{1.0, 2.0, 3.0}), ShapeError);
}
