#include "xgrad/optim/prox.hpp"

#include <cmath>
#include <string>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/reduction.hpp"
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
// Soft thresholding with ops: x - clip(x, -t, t), whose derivative is 1 off [-t, t] and 0 inside (the support).
Tensor soft(const Tensor& x, double t) { return x - clip(x, -t, t); }
}  // namespace

Prox prox_none() {
  return {[](const Array& x, double) { return Array(x); }, [](const Tensor& x, double) { return x; }};
}

Prox prox_lasso(double l1reg) {
  check_strength(l1reg, "prox_lasso", "l1reg");
  return {[l1reg](const Array& x, double s) {
            Array z = x;
            for (double& v : z) v = soft(v, s * l1reg);
            return z;
          },
          [l1reg](const Tensor& x, double s) { return soft(x, s * l1reg); }};
}

Prox prox_non_negative_lasso(double l1reg) {
  check_strength(l1reg, "prox_non_negative_lasso", "l1reg");
  return {[l1reg](const Array& x, double s) {
            Array z = x;
            for (double& v : z) v = std::isnan(v) ? v : std::max(v - s * l1reg, 0.0);
            return z;
          },
          [l1reg](const Tensor& x, double s) { return relu(x - s * l1reg); }};
}

Prox prox_elastic_net(double l1reg, double l2reg) {
  check_strength(l1reg, "prox_elastic_net", "l1reg");
  check_strength(l2reg, "prox_elastic_net", "l2reg");
  return {[l1reg, l2reg](const Array& x, double s) {
            Array z = x;
            for (double& v : z) v = soft(v, s * l1reg) / (1.0 + s * l2reg);
            return z;
          },
          [l1reg, l2reg](const Tensor& x, double s) { return soft(x, s * l1reg) / (1.0 + s * l2reg); }};
}

Prox prox_ridge(double l2reg) {
  check_strength(l2reg, "prox_ridge", "l2reg");
  return {[l2reg](const Array& x, double s) { return Array(x / (1.0 + s * l2reg)); },
          [l2reg](const Tensor& x, double s) { return x / (1.0 + s * l2reg); }};
}

Prox prox_group_lasso(double l2reg) {
  check_strength(l2reg, "prox_group_lasso", "l2reg");
  return {[l2reg](const Array& x, double s) {
            const double n = flat::norm2(x);
            const double factor = n > 0.0 ? std::max(0.0, 1.0 - s * l2reg / n) : 0.0;
            return Array(x * factor);
          },
          // At x = 0 the group is zero whatever the derivative of the factor: no 0/0 (norm's derivative at 0).
          [l2reg](const Tensor& x, double s) {
            const double n = flat::norm2(x.value());
            if (!(n > s * l2reg)) return Tensor(Array(xt::zeros<double>(x.shape())));
            return x * (1.0 - s * l2reg / norm(x));
          }};
}

Prox make_prox_from_projection(Projection projection, std::function<Tensor(const Tensor&)> differentiable) {
  if (!projection) throw ValueError("xgrad::optim::make_prox_from_projection: empty projection");
  Prox p{[projection = std::move(projection)](const Array& x, double) { return projection(x); }, {}};
  if (differentiable)
    p.differentiable = [d = std::move(differentiable)](const Tensor& x, double) { return d(x); };
  return p;
}

}  // namespace xgrad::optim
