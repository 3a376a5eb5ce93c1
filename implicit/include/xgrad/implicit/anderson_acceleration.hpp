#pragma once
// Anderson acceleration of a fixed-point iteration x = T(x, args...) (jaxopt.AndersonAcceleration; Walker and Ni
// 2011, "type II"): with the last m iterates x_i and their residuals r_i = T(x_i) - x_i, the next iterate is
//
//   x_{k+1} = sum_i alpha_i ((1 - beta) x_i + beta T(x_i)),   alpha = argmin ||sum_i alpha_i r_i||, sum_i alpha_i = 1,
//
// the least-squares mixture found from the regularised normal equations (R^T R + ridge mean(diag R^T R) I) a = 1,
// alpha = a / sum(a). On a linear contraction it converges like GMRES where plain iteration converges like the
// spectral radius. Same API as FixedPointIteration, and so usable by implicit::fixed_point:
//
//   auto [x, state] = implicit::AndersonAcceleration{.tol = 1e-10}.run(T, x0, args...);
//
// Safeguards: when the mixing weights are not finite (a singular history) or the accelerated point gives a non-finite
// T, the history is dropped and the plain step T(x_k) taken from the last good point; only a non-finite T at a plain
// step ends the run (non_finite, x the last finite iterate). state.error = ||T(x_k) - x_k||_2 at the last
// evaluation; converged exactly when it is <= tol, and then x is T(x_k), as FixedPointIteration returns.
#include <cmath>
#include <cstdio>
#include <deque>
#include <utility>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/tree.hpp"
#include "xgrad/implicit/fixed_point.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::implicit {

namespace detail {
/// The Anderson weights for residuals R (columns r_i): solve (G + ridge mean(diag G) I) a = 1 by Gaussian elimination
/// with partial pivoting (m is a handful), alpha = a / sum(a). Empty when not finite.
inline std::vector<double> anderson_weights(const std::deque<Array>& residuals, double ridge) {
  const std::size_t m = residuals.size();
  std::vector<double> G(m * m), a(m, 1.0);
  double trace = 0.0;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      G[i * m + j] = G[j * m + i] = flat::dot(residuals[i], residuals[j]);
      if (i == j) trace += G[i * m + i];
    }
  const double shift = ridge * std::max(trace / double(m), 1e-300);
  for (std::size_t i = 0; i < m; ++i) G[i * m + i] += shift;
  for (std::size_t c = 0; c < m; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < m; ++r)
      if (std::abs(G[r * m + c]) > std::abs(G[p * m + c])) p = r;
    if (G[p * m + c] == 0.0) return {};
    for (std::size_t j = 0; j < m; ++j) std::swap(G[c * m + j], G[p * m + j]);
    std::swap(a[c], a[p]);
    for (std::size_t r = c + 1; r < m; ++r) {
      const double f = G[r * m + c] / G[c * m + c];
      for (std::size_t j = c; j < m; ++j) G[r * m + j] -= f * G[c * m + j];
      a[r] -= f * a[c];
    }
  }
  for (std::size_t c = m; c-- > 0;) {
    for (std::size_t j = c + 1; j < m; ++j) a[c] -= G[c * m + j] * a[j];
    a[c] /= G[c * m + c];
  }
  double total = 0.0;
  for (double v : a) total += v;
  for (double& v : a) v /= total;
  for (double v : a)
    if (!std::isfinite(v)) return {};
  return a;
}
}  // namespace detail

/// Anderson acceleration; options are public fields with defaults (jaxopt's).
struct AndersonAcceleration {
  int maxiter = 100;         ///< most applications of T
  double tol = 1e-5;         ///< converged when ||T(x) - x||_2 <= tol
  int history_size = 5;      ///< m: iterates mixed
  double beta = 1.0;         ///< mixing: 1 mixes the T(x_i), 0 the x_i
  double ridge = 1e-5;       ///< regularisation of the normal equations, relative to their mean diagonal
  bool verbose = false;      ///< print one line per iteration (iter, error)

  /// Iterate from x0 (see the file comment for the statuses).
  template <class T, class X, class... Args>
  optim::OptStep<X, FixedPointState> run(const T& map, const X& x0, const Args&... args) const {
    if (history_size < 1 || !(ridge >= 0.0) || !std::isfinite(beta))
      throw ValueError("xgrad::implicit::AndersonAcceleration: needs history_size >= 1, ridge >= 0, finite beta");
    auto [x, unravel] = tree::ravel(x0);
    FixedPointState s;
    std::deque<Array> xs, ts, rs;  // the history: iterates, their images, residuals
    Array last_good = x;           // the last iterate whose image was finite
    Array last_image;
    while (s.iter_num < maxiter) {
      Array image = flat::values(map(unravel(x), args...));
      ++s.iter_num;
      ++s.num_fun_eval;
      if (!flat::all_finite(image)) {
        if (xs.empty()) {  // a plain step failed: nothing left to fall back on
          s.status = optim::Status::non_finite;
          return {unravel(last_good), s};
        }
        xs.clear(), ts.clear(), rs.clear();  // the accelerated point failed: restart from T(last good)
        x = last_image;
        continue;
      }
      Array r = flat::sub(image, x);
      s.error = flat::norm2(r);
      if (verbose) std::printf("AndersonAcceleration %6d %12.5e\n", s.iter_num, s.error);
      if (s.error <= tol) {
        s.status = optim::Status::converged;
        return {unravel(image), s};
      }
      last_good = x;
      last_image = image;
      xs.push_back(std::move(x)), ts.push_back(std::move(image)), rs.push_back(std::move(r));
      if (int(xs.size()) > history_size) xs.pop_front(), ts.pop_front(), rs.pop_front();
      const std::vector<double> alpha = detail::anderson_weights(rs, ridge);
      if (alpha.empty()) {  // a singular history: the plain step, and a fresh start
        x = last_image;
        xs.clear(), ts.clear(), rs.clear();
        continue;
      }
      x = Array(xt::zeros<double>({last_image.size()}));
      for (std::size_t i = 0; i < alpha.size(); ++i) {
        x = flat::axpy(x, alpha[i] * (1.0 - beta), xs[i]);
        x = flat::axpy(x, alpha[i] * beta, ts[i]);
      }
    }
    s.status = optim::Status::max_iterations;
    return {unravel(last_image.size() ? last_image : x), s};
  }
};

}  // namespace xgrad::implicit
