#include "xgrad/ad/linalg.hpp"

#include <cblas.h>

#include <algorithm>

#include "value_cache.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/core/error.hpp"

extern "C" {
void dgesv_(const int* n, const int* nrhs, double* a, const int* lda, int* ipiv, double* b, const int* ldb, int* info);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
}

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;

namespace {

// op(a) @ op(b) for 2-D a, b, where op transposes when asked. Rule (with C = op(a) op(b), G its cotangent):
//   da = G op(b)^T        (or its transpose, op(b) G^T, when a enters transposed)
//   db = op(a)^T G        (or G^T op(a) when b enters transposed)
// each again one gemm with flags.
Tensor gemm(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const auto& as = a.value().shape();
  const auto& bs = b.value().shape();
  const std::size_t m = ta ? as[1] : as[0], k = ta ? as[0] : as[1];
  const std::size_t kb = tb ? bs[1] : bs[0], n = tb ? bs[0] : bs[1];
  if (k != kb)
    throw ShapeError("xgrad::matmul: shapes " + shape_str(a.shape()) + (ta ? "^T" : "") + " and " +
                     shape_str(b.shape()) + (tb ? "^T" : "") + " are not aligned (" + std::to_string(k) +
                     " != " + std::to_string(kb) + ")");
  // Allocated in place and not zeroed: gemm with beta = 0 writes every element (only k = 0 needs the zeros).
  auto c = ad::cache::take(Array::shape_type{m, n});
  // Matrix-vector products go to gemv: dgemm would pack (copy) the whole matrix on every call.
  if (n == 1 && m && k)
    cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, static_cast<int>(as[0]), static_cast<int>(as[1]), 1.0,
                a.value().data(), static_cast<int>(as[1]), b.value().data(), 1, 0.0, c->data(), 1);
  else if (m == 1 && n && k)  // c^T = op(b)^T a^T
    cblas_dgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, static_cast<int>(bs[0]), static_cast<int>(bs[1]), 1.0,
                b.value().data(), static_cast<int>(bs[1]), a.value().data(), 1, 0.0, c->data(), 1);
  else if (m && n && k)
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), 1.0, a.value().data(), static_cast<int>(as[1]),
                b.value().data(), static_cast<int>(bs[1]), 0.0, c->data(), static_cast<int>(n));
  else
    std::fill(c->begin(), c->end(), 0.0);
  return make("matmul", std::shared_ptr<const Array>(std::move(c)), {a, b},
              [](const Node& n, const Tensor& g, Grads& d) {
                const bool ta = n.ints()[0], tb = n.ints()[1];
                const Tensor &a = n.in(0), &b = n.in(1);
                if (d.needs(0)) d(0, ta ? gemm(b, g, tb, true) : gemm(g, b, false, !tb));
                if (d.needs(1)) d(1, tb ? gemm(g, a, true, ta) : gemm(a, g, !ta, false));
              },
              {.ints = {ta, tb}});
}

std::vector<double> col_major(const Array& a) {  // row-major (r, c) -> column-major buffer
  const std::size_t r = a.shape()[0], c = a.dimension() > 1 ? a.shape()[1] : 1;
  std::vector<double> out(r * c);
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t j = 0; j < c; ++j) out[j * r + i] = a.data()[i * c + j];
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.ndim() == 0 || b.ndim() == 0 || a.ndim() > 2 || b.ndim() > 2)
    throw ShapeError("xgrad::matmul: operands must be 1-D or 2-D, got shapes " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()));
  const Tensor a2 = a.ndim() == 1 ? reshape(a, {1, -1}) : a;
  const Tensor b2 = b.ndim() == 1 ? reshape(b, {-1, 1}) : b;
  if (a2.shape()[1] != b2.shape()[0])
    throw ShapeError("xgrad::matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                     " are not aligned");
  Tensor c = gemm(a2, b2, false, false);
  if (a.ndim() == 1 && b.ndim() == 1) return reshape(c, {});
  if (a.ndim() == 1) return reshape(c, {-1});
  if (b.ndim() == 1) return reshape(c, {-1});
  return c;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  if (a.ndim() == 0 || b.ndim() == 0) return a * b;
  if (a.ndim() > 2 || b.ndim() > 2)
    throw ShapeError("xgrad::dot: operands must be at most 2-D, got shapes " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()));
  if (a.shape().back() != b.shape()[0])
    throw ShapeError("xgrad::dot: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                     " are not aligned");
  return matmul(a, b);
}

