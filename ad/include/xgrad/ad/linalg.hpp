#pragma once
// Linear algebra: dot, matmul, linear (x W + b), outer, tensordot, einsum; dense solve, solve_triangular, cho_solve,
// inv, det, slogdet, cholesky, eigh, svd, qr, lstsq and matrix_norm with their adjoints (BLAS and LAPACK). Every adjoint is written with these ops, so derivatives
// of any order compose.
//
// Stacks of matrices, as numpy: solve, solve_triangular, cho_solve, inv, det, slogdet, cholesky, eigh, svd, qr and
// matrix_norm also take A of shape (..., m, n), whose leading axes are batch axes (the results gain them in front);
// the right-hand side b of the solves is then (n,), one vector for every matrix, or (..., n, k), its batch axes
// broadcast against A's (numpy >= 2). Each matrix is cut out and solved on its own (one LAPACK call each); an empty
// stack throws ShapeError. lstsq takes one matrix, as numpy.
#include <cstddef>
#include <string>
#include <vector>

#include "xgrad/ad/tensor.hpp"

namespace xgrad {

/// numpy.matmul. A 1-D operand is a row on the left, a column on the right (the added axis is dropped from the
/// result); with an operand of ndim > 2, the leading axes are batch axes, broadcast as numpy does:
/// (2,1,3,4) @ (5,4,6) -> (2,5,3,6). 0-d operands, misaligned inner extents and batch axes that do not broadcast
/// throw ShapeError. Forward and adjoints are gemm calls with transpose flags (one per batch element, or one in all
/// when the batch folds into a matrix extent, as for (B,m,k) @ (k,n)); no transpose and no broadcast is copied,
/// and a broadcast operand's cotangent is accumulated straight into its own shape.
Tensor matmul(const Tensor& a, const Tensor& b);
/// x @ W + b, a dense layer: x of shape (n, in) or (in,), W (in, out) (JAX's layout; torch.nn.functional.linear
/// takes W transposed), b (out,). The same as matmul(x, W) + b, in one gemm that accumulates onto the bias
/// (one pass over the output less). Adjoints: dx = g W^T, dW = x^T g (gemm with flags), db = the column sums of g.
Tensor linear(const Tensor& x, const Tensor& W, const Tensor& b);
/// numpy.dot: inner product of 1-D operands (a 0-d result), matmul otherwise; a 0-d operand scales.
Tensor dot(const Tensor& a, const Tensor& b);
/// Outer product of the flattened operands: shape (a.size(), b.size()).
Tensor outer(const Tensor& a, const Tensor& b);
/// numpy.tensordot: the sum over the last `axes` axes of a against the first `axes` of b, or over the given pairs
/// of axes; the result has a's other axes, then b's. One gemm after transposing and reshaping (ad/src/einsum.cpp).
Tensor tensordot(const Tensor& a, const Tensor& b, std::size_t axes = 2);
Tensor tensordot(const Tensor& a, const Tensor& b, const std::vector<std::ptrdiff_t>& axes_a,
                 const std::vector<std::ptrdiff_t>& axes_b);
/// numpy.einsum for one or two operands, with explicit ("ij,jk->ik") or implicit ("ij,jk": the letters that appear
/// once, in alphabetical order) output. Planned into BLAS: a letter repeated within an operand takes a diagonal,
/// a letter in one operand only and not in the output is summed first, and the rest is one matmul, batched over
/// the letters in both operands and the output, contracting those in both and not in the output. No ellipsis; a
/// letter may not repeat in the output. Bad subscripts throw ValueError, mismatched extents ShapeError.
Tensor einsum(const std::string& subscripts, const Tensor& a);
Tensor einsum(const std::string& subscripts, const Tensor& a, const Tensor& b);
/// x solving A x = b, for square A (n, n) and b (n,) or (n, k); LU with partial pivoting (LAPACK dgesv).
/// A singular A throws ValueError. Adjoint: u = solve(A^T, g), dA = -u x^T, db = u.
Tensor solve(const Tensor& A, const Tensor& b);
/// Lower-triangular L with A = L L^T for symmetric positive definite A (LAPACK dpotrf); throws ValueError
/// otherwise. Only the lower triangle of A is read; the gradient returned is symmetric.
Tensor cholesky(const Tensor& A);

/// x solving A x = b for triangular A (jax.scipy.linalg.solve_triangular): only the lower (lower = true) or upper
/// triangle of A is read, so only it gets a derivative. b is (n,) or (n, k). A zero on the diagonal throws
/// ValueError. Adjoint: u = solve_triangular(A^T, g, !lower), dA = -tril(u x^T) (or triu), db = u.
Tensor solve_triangular(const Tensor& A, const Tensor& b, bool lower = false);
/// x solving L L^T x = b from the factor L = cholesky(A) (scipy.linalg.cho_solve with lower = True): two triangular
/// solves.
Tensor cho_solve(const Tensor& L, const Tensor& b);
/// numpy.linalg.inv: solve(A, I). A singular A throws ValueError.
Tensor inv(const Tensor& A);
/// numpy.linalg.det, from an LU factorisation (LAPACK dgetrf). Adjoint: g det(A) A^{-T}; at a singular A the
/// derivative throws ValueError (the adjugate is not computed).
Tensor det(const Tensor& A);
/// numpy.linalg.slogdet: the sign (a value: -1, 0 or 1) and log |det A| (differentiable: its adjoint is g A^{-T}).
/// A singular A gives sign 0 and -inf, as numpy.
struct SlogDet {
  Array sign;
  Tensor logabsdet;
};
SlogDet slogdet(const Tensor& A);
/// numpy.linalg.eigh: eigenvalues (ascending) and eigenvectors (the columns of `eigenvectors`) of a symmetric A
/// (LAPACK dsyevd), taken of (A + A^T) / 2 as JAX's symmetrize_input, so the derivative is symmetric and a
/// perturbation of one element counts half in each triangle. Each eigenvector's sign is LAPACK's. Adjoint (Seeger
/// et al. 2017): dA = V (diag(gw) + F o (V^T gV)) V^T, symmetrised, with F_ij = 1 / (w_j - w_i) off the diagonal:
/// it is infinite at repeated eigenvalues, where the eigenvectors are not unique (as in JAX, the derivative is then
/// not finite unless the loss does not depend on the choice of basis).
struct Eigh {
  Tensor eigenvalues, eigenvectors;
};
Eigh eigh(const Tensor& A);
/// numpy.linalg.svd(A, full_matrices=False): A (m, n) = U diag(S) Vh with U (m, k), S (k,) descending, Vh (k, n),
/// k = min(m, n) (LAPACK dgesdd). Adjoint of Townsend 2016, written with ops: F_ij = 1 / (s_j^2 - s_i^2) off the
/// diagonal is infinite at repeated singular values, and 1/s at a zero one, where U and V are not unique; the
/// derivative of S alone is finite everywhere it is of A's (distinct or not: the F terms then vanish).
struct Svd {
  Tensor U, S, Vh;
};
Svd svd(const Tensor& A);
/// numpy.linalg.qr(A, mode="reduced"): A (m, n) = Q R with Q (m, k) orthonormal columns and R (k, n) upper
/// triangular, k = min(m, n) (LAPACK dgeqrf, dorgqr; signs as LAPACK's). Differentiable for m >= n and full rank
/// (Walter and Lehmann 2018); the derivative for m < n throws ValueError.
struct Qr {
  Tensor Q, R;
};
Qr qr(const Tensor& A);
/// numpy.linalg.lstsq: the x of least norm that minimises ||A x - b||, for b (m,) or (m, k), through the SVD:
/// singular values at most rcond * max(S) count as zero (rcond < 0: machine epsilon times max(m, n), numpy's
/// default). Also the rank and the singular values. Differentiable where the rank does not change.
struct Lstsq {
  Tensor x;
  std::size_t rank = 0;
  Tensor singular_values;
};
Lstsq lstsq(const Tensor& A, const Tensor& b, double rcond = -1.0);
/// numpy.linalg.matrix_norm: "fro" (Frobenius), "nuc" (the sum of singular values), "2" / "-2" (the largest /
/// smallest singular value), "1" / "-1" (the largest / smallest column sum of |A|), "inf" / "-inf" (the same over
/// rows). Any other ord throws ValueError.
Tensor matrix_norm(const Tensor& A, const std::string& ord = "fro");

}  // namespace xgrad
