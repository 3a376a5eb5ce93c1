// The linear solvers on flat arrays. Each one iterates, then measures the true residual ||b - (A + ridge I) x||_2
// with one more matvec; that number, not the recursion's estimate, decides `converged`.
#include "xgrad/implicit/linear_solve.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
#include <xtensor-blas/xlinalg.hpp>

#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/optim/conjugate_gradient.hpp"

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

// The iterations work on flat 1-D Arrays with the flat view's BLAS-1 (core/flat.hpp): the matvec's result is used
// as it comes, without copies between Array and another vector type.
using flat::axpy;
using flat::dot;
using flat::norm2;

Array zeros(std::size_t n) { return Array(xt::zeros<double>({n})); }

// The operator as the iterations see it: v -> (A + ridge I) v on flat arrays, counting matvecs.
struct Op {
  const FlatMatvec& mv;
  double ridge;
  const std::function<Array(const Array&)>& precond;
  int count = 0;

  Array operator()(const Array& v) {
    ++count;
    Array r = mv(v);
    if (r.size() != v.size())
      throw ShapeError("xgrad::implicit: the matvec returned " + std::to_string(r.size()) + " values for a vector of " +
                       std::to_string(v.size()));
    if (ridge != 0.0) r = axpy(r, ridge, v);
    return flat_1d(std::move(r));
  }
  Array M(const Array& v) const {
    if (!precond) return v;
    Array r = precond(v);
    if (r.size() != v.size())
      throw ShapeError("xgrad::implicit: the preconditioner returned " + std::to_string(r.size()) +
                       " values for a vector of " + std::to_string(v.size()));
    return flat_1d(std::move(r));
  }
  // The iterations index their vectors as 1-D: a matvec may return any shape of the right size.
  static Array flat_1d(Array a) {
    if (a.dimension() != 1) a.reshape({a.size()});
    return a;
  }
};

bool any_nonzero(const Array& x) {
  return std::any_of(x.begin(), x.end(), [](double v) { return v != 0.0; });
}

// b - (A + ridge I) x, without the matvec when x is zero (the usual initial guess).
Array residual(Op& A, const Array& b, const Array& x) { return any_nonzero(x) ? axpy(b, -1.0, A(x)) : b; }

struct Result {
  Array x;
  std::string message;  // why the iteration stopped early ("" when it met the tolerance or ran out of iterations)
  double sigma = std::nan("");  // the smallest singular value of A as the iteration saw it (SolveInfo::sigma_min)
};

// The smaller estimate (NaN counts as none).
double fmin_nan(double a, double b) { return std::isnan(a) ? b : std::isnan(b) ? a : std::min(a, b); }

// The smallest singular value of a small dense matrix.
double smallest_singular_value(const Array& M) {
  const auto svd = xt::linalg::svd(M, false, false);
  const Array& s = std::get<1>(svd);
  return s.size() == 0 ? std::nan("") : xt::amin(s)();
}

// CG is the optim module's kernel (optim/conjugate_gradient.hpp, shared with NewtonCG), restarted from the true
// residual when the recursion says converged but the true residual does not (residual replacement), until maxiter
// matvecs.
Result run_cg(Op& A, const Array& b, Array x, double thresh, int maxiter) {
  const optim::FlatLinearMap matvec = [&A](const Array& v) { return A(v); };
  const optim::FlatLinearMap precond =
      A.precond ? optim::FlatLinearMap([&A](const Array& v) { return A.M(v); }) : optim::FlatLinearMap();
  double sigma = std::nan("");  // the smallest Ritz value over the restarts (none with a preconditioner)
  while (A.count < maxiter) {
    Array r = residual(A, b, x);
    if (norm2(r) <= thresh) return {x, "", sigma};
    optim::CGResult cg =
        optim::conjugate_gradient(matvec, std::move(x), std::move(r), thresh, maxiter - A.count, precond);
    x = std::move(cg.x);
    if (!A.precond) sigma = fmin_nan(sigma, optim::lanczos_min_eigenvalue(cg.alpha, cg.beta));
    if (cg.stop == optim::CGStop::non_finite) return {x, "non-finite matvec", sigma};
    if (cg.stop == optim::CGStop::negative_curvature)
      return {x, "the operator is not positive definite (p^T A p <= 0)", sigma};
  }
  return {x, "", sigma};
}

