#pragma once
// Matrix-free linear solvers over pytrees, like jaxopt.linear_solve: the operator is a function `v -> A v` on
// pytrees of b's type, never a matrix.
//
//   auto matvec = [&](const Tensor& v) { return matmul(A, v); };
//   auto [x, info] = xgrad::implicit::cg(matvec, b, {.tol = 1e-12});
//   if (!info.converged) ... info.iterations, info.residual ...
//
// Every solver works on the flat view of b (all leaves concatenated in tree::ravel order), so inner products and
// norms are global over the leaves. Each returns the solution and a report that says whether it converged, measured
// on the true residual ||b - (A + ridge I) x||_2 recomputed at the end (one extra matvec), never on a recursion's
// estimate alone; none returns a silent zero vector (jaxopt #466).
//
// Methods: cg (A symmetric positive definite), gmres (any nonsingular A; restarted, right-preconditioned),
// bicgstab (any nonsingular A), normal_cg (CG on A^T A x = A^T b; A^T comes from the AD core by a vjp of the
// matvec, so the matvec must be written with Tensor operations), lu and cholesky (dense: A is formed column by
// column with n matvecs, then LAPACK's gesv / potrf through xtensor-blas; for small n).
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/array.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::implicit {

/// Options shared by the linear solvers.
struct SolveOptions {
  double tol = 1e-10;   ///< converged when ||b - (A + ridge I) x||_2 <= max(tol ||b||_2, atol)
  double atol = 0.0;    ///< absolute residual floor (see tol)
  int maxiter = -1;     ///< most matvecs of the iteration; -1: 10 n (n = total size of b)
  double ridge = 0.0;   ///< solve (A + ridge I) x = b (Tikhonov damping; for normal_cg: (A^T A + ridge I))
  int restart = 30;     ///< gmres: Krylov dimension before a restart
  /// Optional preconditioner v -> M^{-1} v on the flat view (tree::ravel order); used by cg, gmres, bicgstab.
  std::function<Array(const Array&)> preconditioner{};
};

/// What a linear solve reports.
struct SolveInfo {
  bool converged = false;  ///< the true residual is within the tolerance
  int iterations = 0;      ///< iterations (matvecs of the iteration; n for the dense methods)
  double residual = 0.0;   ///< ||b - (A + ridge I) x||_2 at the returned x (normal_cg: of the normal equations)
  double tolerance = 0.0;  ///< the threshold max(tol ||b||, atol) it was compared with
  std::string method;      ///< "cg", "gmres", ...
  /// An estimate of the smallest singular value of A + ridge I from what the solve built, from above (sharp once
  /// the solve has resolved the low end of the spectrum): cg, the smallest Ritz value of its Lanczos matrix;
  /// normal_cg, its square root (without a ridge); gmres, the smallest singular value of its Hessenberg matrices;
  /// lu and cholesky, exact from the dense matrix. NaN for bicgstab and with a preconditioner.
  double sigma_min = std::numeric_limits<double>::quiet_NaN();
  std::string message;     ///< why it stopped when not converged ("" otherwise)
};

/// A solution and its report: `auto [x, info] = cg(matvec, b);`.
template <class X>
struct LinearSolution {
  X x;
  SolveInfo info;
};

enum class Method { cg, gmres, bicgstab, normal_cg, lu, cholesky };
std::string to_string(Method m);

namespace detail {
using FlatMatvec = std::function<Array(const Array&)>;
/// The solvers on flat arrays. `rmatvec` (v -> A^T v) is needed by normal_cg only.
LinearSolution<Array> solve_flat(Method method, const FlatMatvec& matvec, const FlatMatvec& rmatvec, const Array& b,
                                 const Array& x0, const SolveOptions& opt);
}  // namespace detail

/// A linear solver: a method and its options. Callable on pytrees: `solver(matvec, b)` or `solver(matvec, b, init)`.
/// This is what implicit differentiation takes for its adjoint systems.
struct LinearSolver {

  Method method = Method::gmres;  ///< which method
  SolveOptions options{};         ///< its options

  template <class MV, class X>
  LinearSolution<X> operator()(const MV& matvec, const X& b) const {
    return (*this)(matvec, b, tree::map([](const auto& l) { return Array(xt::zeros<double>(tree::leaf_value(l).shape())); }, b));
  }

  template <class MV, class X, class I>
  LinearSolution<X> operator()(const MV& matvec, const X& b, const I& init) const {
    auto [bf, unravel] = tree::ravel(b);
    const Array x0 = tree::ravel(init).first;
    if (x0.size() != bf.size())
      throw ShapeError("xgrad::implicit::" + to_string(method) + ": the initial guess has " +
                       std::to_string(x0.size()) + " values, b has " + std::to_string(bf.size()));
    auto flat_of = [&](const auto& y) {
      Array f = tree::ravel(y).first;
      if (f.size() != bf.size())
        throw ShapeError("xgrad::implicit::" + to_string(method) + ": the matvec returned " +
                         std::to_string(f.size()) + " values for a b of " + std::to_string(bf.size()));
      return f;
    };
    detail::FlatMatvec mv = [&](const Array& v) { return flat_of(matvec(unravel(v))); };
    detail::FlatMatvec rmv;
    if (method == Method::normal_cg) {
      bool tensors = true;
      tree::for_each([&](const auto& l) { tensors = tensors && std::is_same_v<std::remove_cvref_t<decltype(l)>, Tensor>; }, b);
      if (!tensors)
        throw MisuseError("xgrad::implicit::normal_cg: b must be a pytree of Tensors and the matvec written with "
                          "Tensor operations (A^T v is the vjp of the matvec)");
      // A^T v: the pullback of the (linear) matvec, at zero.
      rmv = [&](const Array& v) {
        auto [y, pullback] = xgrad::vjp(matvec, unravel(Array(xt::zeros<double>({bf.size()}))));
        return tree::ravel(pullback(tree::ravel(y).second(v))).first;
      };
    }
    auto r = detail::solve_flat(method, mv, rmv, bf, x0, options);
    return {unravel(r.x), std::move(r.info)};
  }
};

/// Conjugate gradients, for symmetric positive definite A.
template <class MV, class X>
LinearSolution<X> cg(const MV& matvec, const X& b, const SolveOptions& opt = {}) {
  return LinearSolver{Method::cg, opt}(matvec, b);
}
/// Restarted GMRES, for any nonsingular A.
template <class MV, class X>
LinearSolution<X> gmres(const MV& matvec, const X& b, const SolveOptions& opt = {}) {
  return LinearSolver{Method::gmres, opt}(matvec, b);
}
/// BiCGSTAB, for any nonsingular A.
template <class MV, class X>
LinearSolution<X> bicgstab(const MV& matvec, const X& b, const SolveOptions& opt = {}) {
  return LinearSolver{Method::bicgstab, opt}(matvec, b);
}
/// CG on the normal equations A^T A x = A^T b (any A; the matvec must use Tensor operations).
template <class MV, class X>
LinearSolution<X> normal_cg(const MV& matvec, const X& b, const SolveOptions& opt = {}) {
  return LinearSolver{Method::normal_cg, opt}(matvec, b);
}
/// Dense LU (LAPACK gesv) on A formed with n matvecs.
template <class MV, class X>
LinearSolution<X> lu(const MV& matvec, const X& b, const SolveOptions& opt = {}) {
  return LinearSolver{Method::lu, opt}(matvec, b);
}
/// Dense Cholesky (LAPACK potrf) on A formed with n matvecs; A must be symmetric positive definite.
template <class MV, class X>
LinearSolution<X> cholesky(const MV& matvec, const X& b, const SolveOptions& opt = {}) {
  return LinearSolver{Method::cholesky, opt}(matvec, b);
}

}  // namespace xgrad::implicit