Tensor outer(const Tensor& a, const Tensor& b) { return reshape(a, {-1, 1}) * reshape(b, {1, -1}); }

Tensor solve(const Tensor& A, const Tensor& b) {
  if (A.ndim() != 2 || A.shape()[0] != A.shape()[1] || (b.ndim() != 1 && b.ndim() != 2) ||
      b.shape()[0] != A.shape()[0])
    throw ShapeError("xgrad::solve: needs A of shape (n,n) and b of shape (n,) or (n,k); got " +
                     shape_str(A.shape()) + " and " + shape_str(b.shape()));
  const int n = static_cast<int>(A.shape()[0]);
  const int k = b.ndim() == 1 ? 1 : static_cast<int>(b.shape()[1]);
  std::vector<double> a = col_major(A.value()), x = col_major(b.value());
  std::vector<int> piv(static_cast<std::size_t>(n));
  int info = 0;
  if (n > 0 && k > 0) dgesv_(&n, &k, a.data(), &n, piv.data(), x.data(), &n, &info);
  if (info > 0) throw ValueError("xgrad::solve: the matrix of shape " + shape_str(A.shape()) + " is singular");
  Array v = Array::from_shape(b.shape());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) v.data()[i * k + j] = x[static_cast<std::size_t>(j * n + i)];
  return make("solve", std::move(v), {A, b}, [](const Node& nd, const Tensor& g, Grads& d) {
    const Tensor u = solve(transpose(nd.in(0)), g);
    if (d.needs(0)) d(0, nd.out().ndim() == 1 ? -outer(u, nd.out()) : -matmul(u, transpose(nd.out())));
    if (d.needs(1)) d(1, u);
  });
}

Tensor cholesky(const Tensor& A) {
  if (A.ndim() != 2 || A.shape()[0] != A.shape()[1])
    throw ShapeError("xgrad::cholesky: needs a square matrix, got shape " + shape_str(A.shape()));
  const int n = static_cast<int>(A.shape()[0]);
  // Row-major A read as column-major is A^T; its 'U' factor read back row-major is the lower L of A's lower part.
  Array L = A.value();
  int info = 0;
  const char uplo = 'U';
  if (n > 0) dpotrf_(&uplo, &n, L.data(), &n, &info);
  if (info != 0)
    throw ValueError("xgrad::cholesky: the matrix of shape " + shape_str(A.shape()) +
                     " is not positive definite (leading minor " + std::to_string(info) + ")");
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) L(i, j) = 0.0;
  return make("cholesky", std::move(L), {A}, [](const Node& nd, const Tensor& g, Grads& d) {
    // gA = sym(L^{-T} Phi(L^T gL) L^{-1}), Phi = lower triangle with the diagonal halved (Murray 2016).
    const Tensor& L = nd.out();
    const std::size_t m = L.shape()[0];
    Array phi = Array::from_shape({m, m});
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < m; ++j) phi(i, j) = i > j ? 1.0 : (i == j ? 0.5 : 0.0);
    const Tensor P = matmul(transpose(L), g) * Tensor(phi);
    const Tensor X = solve(transpose(L), P);               // L^{-T} P
    const Tensor S = transpose(solve(transpose(L), transpose(X)));  // X L^{-1}
    d(0, 0.5 * (S + transpose(S)));
  });
}

}  // namespace xgrad
