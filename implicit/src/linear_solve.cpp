// The linear solvers on flat arrays. Each one iterates, then measures the true residual ||b - (A + ridge I) x||_2
// with one more matvec; that number, not the recursion's estimate, decides `converged`.
#include "xgrad/implicit/linear_solve.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
#include <xtensor-blas/xlinalg.hpp>

#include "xgrad/core/error.hpp"

namespace xgrad::implicit {

std::string to_string(Method m) {
  switch (m) {
    case Method::cg: return "cg";
    case Method::gmres: return "gmres";
    case Method::bicgstab: return "bicgstab";
    case Method::normal_cg: return "normal_cg";
    case Method::lu: return "lu";
    case Method::cholesky: return "cholesky";
  }
  return "?";
}

namespace detail {
namespace {

using Vec = std::vector<double>;

double dot(const Vec& a, const Vec& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double norm(const Vec& a) { return std::sqrt(dot(a, a)); }
void axpy(double t, const Vec& x, Vec& y) {  // y += t x
  for (std::size_t i = 0; i < y.size(); ++i) y[i] += t * x[i];
}
bool finite(const Vec& a) {
  return std::all_of(a.begin(), a.end(), [](double v) { return std::isfinite(v); });
}
Vec to_vec(const Array& a) { return Vec(a.begin(), a.end()); }
Array to_array(const Vec& v) {
  Array a = Array::from_shape({v.size()});
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

// The operator as the iterations see it: v -> (A + ridge I) v on std::vector, counting matvecs.
struct Op {
  const FlatMatvec& mv;
  double ridge;
  const std::function<Array(const Array&)>& precond;
  int count = 0;

  Vec operator()(const Vec& v) {
    ++count;
    const Array r = mv(to_array(v));
    if (r.size() != v.size())
      throw ShapeError("xgrad::implicit: the matvec returned " + std::to_string(r.size()) + " values for a vector of " +
                       std::to_string(v.size()));
    Vec out(r.begin(), r.end());
    if (ridge != 0.0) axpy(ridge, v, out);
    return out;
  }
  Vec M(const Vec& v) const {
    if (!precond) return v;
    const Array r = precond(to_array(v));
    if (r.size() != v.size())
      throw ShapeError("xgrad::implicit: the preconditioner returned " + std::to_string(r.size()) +
                       " values for a vector of " + std::to_string(v.size()));
    return Vec(r.begin(), r.end());
  }
};

// b - (A + ridge I) x, without the matvec when x is zero (the usual initial guess).
Vec residual(Op& A, const Vec& b, const Vec& x) {
  Vec r = b;
  if (std::any_of(x.begin(), x.end(), [](double v) { return v != 0.0; })) axpy(-1.0, A(x), r);
  return r;
}

struct Result {
  Vec x;
  std::string message;  // why the iteration stopped early ("" when it met the tolerance or ran out of iterations)
};

Result run_cg(Op& A, const Vec& b, Vec x, double thresh, int maxiter) {
  // Restarts from the true residual when the recursive one says converged but the true one does not
  // (residual replacement), until maxiter matvecs.
  while (A.count < maxiter) {
    Vec r = residual(A, b, x);
    if (norm(r) <= thresh) return {x, ""};
    Vec z = A.M(r), p = z;
    double rz = dot(r, z);
    while (A.count < maxiter) {
      const Vec Ap = A(p);
      const double pAp = dot(p, Ap);
      if (!std::isfinite(pAp)) return {x, "non-finite matvec"};
      if (pAp <= 0.0) return {x, "the operator is not positive definite (p^T A p <= 0)"};
      const double alpha = rz / pAp;
      axpy(alpha, p, x);
      axpy(-alpha, Ap, r);
      if (norm(r) <= thresh) break;
      z = A.M(r);
      const double rz_new = dot(r, z);
      const double beta = rz_new / rz;
      rz = rz_new;
      for (std::size_t i = 0; i < p.size(); ++i) p[i] = z[i] + beta * p[i];
    }
  }
  return {x, ""};
}

Result run_bicgstab(Op& A, const Vec& b, Vec x, double thresh, int maxiter) {
  const std::size_t n = b.size();
  Vec r = residual(A, b, x);
  const Vec rhat = r;
  double rho = 1.0, alpha = 1.0, omega = 1.0;
  Vec v(n, 0.0), p(n, 0.0);
  while (A.count < maxiter && norm(r) > thresh) {
    const double rho_new = dot(rhat, r);
    if (rho_new == 0.0 || !std::isfinite(rho_new)) return {x, "breakdown (rho = 0)"};
    const double beta = (rho_new / rho) * (alpha / omega);
    for (std::size_t i = 0; i < n; ++i) p[i] = r[i] + beta * (p[i] - omega * v[i]);
    const Vec ph = A.M(p);
    v = A(ph);
    const double rv = dot(rhat, v);
    if (rv == 0.0 || !std::isfinite(rv)) return {x, "breakdown (<r0, v> = 0)"};
    alpha = rho_new / rv;
    Vec s = r;
    axpy(-alpha, v, s);
    axpy(alpha, ph, x);
    if (norm(s) <= thresh) return {x, ""};
    const Vec sh = A.M(s);
    const Vec t = A(sh);
    const double tt = dot(t, t);
    if (tt == 0.0 || !std::isfinite(tt)) return {x, "breakdown (t = 0)"};
    omega = dot(t, s) / tt;
    axpy(omega, sh, x);
    r = s;
    axpy(-omega, t, r);
    rho = rho_new;
    if (omega == 0.0) return {x, "breakdown (omega = 0)"};
  }
  return {x, ""};
}

// GMRES(m), right-preconditioned (A M^{-1} y = b, x = M^{-1} y), modified Gram-Schmidt, Givens rotations.
Result run_gmres(Op& A, const Vec& b, Vec x, double thresh, int maxiter, int restart) {
  const std::size_t n = b.size();
  const std::size_t m = std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(std::max(restart, 1)), n));
  while (A.count < maxiter) {
    Vec r = residual(A, b, x);
    const double beta = norm(r);
    if (!std::isfinite(beta)) return {x, "non-finite matvec"};
    if (beta <= thresh) return {x, ""};
    std::vector<Vec> V{r};  // the Krylov basis
    for (double& vi : V[0]) vi /= beta;
    std::vector<Vec> H;     // H[j]: column j of the Hessenberg matrix (j + 2 entries), rotated to upper triangular
    Vec cs, sn, g{beta};    // the Givens rotations and the rotated right-hand side
    std::size_t k = 0;
    while (k < m && A.count < maxiter) {
      Vec w = A(A.M(V[k]));
      Vec h(k + 2, 0.0);
      for (std::size_t i = 0; i <= k; ++i) {  // modified Gram-Schmidt
        h[i] = dot(w, V[i]);
        axpy(-h[i], V[i], w);
      }
      const double wn = norm(w);
      if (!std::isfinite(wn)) return {x, "non-finite matvec"};
      h[k + 1] = wn;
      for (std::size_t i = 0; i < k; ++i) {  // the earlier rotations
        const double hi = h[i], hj = h[i + 1];
        h[i] = cs[i] * hi + sn[i] * hj;
        h[i + 1] = -sn[i] * hi + cs[i] * hj;
      }
      const double d = std::hypot(h[k], h[k + 1]);  // the new one zeroes h[k + 1]
      cs.push_back(d == 0.0 ? 1.0 : h[k] / d);
      sn.push_back(d == 0.0 ? 0.0 : h[k + 1] / d);
      h[k] = d;
      h[k + 1] = 0.0;
      g.push_back(-sn.back() * g.back());
      g[k] *= cs.back();
      H.push_back(std::move(h));
      ++k;
      if (wn > 0.0) {
        for (double& wi : w) wi /= wn;
        V.push_back(std::move(w));
      }
      if (std::abs(g.back()) <= thresh || wn == 0.0) break;  // |g[k]| is the residual norm
    }
    // Back substitution: H[0:k, 0:k] y = g[0:k]; x += M^{-1} V y.
    Vec y(k, 0.0);
    for (std::size_t i = k; i-- > 0;) {
      double s = g[i];
      for (std::size_t j = i + 1; j < k; ++j) s -= H[j][i] * y[j];
      if (H[i][i] == 0.0) return {x, "breakdown (singular Hessenberg matrix)"};
      y[i] = s / H[i][i];
    }
    Vec dx(n, 0.0);
    for (std::size_t j = 0; j < k; ++j) axpy(y[j], V[j], dx);
    axpy(1.0, A.M(dx), x);
  }
  return {x, ""};
}

// Dense: form A + ridge I with n matvecs, then LAPACK.
Result run_dense(Op& A, const Vec& b, bool chol) {
  const std::size_t n = b.size();
  Array M = Array::from_shape({n, n});
  Vec e(n, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    e[j] = 1.0;
    const Vec col = A(e);
    e[j] = 0.0;
    for (std::size_t i = 0; i < n; ++i) M(i, j) = col[i];
  }
  if (!std::all_of(M.begin(), M.end(), [](double v) { return std::isfinite(v); }))
    return {Vec(n, 0.0), "non-finite matvec"};
  try {
    const Array rhs = to_array(b);
    Array sol;
    if (chol) {
      const Array L = xt::linalg::cholesky(M);
      if (!std::all_of(L.begin(), L.end(), [](double v) { return std::isfinite(v); }))
        return {Vec(n, 0.0), "the matrix is not positive definite"};
      sol = xt::linalg::solve_cholesky(L, rhs);
    } else {
      sol = xt::linalg::solve(M, rhs);
    }
    return {to_vec(sol), ""};
  } catch (const std::exception& ex) {
    std::string msg = chol ? "the matrix is not positive definite (" : "the matrix is singular (";
    msg += ex.what();
    msg += ")";
    return {Vec(n, 0.0), msg};
  }
}

}  // namespace

LinearSolution<Array> solve_flat(Method method, const FlatMatvec& matvec, const FlatMatvec& rmatvec, const Array& b,
                                 const Array& x0, const SolveOptions& opt) {
  const std::size_t n = b.size();
  const Vec bv = to_vec(b);
  const int maxiter = opt.maxiter >= 0 ? opt.maxiter : static_cast<int>(std::max<std::size_t>(10 * n, 10));
  LinearSolution<Array> out;
  out.info.method = to_string(method);
  const std::function<Array(const Array&)> none;

  Result res;
  Vec rhs = bv;
  int iterations = 0;
  if (method == Method::normal_cg) {
    // (A^T A + ridge I) x = A^T b.
    const FlatMatvec normal = [&](const Array& v) { return rmatvec(matvec(v)); };
    Op AtA{normal, opt.ridge, opt.preconditioner};
    rhs = to_vec(rmatvec(b));
    const double thresh = std::max(opt.tol * norm(rhs), opt.atol);
    res = run_cg(AtA, rhs, to_vec(x0), thresh, maxiter);
    iterations = AtA.count;
    Vec r = rhs;
    axpy(-1.0, AtA(res.x), r);
    out.info.residual = norm(r);
    out.info.tolerance = thresh;
  } else {
    Op A{matvec, opt.ridge, method == Method::lu || method == Method::cholesky ? none : opt.preconditioner};
    const double thresh = std::max(opt.tol * norm(bv), opt.atol);
    switch (method) {
      case Method::cg: res = run_cg(A, bv, to_vec(x0), thresh, maxiter); break;
      case Method::bicgstab: res = run_bicgstab(A, bv, to_vec(x0), thresh, maxiter); break;
      case Method::gmres: res = run_gmres(A, bv, to_vec(x0), thresh, maxiter, opt.restart); break;
      case Method::lu: res = run_dense(A, bv, false); break;
      case Method::cholesky: res = run_dense(A, bv, true); break;
      case Method::normal_cg: break;
    }
    iterations = A.count;
    Vec r = bv;
    axpy(-1.0, A(res.x), r);
    out.info.residual = norm(r);
    out.info.tolerance = thresh;
  }
  out.info.iterations = iterations;
  out.info.converged = std::isfinite(out.info.residual) && finite(res.x) && out.info.residual <= out.info.tolerance;
  if (!out.info.converged)
    out.info.message = !res.message.empty() ? res.message
                                            : "no convergence in " + std::to_string(maxiter) + " iterations";
  out.x = to_array(res.x);
  return out;
}

}  // namespace detail
}  // namespace xgrad::implicit