Result run_bicgstab(Op& A, const Array& b, Array x, double thresh, int maxiter) {
  const std::size_t n = b.size();
  Array r = residual(A, b, x);
  const Array rhat = r;
  double rho = 1.0, alpha = 1.0, omega = 1.0;
  Array v = zeros(n), p = zeros(n);
  while (A.count < maxiter && norm2(r) > thresh) {
    const double rho_new = dot(rhat, r);
    if (rho_new == 0.0 || !std::isfinite(rho_new)) return {x, "breakdown (rho = 0)"};
    const double beta = (rho_new / rho) * (alpha / omega);
    for (std::size_t i = 0; i < n; ++i) p(i) = r(i) + beta * (p(i) - omega * v(i));
    const Array ph = A.M(p);
    v = A(ph);
    const double rv = dot(rhat, v);
    if (rv == 0.0 || !std::isfinite(rv)) return {x, "breakdown (<r0, v> = 0)"};
    alpha = rho_new / rv;
    const Array s = axpy(r, -alpha, v);
    x = axpy(x, alpha, ph);
    if (norm2(s) <= thresh) return {x, ""};
    const Array sh = A.M(s);
    const Array t = A(sh);
    const double tt = dot(t, t);
    if (tt == 0.0 || !std::isfinite(tt)) return {x, "breakdown (t = 0)"};
    omega = dot(t, s) / tt;
    x = axpy(x, omega, sh);
    r = axpy(s, -omega, t);
    rho = rho_new;
    if (omega == 0.0) return {x, "breakdown (omega = 0)"};
  }
  return {x, ""};
}

// GMRES(m), right-preconditioned (A M^{-1} y = b, x = M^{-1} y), modified Gram-Schmidt, Givens rotations.
Result run_gmres(Op& A, const Array& b, Array x, double thresh, int maxiter, int restart) {
  using Vec = std::vector<double>;  // the small (m-sized) Hessenberg columns and rotations
  const std::size_t n = b.size();
  const std::size_t m = std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(std::max(restart, 1)), n));
  // sigma_min(H_bar) = sigma_min(A V) >= sigma_min(A), and the rotations keep it: the smallest over the cycles of
  // sigma_min(R) (none with a preconditioner, whose operator is A M^{-1}).
  double sigma = std::nan("");
  while (A.count < maxiter) {
    const Array r = residual(A, b, x);
    const double beta = norm2(r);
    if (!std::isfinite(beta)) return {x, "non-finite matvec", sigma};
    if (beta <= thresh) return {x, "", sigma};
    std::vector<Array> V{r};  // the Krylov basis
    V[0] /= beta;
    std::vector<Vec> H;     // H[j]: column j of the Hessenberg matrix (j + 2 entries), rotated to upper triangular
    Vec cs, sn, g{beta};    // the Givens rotations and the rotated right-hand side
    std::size_t k = 0;
    while (k < m && A.count < maxiter) {
      Array w = A(A.M(V[k]));
      Vec h(k + 2, 0.0);
      for (std::size_t i = 0; i <= k; ++i) {  // modified Gram-Schmidt
        h[i] = dot(w, V[i]);
        w = axpy(w, -h[i], V[i]);
      }
      const double wn = norm2(w);
      if (!std::isfinite(wn)) return {x, "non-finite matvec", sigma};
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
        w /= wn;
        V.push_back(std::move(w));
      }
      if (std::abs(g.back()) <= thresh || wn == 0.0) break;  // |g[k]| is the residual norm
    }
    if (!A.precond && k > 0) {
      Array R = xt::zeros<double>({k, k});
      for (std::size_t j = 0; j < k; ++j)
        for (std::size_t i = 0; i <= j; ++i) R(i, j) = H[j][i];
      if (flat::all_finite(R)) sigma = fmin_nan(sigma, smallest_singular_value(R));
    }
    // Back substitution: H[0:k, 0:k] y = g[0:k]; x += M^{-1} V y.
    Vec y(k, 0.0);
    for (std::size_t i = k; i-- > 0;) {
      double s = g[i];
      for (std::size_t j = i + 1; j < k; ++j) s -= H[j][i] * y[j];
      if (H[i][i] == 0.0) return {x, "breakdown (singular Hessenberg matrix)", sigma};
      y[i] = s / H[i][i];
    }
    Array dx = zeros(n);
    for (std::size_t j = 0; j < k; ++j) dx = axpy(dx, y[j], V[j]);
    x = axpy(x, 1.0, A.M(dx));
  }
  return {x, "", sigma};
}

