// The dense BFGS matrix work (bfgs.hpp) on flat arrays, compiled once.
#include "xgrad/optim/bfgs.hpp"

namespace xgrad::optim {

Array BFGS::identity(std::size_t n) {
  Array h = Array::from_shape({n, n});
  h.fill(0.0);
  for (std::size_t i = 0; i < n; ++i) h(i, i) = 1.0;
  return h;
}

Array BFGS::direction(const Array& h, const Array& g) {
  const std::size_t n = g.size();
  Array d = Array::from_shape({n});
  const double* ph = h.data();
  const double* pg = g.data();
  for (std::size_t i = 0; i < n; ++i) d(i) = -flat::dot(ph + i * n, pg, n);
  return d;
}

void BFGS::bfgs_update(Array& h, const Array& s, const Array& y, double rho) {
  const std::size_t n = s.size();
  const Array u = flat::negative(direction(h, y));  // H y
  const double c = rho * rho * flat::dot(y, u) + rho;
  double* ph = h.data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) ph[i * n + j] += -rho * (s(i) * u(j) + u(i) * s(j)) + c * s(i) * s(j);
}

void BFGS::scale(Array& h, double c) {
  for (double& v : h) v *= c;
}

}  // namespace xgrad::optim
