// The CG recursion (conjugate_gradient.hpp), compiled once for NewtonCG and the implicit linear solvers.
#include "xgrad/optim/conjugate_gradient.hpp"

#include <algorithm>
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
  std::vector<double> alphas, betas;
  auto done = [&](CGStop stop) {
    return CGResult{std::move(x), std::move(r), rnorm, it, stop, std::move(alphas), std::move(betas)};
  };
  while (it < maxiter) {
    const Array Ap = A(p);
    ++it;
    const double pAp = flat::dot(p, Ap);
    if (!std::isfinite(pAp)) return done(CGStop::non_finite);
    if (pAp <= 0.0) return done(CGStop::negative_curvature);
    const double alpha = rz / pAp;
    alphas.push_back(alpha);
    x = flat::axpy(x, alpha, p);
    r = flat::axpy(r, -alpha, Ap);
    rnorm = flat::norm2(r);
    if (rnorm <= threshold) return done(CGStop::converged);
    z = M(r);
    const double rz_new = flat::dot(r, z);
    const double beta = rz_new / rz;
    betas.push_back(beta);
    rz = rz_new;
    p = flat::axpy(z, beta, p);
  }
  return done(CGStop::max_iterations);
}

double lanczos_min_eigenvalue(const std::vector<double>& alpha, const std::vector<double>& beta) {
  // T_jj = 1/alpha_j + beta_{j-1}/alpha_{j-1}, T_{j,j+1} = sqrt(beta_j)/alpha_j (Saad, Iterative Methods, 6.7.3);
  // its smallest eigenvalue by bisection on the Sturm sequence, which needs no LAPACK and is exact to rounding.
  const std::size_t k = alpha.size();
  if (k == 0) return std::nan("");
  std::vector<double> d(k), e(k, 0.0);
  for (std::size_t j = 0; j < k; ++j) {
    d[j] = 1.0 / alpha[j] + (j > 0 ? beta[j - 1] / alpha[j - 1] : 0.0);
    if (j + 1 < k) e[j] = std::sqrt(beta[j]) / alpha[j];
  }
  double lo = d[0], hi = d[0];  // Gershgorin
  for (std::size_t j = 0; j < k; ++j) {
    const double rad = std::abs(e[j]) + (j > 0 ? std::abs(e[j - 1]) : 0.0);
    lo = std::min(lo, d[j] - rad);
    hi = std::max(hi, d[j] + rad);
  }
  if (!std::isfinite(lo) || !std::isfinite(hi)) return std::nan("");
  // count(x): eigenvalues below x.
  auto count = [&](double x) {
    std::size_t c = 0;
    double q = 1.0;
    for (std::size_t j = 0; j < k; ++j) {
      const double off = j > 0 ? e[j - 1] * e[j - 1] : 0.0;
      q = d[j] - x - (j > 0 ? off / q : 0.0);
      if (q == 0.0) q = -1e-300;
      if (q < 0.0) ++c;
    }
    return c;
  };
  for (int it = 0; it < 200 && hi - lo > 1e-15 * std::max(std::abs(lo), std::abs(hi)); ++it) {
    const double mid = 0.5 * (lo + hi);
    if (count(mid) >= 1) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace xgrad::optim
