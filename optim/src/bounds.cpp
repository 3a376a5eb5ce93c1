// Box bounds on the flat view (bounds.hpp).
#include "xgrad/optim/bounds.hpp"

#include <algorithm>

#include "xgrad/core/flat.hpp"

namespace xgrad::optim {

std::pair<Array, Array> Bounds::expand(std::size_t n, const std::string& who) const {
  auto one = [&](const std::vector<double>& side, double none, const char* name) {
    Array out = Array::from_shape({n});
    if (side.size() == 0)
      std::fill(out.begin(), out.end(), none);
    else if (side.size() == 1)
      std::fill(out.begin(), out.end(), side[0]);
    else if (side.size() == n)
      std::copy(side.begin(), side.end(), out.begin());
    else
      throw ShapeError(who + ": the " + name + " bound has " + std::to_string(side.size()) +
                       " values for parameters of " + std::to_string(n) + " (give 1, " + std::to_string(n) +
                       ", or none)");
    return out;
  };
  const double inf = std::numeric_limits<double>::infinity();
  std::pair<Array, Array> lu{one(lower, -inf, "lower"), one(upper, inf, "upper")};
  for (std::size_t i = 0; i < n; ++i) {
    const double l = lu.first(i), u = lu.second(i);
    if (std::isnan(l) || std::isnan(u))
      throw ValueError(who + ": bound " + std::to_string(i) + " is NaN");
    if (l > u)
      throw ValueError(who + ": lower bound " + std::to_string(l) + " > upper bound " + std::to_string(u) +
                       " at coordinate " + std::to_string(i));
  }
  return lu;
}

Array project_onto(const Array& x, const Array& l, const Array& u) {
  Array out = flat::values(x);
  for (std::size_t i = 0; i < out.size(); ++i) out(i) = std::clamp(out(i), l(i), u(i));
  return out;
}

double projected_gradient_norm(const Array& x, const Array& g, const Array& l, const Array& u) {
  double s = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double xi = x.data()[i];
    const double d = std::clamp(xi - g.data()[i], l.data()[i], u.data()[i]) - xi;
    s += d * d;
  }
  return std::sqrt(s);
}

}  // namespace xgrad::optim
