// The L-BFGS two-loop recursion (lbfgs.hpp) on flat arrays, compiled once.
#include "xgrad/optim/lbfgs.hpp"

namespace xgrad::optim {

Array lbfgs_direction(const std::vector<Array>& s_history, const std::vector<Array>& y_history,
                      const std::vector<double>& rho_history, double gamma, const Array& g) {
  const std::size_t m = s_history.size(), n = g.size();
  Array q = g;
  std::vector<double> alpha(m);
  for (std::size_t k = m; k-- > 0;) {
    alpha[k] = rho_history[k] * flat::dot(s_history[k], q);
    const double* y = y_history[k].data();
    double* pq = q.data();
    for (std::size_t i = 0; i < n; ++i) pq[i] -= alpha[k] * y[i];
  }
  double* r = q.data();
  for (std::size_t i = 0; i < n; ++i) r[i] *= gamma;
  for (std::size_t k = 0; k < m; ++k) {
    const double beta = rho_history[k] * flat::dot(y_history[k], q);
    const double* sk = s_history[k].data();
    for (std::size_t i = 0; i < n; ++i) r[i] += (alpha[k] - beta) * sk[i];
  }
  for (std::size_t i = 0; i < n; ++i) r[i] = -r[i];
  return q;
}

}  // namespace xgrad::optim
