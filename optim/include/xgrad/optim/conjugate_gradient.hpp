#pragma once
// The conjugate-gradient recursion on flat arrays (Hestenes-Stiefel; N&W Alg. 5.2 with a preconditioner), written
// once for its two users: NewtonCG's truncated inner solve of H d = -g (which stops at negative curvature and at
// its forcing tolerance) and the implicit module's CG and normal-equation CG (xgrad::implicit::solve, which wraps
// it in a restart from the true residual). It stops at the first of:
//   converged            the recursion's residual ||r||_2 <= threshold
//   negative_curvature   p^T A p <= 0 (A is not positive definite along p)
//   non_finite           p^T A p is NaN or infinite
//   max_iterations       `maxiter` matvecs
// and returns the iterate and residual then; x is not updated by the step that found p^T A p <= 0.
#include <functional>
#include <vector>

#include "xgrad/core/array.hpp"

namespace xgrad::optim {

/// A linear map on flat arrays: v -> A v.
using FlatLinearMap = std::function<Array(const Array&)>;

/// Why the CG recursion stopped (see the header comment).
enum class CGStop { converged, negative_curvature, non_finite, max_iterations };

/// What conjugate_gradient returns.
struct CGResult {
  Array x;           ///< the last iterate
  Array r;           ///< its residual b - A x, by the recursion
  double residual;   ///< ||r||_2 (the initial residual's norm when no step was taken)
  int iterations;    ///< matvecs done, including one that found p^T A p <= 0 or non-finite
  CGStop stop;       ///< why it stopped
  /// The recursion's step lengths alpha_j and ratios beta_j (r_{j+1}^T z_{j+1} / r_j^T z_j), one per completed
  /// step: the Lanczos tridiagonal matrix of the Krylov space follows from them (lanczos_min_eigenvalue).
  std::vector<double> alpha{}, beta{};
};

/// CG on A x = b from x with residual r = b - A x (given, so a zero start needs no matvec), preconditioned by
/// `precond` (v -> M^{-1} v; empty: none), at most `maxiter` matvecs.
CGResult conjugate_gradient(const FlatLinearMap& A, Array x, Array r, double threshold, int maxiter,
                            const FlatLinearMap& precond = {});

/// The smallest eigenvalue of the Lanczos tridiagonal matrix that CG's coefficients define (the smallest Ritz
/// value of A, or of M^{-1} A with a preconditioner, on the Krylov space): an estimate of lambda_min(A) from
/// above, sharp once CG has run long enough to resolve the lower end of the spectrum. NaN when no step completed.
double lanczos_min_eigenvalue(const std::vector<double>& alpha, const std::vector<double>& beta);

}  // namespace xgrad::optim
