#include "xgrad/ad/check_grads.hpp"

#include <algorithm>
#include <cmath>

namespace xgrad::detail {

namespace {
double fd_error(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); }
}  // namespace

GradCheck check_grads_flat(const std::function<Tensor(const Tensor&)>& vecf, const Array& theta0,
                           const std::function<std::string(std::size_t)>& where, int order, const GradCheckOptions& opt) {
  const std::size_t n = theta0.size();
  GradCheck r;

  // The vector function's weighted scalar s(theta).
  const Tensor y0 = vecf(Tensor(theta0));
  const Tensor w(weights(y0.shape(), 7));
  auto s = [&](const Tensor& theta) { return sum(vecf(theta) * w); };
  auto sval = [&](const Array& th) {
    ++r.evaluations;
    return s(Tensor(th)).item();
  };
  auto record = [&](double a, double b, const std::string& mode, std::size_t i, double tol) {
    const double e = fd_error(a, b);
    if (!(e <= r.worst) || std::isnan(e)) {
      r.worst = std::isnan(e) ? INFINITY : e;
      r.ad_value = a;
      r.fd_value = b;
      r.where = i == SIZE_MAX ? mode : mode + ", " + where(i);
    }
    if (!(e <= tol)) r.ok = false;
  };
  auto stencil = [&](auto&& fun, const Array& dir, double h) {
    auto at = [&](double t) { return fun(Array(theta0 + t * dir)); };
    return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h);
  };
  auto h_of = [&](std::size_t i) { return opt.step * std::max(1.0, std::abs(theta0.data()[i])); };
  auto unit = [&](std::size_t i) {
    Array e = xt::zeros<double>({n});
    e.data()[i] = 1.0;
    return e;
  };

  if (order >= 1) {
    const Tensor g = grad(s)(Tensor(theta0));
    for (std::size_t i = 0; i < n; ++i)
      record(g.value().data()[i], stencil(sval, unit(i), h_of(i)), "order 1 (reverse)", i, opt.tol1);
    for (int k = 0; k < opt.directions && n > 0; ++k) {
      const Array v = weights({n}, 100 + static_cast<std::uint64_t>(k));
      const Tensor ydot = jvp(s, Tensor(theta0), Tensor(v)).second;
      record(ydot.item(), stencil(sval, v, opt.step), "order 1 (forward, direction " + std::to_string(k) + ")", SIZE_MAX,
             opt.tol1);
    }
  }
  if (order >= 2) {
    for (std::size_t i = 0; i < n; ++i) {
      const Tensor hv = hvp(s, Tensor(theta0), Tensor(unit(i)));
      // Column i of the Hessian by differences of the gradient.
      Array col = xt::zeros<double>({n});
      const double h = h_of(i);
      const double c[4] = {1.0, -8.0, 8.0, -1.0}, t[4] = {-2 * h, -h, h, 2 * h};
      for (int q = 0; q < 4; ++q) {
        ++r.evaluations;
        col += c[q] * grad(s)(Tensor(Array(theta0 + t[q] * unit(i)))).value();
      }
      col /= 12 * h;
      for (std::size_t j = 0; j < n; ++j)
        record(hv.value().data()[j], col.data()[j], "order 2 (hvp column " + std::to_string(i) + ")", j, opt.tol2);
    }
  }
  return r;
}

}  // namespace xgrad::detail
