// The CG recursion (conjugate_gradient.hpp), compiled once for NewtonCG and the implicit linear solvers.
#include "xgrad/optim/conjugate_gradient.hpp"

#include <cmath>

#include "xgrad/core/flat.hpp"

namespace xgrad::optim {

CGResult conjugate_gradient(const FlatLinearMap& A, Array x, Array r, double threshold, int maxiter,
                            const FlatLinearMap& precond) {
  auto M = [&](const Array& v) { return precond ? precond(v) : v; };
  double rnorm = flat::norm2(r);
  Array z = M(r), p = z;
  double rz = flat::dot(r, z);
  int it = 0;
  while (it < maxiter) {
    const Array Ap = A(p);
    ++it;
    const double pAp = flat::dot(p, Ap);
    if (!std::isfinite(pAp)) return {std::move(x), std::move(r), rnorm, it, CGStop::non_finite};
    if (pAp <= 0.0) return {std::move(x), std::move(r), rnorm, it, CGStop::negative_curvature};
    const double alpha = rz / pAp;
    x = flat::axpy(x, alpha, p);
    r = flat::axpy(r, -alpha, Ap);
    rnorm = flat::norm2(r);
    if (rnorm <= threshold) return {std::move(x), std::move(r), rnorm, it, CGStop::converged};
    z = M(r);
    const double rz_new = flat::dot(r, z);
    const double beta = rz_new / rz;
    rz = rz_new;
    p = flat::axpy(z, beta, p);
  }
  return {std::move(x), std::move(r), rnorm, it, CGStop::max_iterations};
}

}  // namespace xgrad::optim
