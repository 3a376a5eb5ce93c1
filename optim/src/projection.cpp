#include "xgrad/optim/projection.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"

namespace xgrad::optim {

namespace {
void check_radius(double r, const char* name) {
  if (!(r >= 0.0) || std::isinf(r))
    throw ValueError(std::string("xgrad::optim::") + name + ": the radius must be finite and >= 0, got " +
                     std::to_string(r));
}
void check_size(const Array& x, std::size_t n, const char* name) {
  if (x.dimension() != 1 || x.size() != n)
    throw ShapeError(std::string("xgrad::optim::") + name + ": a point of shape " + shape_str(shape_of(x)) +
                     " for a set in " + std::to_string(n) + " coordinates");
}
// The projection of v (1-D) onto {z >= 0, sum z = s}: z = max(v - theta, 0), theta from the sorted values.
Array simplex(const Array& v, double s) {
  std::vector<double> u(v.begin(), v.end());
  std::sort(u.begin(), u.end(), std::greater<>());
  double cumulative = 0.0, theta = 0.0;
  for (std::size_t j = 0; j < u.size(); ++j) {
    cumulative += u[j];
    const double t = (cumulative - s) / double(j + 1);
    if (u[j] - t > 0.0) theta = t;  // the last j with u_j > (sum_{i<=j} u_i - s) / (j + 1)
  }
  Array z = Array::from_shape({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) z(i) = std::max(v(i) - theta, 0.0);
  return z;
}
}  // namespace

Projection projection_non_negative() {
  return [](const Array& x) {
    Array z = x;
    for (double& v : z) v = std::max(v, 0.0);  // NaN stays NaN (the solver reports it)
    return z;
  };
}

Projection projection_box(double lower, double upper) {
  if (std::isnan(lower) || std::isnan(upper) || lower > upper)
    throw ValueError("xgrad::optim::projection_box: the bounds must satisfy lower <= upper, got " +
                     std::to_string(lower) + " > " + std::to_string(upper));
  return [lower, upper](const Array& x) {
    Array z = x;
    for (double& v : z) v = v < lower ? lower : v > upper ? upper : v;
    return z;
  };
}

Projection projection_box(Array lower, Array upper) {
  if (lower.dimension() != 1 || upper.dimension() != 1 || lower.size() != upper.size())
    throw ShapeError("xgrad::optim::projection_box: the bounds must be flat and of one size, got " +
                     shape_str(shape_of(lower)) + " and " + shape_str(shape_of(upper)));
  for (std::size_t i = 0; i < lower.size(); ++i)
    if (std::isnan(lower(i)) || std::isnan(upper(i)) || lower(i) > upper(i))
      throw ValueError("xgrad::optim::projection_box: lower > upper (or NaN) at coordinate " + std::to_string(i) +
                       ": " + std::to_string(lower(i)) + " > " + std::to_string(upper(i)) + " (the box is empty)");
  return [lower = std::move(lower), upper = std::move(upper)](const Array& x) {
    check_size(x, lower.size(), "projection_box");
    Array z = x;
    for (std::size_t i = 0; i < z.size(); ++i) z(i) = z(i) < lower(i) ? lower(i) : z(i) > upper(i) ? upper(i) : z(i);
    return z;
  };
}

Projection projection_simplex(double s) {
  if (!(s > 0.0) || std::isinf(s))
    throw ValueError("xgrad::optim::projection_simplex: the sum must be finite and > 0, got " + std::to_string(s));
  return [s](const Array& x) {
    check_size(x, x.size(), "projection_simplex");
    return simplex(x, s);
  };
}

Projection projection_l1_ball(double radius) {
  check_radius(radius, "projection_l1_ball");
  return [radius](const Array& x) {
    check_size(x, x.size(), "projection_l1_ball");
    double l1 = 0.0;
    for (double v : x) l1 += std::abs(v);
    if (l1 <= radius) return Array(x);
    if (radius == 0.0) return Array(xt::zeros<double>({x.size()}));
    Array a = xt::abs(x);
    Array z = simplex(a, radius);
    for (std::size_t i = 0; i < z.size(); ++i) z(i) = std::copysign(z(i), x(i));
    return z;
  };
}

Projection projection_l2_ball(double radius) {
  check_radius(radius, "projection_l2_ball");
  return [radius](const Array& x) {
    check_size(x, x.size(), "projection_l2_ball");
    const double n = flat::norm2(x);
    if (n <= radius) return Array(x);
    return Array(x * (radius / n));
  };
}

Projection projection_hyperplane(Array a, double b) {
  if (a.dimension() != 1) throw ShapeError("xgrad::optim::projection_hyperplane: a must be flat, got " + shape_str(shape_of(a)));
  const double aa = flat::dot(a, a);
  if (!(aa > 0.0) || std::isinf(aa) || !std::isfinite(b))
    throw ValueError("xgrad::optim::projection_hyperplane: the normal a must be nonzero and finite, b finite");
  return [a = std::move(a), b, aa](const Array& x) {
    check_size(x, a.size(), "projection_hyperplane");
    return flat::axpy(x, -(flat::dot(a, x) - b) / aa, a);
  };
}

}  // namespace xgrad::optim
