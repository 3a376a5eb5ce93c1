// scale_by_adam's update of one leaf in one pass (moments.hpp), for leaves that nothing differentiates. Each line
// is the arithmetic of one op of the traced path, in its order, so the results are the same bit for bit; this file
// is compiled with -ffp-contract=off (optim/sources.cmake) so that no multiply-add is fused where the ops round twice.
#include <cmath>

#include "xgrad/optim/moments.hpp"

namespace xgrad::optim::detail {

AdamLeaf adam_leaf(const Array& g, const Array& m, const Array& v, const AdamOptions& o, double c1, double c1n,
                   double c2) {
  AdamLeaf out{Array::from_shape(g.shape()), Array::from_shape(g.shape()), Array::from_shape(g.shape())};
  const std::size_t n = g.size();
  const double* __restrict gp = g.data();
  const double* __restrict mp = m.data();
  const double* __restrict vp = v.data();
  double* __restrict mu = out.mu.data();
  double* __restrict nu = out.nu.data();
  double* __restrict u = out.u.data();
  const double b1 = o.b1, a1 = 1.0 - o.b1, b2 = o.b2, a2 = 1.0 - o.b2, eps = o.eps, eps_root = o.eps_root;
  for (std::size_t i = 0; i < n; ++i) {
    const double gi = gp[i];
    const double mi = b1 * mp[i] + a1 * gi;
    const double vi = b2 * vp[i] + a2 * (gi * gi);
    const double m_hat = o.nesterov ? b1 * mi / c1n + a1 * gi / c1 : mi / c1;
    mu[i] = mi;
    nu[i] = vi;
    u[i] = m_hat / (std::sqrt(vi / c2 + eps_root) + eps);
  }
  return out;
}

}  // namespace xgrad::optim::detail
