#pragma once
// Linear algebra: dot, matmul, linear (x W + b), outer, and dense solve / cholesky with their adjoints
// (BLAS and LAPACK).
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
/// x solving A x = b, for square A (n, n) and b (n,) or (n, k); LU with partial pivoting (LAPACK dgesv).
/// A singular A throws ValueError. Adjoint: u = solve(A^T, g), dA = -u x^T, db = u.
Tensor solve(const Tensor& A, const Tensor& b);
/// Lower-triangular L with A = L L^T for symmetric positive definite A (LAPACK dpotrf); throws ValueError
/// otherwise. Only the lower triangle of A is read; the gradient returned is symmetric.
Tensor cholesky(const Tensor& A);

}  // namespace xgrad
