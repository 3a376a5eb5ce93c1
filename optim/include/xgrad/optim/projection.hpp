#pragma once
// Euclidean projections onto convex sets, as jaxopt.projection: each returns a Projection, a function from a point x
// to argmin_{z in C} ||z - x||_2 on the flat view of the parameters (core/flat.hpp: all leaves in tree order), for
// ProximalGradient through make_prox_from_projection (projected gradient).
//
//   auto box = optim::projection_box(0.0, 1.0);                               // every coordinate in [0, 1]
//   auto bounds = optim::projection_box(flat::values(lower), flat::values(upper));   // bounds as pytrees
//   ProximalGradient{.prox = optim::make_prox_from_projection(optim::projection_simplex())}
//
// Bad parameters (l > u, a negative radius, a zero normal) throw ValueError when the projection is made; a point of
// another size than the bounds' throws ShapeError when it is projected.
#include <functional>

#include "xgrad/core/array.hpp"

namespace xgrad::optim {

/// A Euclidean projection on the flat view: x (1-D) -> the nearest point of the set.
using Projection = std::function<Array(const Array& x)>;

/// The non-negative orthant: max(x, 0).
Projection projection_non_negative();
/// The box lower <= x <= upper, the same bounds for every coordinate; either may be infinite. ValueError if
/// lower > upper (lower = upper is allowed: the coordinate is fixed).
Projection projection_box(double lower, double upper);
/// The box with bounds per coordinate (flat Arrays of the parameters' size, e.g. flat::values of pytrees like the
/// parameters); infinite entries leave that side open. ValueError if some lower > upper or a bound is NaN.
Projection projection_box(Array lower, Array upper);
/// The simplex {x >= 0, sum x = s} (s > 0), by sorting (Held, Wolfe and Crowder 1974; Duchi et al. 2008).
Projection projection_simplex(double s = 1.0);
/// The l1 ball {||x||_1 <= radius} (radius >= 0): x itself inside, else the simplex projection of |x| with x's signs.
Projection projection_l1_ball(double radius = 1.0);
/// The l2 ball {||x||_2 <= radius} (radius >= 0): x scaled down to the sphere when outside.
Projection projection_l2_ball(double radius = 1.0);
/// The affine hyperplane {<a, x> = b} (a a flat Array, nonzero): x - (<a, x> - b) / ||a||^2 a.
Projection projection_hyperplane(Array a, double b);

}  // namespace xgrad::optim