// Dense: form A + ridge I with n matvecs, then LAPACK.
Result run_dense(Op& A, const Array& b, bool chol) {
  const std::size_t n = b.size();
  Array M = Array::from_shape({n, n});
  Array e = zeros(n);
  for (std::size_t j = 0; j < n; ++j) {
    e(j) = 1.0;
    const Array col = A(e);
    e(j) = 0.0;
    for (std::size_t i = 0; i < n; ++i) M(i, j) = col(i);
  }
  if (!flat::all_finite(M)) return {zeros(n), "non-finite matvec"};
  try {
    Array sol;
    if (chol) {
      const Array L = xt::linalg::cholesky(M);
      if (!flat::all_finite(L)) return {zeros(n), "the matrix is not positive definite"};
      sol = xt::linalg::solve_cholesky(L, b);
    } else {
      sol = xt::linalg::solve(M, b);
    }
    return {Op::flat_1d(std::move(sol)), "", smallest_singular_value(M)};
  } catch (const std::exception& ex) {
    std::string msg = chol ? "the matrix is not positive definite (" : "the matrix is singular (";
    msg += ex.what();
    msg += ")";
    return {zeros(n), msg};
  }
}

}  // namespace

LinearSolution<Array> solve_flat(Method method, const FlatMatvec& matvec, const FlatMatvec& rmatvec, const Array& b,
                                 const Array& x0, const SolveOptions& opt) {
  const std::size_t n = b.size();
  const Array bv = Op::flat_1d(b), xv = Op::flat_1d(x0);
  const int maxiter = opt.maxiter >= 0 ? opt.maxiter : static_cast<int>(std::max<std::size_t>(10 * n, 10));
  LinearSolution<Array> out;
  out.info.method = to_string(method);
  const std::function<Array(const Array&)> none;

  Result res;
  int iterations = 0;
  if (method == Method::normal_cg) {
    // (A^T A + ridge I) x = A^T b.
    const FlatMatvec normal = [&](const Array& v) { return rmatvec(matvec(v)); };
    Op AtA{normal, opt.ridge, opt.preconditioner};
    const Array rhs = Op::flat_1d(rmatvec(bv));
    const double thresh = std::max(opt.tol * norm2(rhs), opt.atol);
    res = run_cg(AtA, rhs, xv, thresh, maxiter);
    iterations = AtA.count;
    out.info.residual = norm2(axpy(rhs, -1.0, AtA(res.x)));
    // CG's Ritz values are A^T A's: sigma_min(A) is the square root of the smallest (none with a ridge).
    res.sigma = opt.ridge == 0.0 && res.sigma > 0.0 ? std::sqrt(res.sigma) : std::nan("");
    out.info.tolerance = thresh;
  } else {
    Op A{matvec, opt.ridge, method == Method::lu || method == Method::cholesky ? none : opt.preconditioner};
    const double thresh = std::max(opt.tol * norm2(bv), opt.atol);
    switch (method) {
      case Method::cg: res = run_cg(A, bv, xv, thresh, maxiter); break;
      case Method::bicgstab: res = run_bicgstab(A, bv, xv, thresh, maxiter); break;
      case Method::gmres: res = run_gmres(A, bv, xv, thresh, maxiter, opt.restart); break;
      case Method::lu: res = run_dense(A, bv, false); break;
      case Method::cholesky: res = run_dense(A, bv, true); break;
      case Method::normal_cg: break;
    }
    iterations = A.count;
    out.info.residual = norm2(axpy(bv, -1.0, A(res.x)));
    out.info.tolerance = thresh;
  }
  out.info.iterations = iterations;
  out.info.sigma_min = res.sigma;
  out.info.converged =
      std::isfinite(out.info.residual) && flat::all_finite(res.x) && out.info.residual <= out.info.tolerance;
  if (!out.info.converged)
    out.info.message = !res.message.empty() ? res.message
                                            : "no convergence in " + std::to_string(maxiter) + " iterations";
  out.x = std::move(res.x);
  return out;
}

}  // namespace detail
}  // namespace xgrad::implicit
