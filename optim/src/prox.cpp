#include "xgrad/optim/prox.hpp"

#include <cmath>
#include <string>

#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"

namespace xgrad::optim {

namespace {
void check_strength(double v, const char* name, const char* what) {
  if (!(v >= 0.0) || std::isinf(v))
    throw ValueError(std::string("xgrad::optim::") + name + ": " + what + " must be finite and >= 0, got " +
                     std::to_string(v));
}
double soft(double v, double t) { return v > t ? v - t : v < -t ? v + t : (std::isnan(v) ? v : 0.0); }
}  // namespace

Prox prox_none() {
  return [](const Array& x, double) { return Array(x); };
}

Prox prox_lasso(double l1reg) {
  check_strength(l1reg, "prox_lasso", "l1reg");
  return [l1reg](const Array& x, double s) {
    Array z = x;
    for (double& v : z) v = soft(v, s * l1reg);
    return z;
  };
}

Prox prox_non_negative_lasso(double l1reg) {
  check_strength(l1reg, "prox_non_negative_lasso", "l1reg");
  return [l1reg](const Array& x, double s) {
    Array z = x;
    for (double& v : z) v = std::isnan(v) ? v : std::max(v - s * l1reg, 0.0);
    return z;
  };
}

Prox prox_elastic_net(double l1reg, double l2reg) {
  check_strength(l1reg, "prox_elastic_net", "l1reg");
  check_strength(l2reg, "prox_elastic_net", "l2reg");
  return [l1reg, l2reg](const Array& x, double s) {
    Array z = x;
    for (double& v : z) v = soft(v, s * l1reg) / (1.0 + s * l2reg);
    return z;
  };
}

Prox prox_ridge(double l2reg) {
  check_strength(l2reg, "prox_ridge", "l2reg");
  return [l2reg](const Array& x, double s) { return Array(x / (1.0 + s * l2reg)); };
}

Prox prox_group_lasso(double l2reg) {
  check_strength(l2reg, "prox_group_lasso", "l2reg");
  return [l2reg](const Array& x, double s) {
    const double n = flat::norm2(x);
    const double factor = n > 0.0 ? std::max(0.0, 1.0 - s * l2reg / n) : 0.0;
    return Array(x * factor);
  };
}

Prox make_prox_from_projection(Projection projection) {
  if (!projection) throw ValueError("xgrad::optim::make_prox_from_projection: empty projection");
  return [projection = std::move(projection)](const Array& x, double) { return projection(x); };
}

}  // namespace xgrad::optim
