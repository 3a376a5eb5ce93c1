#include "xgrad/ad/linalg.hpp"

#include <cblas.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "value_cache.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/core/error.hpp"

extern "C" {
void dgesv_(const int* n, const int* nrhs, double* a, const int* lda, int* ipiv, double* b, const int* ldb, int* info);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dtrtrs_(const char* uplo, const char* trans, const char* diag, const int* n, const int* nrhs, const double* a,
             const int* lda, double* b, const int* ldb, int* info);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
             const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork, int* info);
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork,
             int* info);
void dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda, const double* tau, double* work,
             const int* lwork, int* info);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
}

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;

namespace {

// c (m, n) = op(a) op(b) + beta c on dense row-major slices (a stored (m, k), or (k, m) when ta; b likewise), for
// m, n, k > 0; the one place BLAS is called for matmul, 2-D and batched.
// Matrix-vector products go to gemv: dgemm would pack (copy) the whole matrix on every call.
inline void gemm_kernel(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a,
                        const double* b, double beta, double* c) {
  const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
  if (n == 1)
    cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, ta ? K : M, ta ? M : K, 1.0, a, ta ? M : K, b, 1,
                beta, c, 1);
  else if (m == 1)  // c^T = op(b)^T a^T
    cblas_dgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? N : K, tb ? K : N, 1.0, b, tb ? K : N, a, 1,
                beta, c, 1);
  else
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0, a,
                ta ? M : K, b, tb ? K : N, beta, c, N);
}

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
  if (m && n && k)
    gemm_kernel(ta, tb, m, n, k, a.value().data(), b.value().data(), 0.0, c->data());
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

// numpy broadcasting of batch shapes into `out`; false when they do not broadcast.
bool broadcast_batch(const Shape& x, const Shape& y, Shape& out) {
  const std::size_t r = std::max(x.size(), y.size());
  Shape s(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::size_t dx = i < r - x.size() ? 1 : x[i - (r - x.size())];
    const std::size_t dy = i < r - y.size() ? 1 : y[i - (r - y.size())];
    if (dx != dy && dx != 1 && dy != 1) return false;
    s[i] = dx == 1 ? dy : dx;
  }
  out = std::move(s);
  return true;
}

Shape batch_of(const Shape& s) { return {s.begin(), s.end() - 2}; }

// Element strides of an operand with batch shape `x` over the axes of the full batch `full` (x aligned right), for
// matrix slices of `slice` elements: 0 along broadcast axes, so a broadcast slice is indexed, never copied.
std::vector<std::size_t> batch_strides(const Shape& x, const Shape& full, std::size_t slice) {
  std::vector<std::size_t> st(full.size(), 0);
  for (std::size_t i = x.size(), step = slice; i-- > 0; step *= x[i])
    if (x[i] != 1) st[full.size() - x.size() + i] = step;
  return st;
}

// Batched op(a) @ op(b) for a, b of ndim >= 2 (leading axes are batch axes, broadcast as numpy does), summed down to
// the batch shape `target`: c[t] = sum of op(a)[i] op(b)[i] over the batch indices i that `target` broadcasts to t.
// matmul asks for target = the broadcast batch (no sum). The sum closes the op under differentiation, as gemm is:
// its rule is gemm's with each cotangent summed down to its operand's batch,
//   da = bmm(g, b, false, !tb, batch of a)   (G op(b)^T per batch element; the transposed variants as in gemm)
//   db = bmm(a, g, !ta, false, batch of b)   (op(a)^T G)
// so a broadcast operand's cotangent is accumulated slice by slice (gemm with beta = 1) straight into its own shape
// rather than materialised at the full batch and summed with sum_to. One gemm (or gemv) per batch element, or a
// single one when the batch folds into a matrix extent: a stacked (B m, k) against one shared b (x @ W over a
// batch), and sum_i a_i^T b_i = A^T B over stacked (B k, m) and (B k, n) slices (that product's weight gradient).
Tensor bmm(const Tensor& a, const Tensor& b, bool ta, bool tb, const Shape& target) {
  const auto& av = a.value();
  const auto& bv = b.value();
  const std::size_t ra = av.dimension(), rb = bv.dimension();
  const std::size_t m = av.shape()[ra - (ta ? 1 : 2)], k = av.shape()[ra - (ta ? 2 : 1)];
  const std::size_t kb = bv.shape()[rb - (tb ? 1 : 2)], n = bv.shape()[rb - (tb ? 2 : 1)];
  const Shape ba = batch_of(a.shape()), bb = batch_of(b.shape());
  Shape full;
  if (k != kb || !broadcast_batch(ba, bb, full) || !broadcast_batch(full, target, full)) {
    std::string msg = "xgrad::matmul: batched shapes ";
    msg += shape_str(a.shape());
    msg += ta ? "^T and " : " and ";
    msg += shape_str(b.shape());
    msg += tb ? "^T" : "";
    msg += " (to batch ";
    msg += shape_str(target);
    msg += ") do not match";
    throw ShapeError(msg);
  }
  Array::shape_type cs(target.begin(), target.end());
  cs.push_back(m);
  cs.push_back(n);
  auto c = ad::cache::take(cs);
  const std::size_t count = shape_size(full), na = shape_size(ba), nb = shape_size(bb), nc = shape_size(target);
  const double *A = av.data(), *B = bv.data();
  double* C = c->data();
  if (!count || !m || !n || !k) {
    std::fill(c->begin(), c->end(), 0.0);
  } else if (!ta && na == count && nb == 1 && nc == count) {  // every a slice against the one b: one tall product
    gemm_kernel(false, tb, count * m, n, k, A, B, 0.0, C);
  } else if (ta && !tb && na == count && nb == count && nc == 1) {  // sum_i a_i^T b_i: one deep product
    gemm_kernel(true, false, m, n, count * k, A, B, 0.0, C);
  } else {
    // Each output slice is written once (beta = 0), or accumulated into from zeros when target sums batch axes.
    const double beta = nc == count ? 0.0 : 1.0;
    if (nc != count) std::fill(c->begin(), c->end(), 0.0);
    const auto sa = batch_strides(ba, full, m * k), sb = batch_strides(bb, full, k * n);
    const auto sc = batch_strides(target, full, m * n);
    std::vector<std::size_t> idx(full.size(), 0);
    std::size_t oa = 0, ob = 0, oc = 0;
    for (std::size_t i = 0; i < count; ++i) {
      gemm_kernel(ta, tb, m, n, k, A + oa, B + ob, beta, C + oc);
      for (std::size_t d = full.size(); d-- > 0;) {  // next batch index, row-major
        oa += sa[d], ob += sb[d], oc += sc[d];
        if (++idx[d] < full[d]) break;
        oa -= sa[d] * full[d], ob -= sb[d] * full[d], oc -= sc[d] * full[d];
        idx[d] = 0;
      }
    }
  }
  std::vector<std::ptrdiff_t> ints{ta, tb};
  ints.insert(ints.end(), target.begin(), target.end());
  return make("batched_matmul", std::shared_ptr<const Array>(std::move(c)), {a, b},
              [](const Node& nd, const Tensor& g, Grads& d) {
                const bool ta = nd.ints()[0], tb = nd.ints()[1];
                const Tensor &a = nd.in(0), &b = nd.in(1);
                if (d.needs(0)) {
                  const Shape t = batch_of(a.shape());
                  d(0, ta ? bmm(b, g, tb, true, t) : bmm(g, b, false, !tb, t));
                }
                if (d.needs(1)) {
                  const Shape t = batch_of(b.shape());
                  d(1, tb ? bmm(g, a, true, ta, t) : bmm(a, g, !ta, false, t));
                }
              },
              {.ints = std::move(ints)});
}

// matmul with an operand of ndim > 2: 1-D operands promoted to matrices, the batch broadcast, the added axes dropped.
Tensor batched_matmul(const Tensor& a, const Tensor& b) {
  const Shape as = a.shape(), bs = b.shape();
  const Shape ba = as.size() > 2 ? batch_of(as) : Shape{}, bb = bs.size() > 2 ? batch_of(bs) : Shape{};
  const std::size_t k = as.back(), kb = bs.size() == 1 ? bs[0] : bs[bs.size() - 2];
  Shape full;
  const bool batch_ok = broadcast_batch(ba, bb, full);
  if (k != kb || !batch_ok) {
    std::string msg = "xgrad::matmul: shapes ";
    msg += shape_str(as);
    msg += " and ";
    msg += shape_str(bs);
    if (k != kb) {
      msg += " are not aligned (";
      msg += std::to_string(k);
      msg += " != ";
      msg += std::to_string(kb);
      msg += ")";
    } else {
      msg += ": batch dimensions ";
      msg += shape_str(ba);
      msg += " and ";
      msg += shape_str(bb);
      msg += " do not broadcast";
    }
    throw ShapeError(msg);
  }
  const Tensor c = bmm(as.size() == 1 ? reshape(a, {1, -1}) : a, bs.size() == 1 ? reshape(b, {-1, 1}) : b, false,
                       false, full);
  if (as.size() > 1 && bs.size() > 1) return c;
  std::vector<std::ptrdiff_t> s(full.begin(), full.end());
  if (as.size() > 1) s.push_back(static_cast<std::ptrdiff_t>(as[as.size() - 2]));
  if (bs.size() > 1) s.push_back(static_cast<std::ptrdiff_t>(bs.back()));
  return reshape(c, s);
}

std::vector<double> col_major(const Array& a) {  // row-major (r, c) -> column-major buffer
  const std::size_t r = a.shape()[0], c = a.dimension() > 1 ? a.shape()[1] : 1;
  std::vector<double> out(r * c);
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t j = 0; j < c; ++j) out[j * r + i] = a.data()[i * c + j];
  return out;
}

// The inverse of col_major: a column-major (shape[0], shape[1] or 1) buffer back into a row-major array.
Array row_major(const std::vector<double>& x, const Shape& shape) {
  Array v = Array::from_shape(shape);
  const std::size_t r = shape[0], c = shape.size() > 1 ? shape[1] : 1;
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t j = 0; j < c; ++j) v.data()[i * c + j] = x[j * r + i];
  return v;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.ndim() == 0 || b.ndim() == 0)
    throw ShapeError("xgrad::matmul: operands must be at least 1-D, got shapes " + shape_str(a.shape()) + " and " +
                     shape_str(b.shape()));
  if (a.ndim() > 2 || b.ndim() > 2) return batched_matmul(a, b);
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

Tensor linear(const Tensor& x, const Tensor& W, const Tensor& b) {
  if (W.ndim() != 2 || (x.ndim() != 1 && x.ndim() != 2) || b.ndim() != 1 || x.shape().back() != W.shape()[0] ||
      b.shape()[0] != W.shape()[1]) {
    std::string msg = "xgrad::linear: needs x (n, in) or (in,), W (in, out) and b (out,); got ";
    msg += shape_str(x.shape());
    msg += ", ";
    msg += shape_str(W.shape());
    msg += " and ";
    msg += shape_str(b.shape());
    throw ShapeError(msg);
  }
  if (x.ndim() == 1) return reshape(linear(reshape(x, {1, -1}), W, b), {-1});
  const std::size_t m = x.shape()[0], k = W.shape()[0], n = W.shape()[1];
  // The bias fills the rows, then gemm adds x W to them (beta = 1): no zeroing pass, no separate addition.
  auto c = ad::cache::take(Array::shape_type{m, n});
  for (std::size_t i = 0; i < m; ++i) std::copy(b.value().data(), b.value().data() + n, c->data() + i * n);
  if (m && n && k) gemm_kernel(false, false, m, n, k, x.value().data(), W.value().data(), 1.0, c->data());
  return make("linear", std::shared_ptr<const Array>(std::move(c)), {x, W, b},
              [](const Node& nd, const Tensor& g, Grads& d) {
                if (d.needs(0)) d(0, gemm(g, nd.in(1), false, true));  // g W^T
                if (d.needs(1)) d(1, gemm(nd.in(0), g, true, false));  // x^T g
                if (d.needs(2)) d(2, sum(g, {0}));
              });
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

namespace {

// numpy's stacks of matrices: the axes before the last two of a (..., m, n) tensor are batch axes, and an op of
// matrices applies to each matrix. The matrices are cut out and the results stacked back with ops, so the
// derivatives are those of the op on each matrix.
struct Stack {
  Shape batch;
  std::vector<Tensor> matrices;  // (m, n) each, in row-major order of the batch
};
Stack unstack(const Tensor& A, const char* op) {
  const Shape s = A.shape();
  Stack st{Shape(s.begin(), s.end() - 2), {}};
  const std::size_t count = shape_size(st.batch, op);
  if (count == 0)
    throw ShapeError(std::string("xgrad::") + op + ": an empty stack of matrices, shape " + shape_str(s));
  const auto m = static_cast<std::ptrdiff_t>(s[s.size() - 2]), n = static_cast<std::ptrdiff_t>(s.back());
  const Tensor flat = reshape(A, {static_cast<std::ptrdiff_t>(count), m, n});
  for (std::size_t i = 0; i < count; ++i) {
    const auto at = static_cast<std::ptrdiff_t>(i);
    st.matrices.push_back(reshape(slice(flat, 0, at, at + 1), {m, n}));
  }
  return st;
}
Tensor restack(const std::vector<Tensor>& parts, const Shape& batch) {
  std::vector<std::ptrdiff_t> s(batch.begin(), batch.end());
  for (const std::size_t e : parts.front().shape()) s.push_back(static_cast<std::ptrdiff_t>(e));
  return reshape(stack(parts, 0), s);
}
// f on each matrix of the stack A, for an op with N outputs (f returns them as a std::array): each output stacked.
template <std::size_t N, class F>
std::array<Tensor, N> per_matrix_parts(const Tensor& A, const char* op, F f) {
  const Stack st = unstack(A, op);
  std::array<std::vector<Tensor>, N> parts;
  for (const Tensor& a : st.matrices) {
    const std::array<Tensor, N> one = f(a);
    for (std::size_t k = 0; k < N; ++k) parts[k].push_back(one[k]);
  }
  std::array<Tensor, N> out;
  for (std::size_t k = 0; k < N; ++k) out[k] = restack(parts[k], st.batch);
  return out;
}
template <class F>
Tensor per_matrix(const Tensor& A, const char* op, F f) {
  return per_matrix_parts<1>(A, op, [&f](const Tensor& a) { return std::array<Tensor, 1>{f(a)}; })[0];
}
// A (..., n, n) against b (n,) (one vector for every matrix) or (..., n, k) (batch axes broadcast, as numpy >= 2).
template <class F>
Tensor per_system(const Tensor& A, const Tensor& b, const char* op, F f) {
  if (A.ndim() < 2 || b.ndim() < 1)
    throw ShapeError(std::string("xgrad::") + op + ": needs A (..., n, n) and b (n,) or (..., n, k); got " +
                     shape_str(A.shape()) + " and " + shape_str(b.shape()));
  if (b.ndim() == 1) return per_matrix(A, op, [&](const Tensor& a) { return f(a, b); });
  const Shape as = A.shape(), bs = b.shape();
  const Shape batch = broadcast_shapes(Shape(as.begin(), as.end() - 2), Shape(bs.begin(), bs.end() - 2), op);
  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), as.end() - 2, as.end());
  b_full.insert(b_full.end(), bs.end() - 2, bs.end());
  const Stack sa = unstack(broadcast_to(A, a_full), op), sb = unstack(broadcast_to(b, b_full), op);
  std::vector<Tensor> parts;
  for (std::size_t i = 0; i < sa.matrices.size(); ++i) parts.push_back(f(sa.matrices[i], sb.matrices[i]));
  return restack(parts, batch);
}
bool stacked(const Tensor& A) { return A.ndim() > 2; }
bool stacked(const Tensor& A, const Tensor& b) { return A.ndim() > 2 || b.ndim() > 2; }

}  // namespace

Tensor solve(const Tensor& A, const Tensor& b) {
  if (stacked(A, b)) return per_system(A, b, "solve", [](const Tensor& a, const Tensor& v) { return solve(a, v); });
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
  Array v = row_major(x, b.shape());
  return make("solve", std::move(v), {A, b}, [](const Node& nd, const Tensor& g, Grads& d) {
    const Tensor u = solve(transpose(nd.in(0)), g);
    if (d.needs(0)) d(0, nd.out().ndim() == 1 ? -outer(u, nd.out()) : -matmul(u, transpose(nd.out())));
    if (d.needs(1)) d(1, u);
  });
}

Tensor cholesky(const Tensor& A) {
  if (stacked(A)) return per_matrix(A, "cholesky", [](const Tensor& a) { return cholesky(a); });
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

namespace {

void check_square(const Tensor& A, const char* op) {
  if (A.ndim() != 2 || A.shape()[0] != A.shape()[1])
    throw ShapeError(std::string("xgrad::") + op + ": needs a square matrix (n,n), got shape " + shape_str(A.shape()));
}

Array eye(std::size_t n) { return xt::eye<double>(n); }

// The LU factors of a row-major square A, as LAPACK leaves them (column-major, so of A^T: the same determinant),
// and the parity of the row swaps.
struct Lu {
  std::vector<double> a;
  bool odd = false;
  bool singular = false;
};
Lu lu(const Array& A) {
  const int n = static_cast<int>(A.shape()[0]);
  Lu f{std::vector<double>(A.begin(), A.end())};
  std::vector<int> piv(static_cast<std::size_t>(n));
  int info = 0;
  if (n > 0) dgetrf_(&n, &n, f.a.data(), &n, piv.data(), &info);
  f.singular = info > 0;
  for (int i = 0; i < n; ++i) f.odd ^= piv[static_cast<std::size_t>(i)] != i + 1;
  return f;
}

}  // namespace

Tensor solve_triangular(const Tensor& A, const Tensor& b, bool lower) {
  if (stacked(A, b))
    return per_system(A, b, "solve_triangular",
                      [lower](const Tensor& a, const Tensor& v) { return solve_triangular(a, v, lower); });
  if (A.ndim() != 2 || A.shape()[0] != A.shape()[1] || (b.ndim() != 1 && b.ndim() != 2) ||
      b.shape()[0] != A.shape()[0])
    throw ShapeError("xgrad::solve_triangular: needs A of shape (n,n) and b of shape (n,) or (n,k); got " +
                     shape_str(A.shape()) + " and " + shape_str(b.shape()));
  const int n = static_cast<int>(A.shape()[0]);
  const int k = b.ndim() == 1 ? 1 : static_cast<int>(b.shape()[1]);
  // Row-major A read as column-major is A^T: solve (A^T)^T x = b, with A's lower triangle A^T's upper one.
  const char uplo = lower ? 'U' : 'L', trans = 'T', diag = 'N';
  std::vector<double> x = col_major(b.value());
  int info = 0;
  if (n > 0 && k > 0) dtrtrs_(&uplo, &trans, &diag, &n, &k, A.value().data(), &n, x.data(), &n, &info);
  if (info > 0)
    throw ValueError("xgrad::solve_triangular: the triangular matrix of shape " + shape_str(A.shape()) +
                     " has a zero at diagonal position " + std::to_string(info - 1));
  Array v = row_major(x, b.shape());
  return make("solve_triangular", std::move(v), {A, b},
              [](const Node& nd, const Tensor& g, Grads& d) {
                const bool low = nd.ints()[0] != 0;
                const Tensor u = solve_triangular(transpose(nd.in(0)), g, !low);
                if (d.needs(0)) {
                  const Tensor full = nd.out().ndim() == 1 ? outer(u, nd.out()) : matmul(u, transpose(nd.out()));
                  d(0, -(low ? tril(full) : triu(full)));
                }
                if (d.needs(1)) d(1, u);
              },
              {.ints = {lower ? 1 : 0}});
}

Tensor cho_solve(const Tensor& L, const Tensor& b) {
  if (stacked(L, b)) return per_system(L, b, "cho_solve", [](const Tensor& l, const Tensor& v) { return cho_solve(l, v); });
  return solve_triangular(transpose(L), solve_triangular(L, b, true), false);
}

Tensor inv(const Tensor& A) {
  if (stacked(A)) return per_matrix(A, "inv", [](const Tensor& a) { return inv(a); });
  check_square(A, "inv");
  return solve(A, Tensor(eye(A.shape()[0])));
}

Tensor det(const Tensor& A) {
  if (stacked(A)) return per_matrix(A, "det", [](const Tensor& a) { return det(a); });
  check_square(A, "det");
  const Lu f = lu(A.value());
  const std::size_t n = A.shape()[0];
  double v = f.odd ? -1.0 : 1.0;
  for (std::size_t i = 0; i < n; ++i) v *= f.a[i * n + i];
  return make("det", Array(v), {A}, [](const Node& nd, const Tensor& g, Grads& d) {
    d(0, g * nd.out() * transpose(inv(nd.in(0))));
  });
}

SlogDet slogdet(const Tensor& A) {
  if (stacked(A)) {
    const auto [sign, logabsdet] = per_matrix_parts<2>(A, "slogdet", [](const Tensor& a) {
      SlogDet one = slogdet(a);
      return std::array<Tensor, 2>{Tensor(one.sign), one.logabsdet};
    });
    return {sign.value(), logabsdet};
  }
  check_square(A, "slogdet");
  const Lu f = lu(A.value());
  const std::size_t n = A.shape()[0];
  double sign = f.odd ? -1.0 : 1.0, log_abs = 0.0;
  for (std::size_t i = 0; i < n && !f.singular; ++i) {
    const double u = f.a[i * n + i];
    sign *= u < 0 ? -1.0 : 1.0;
    log_abs += std::log(std::abs(u));
  }
  if (f.singular) {
    sign = 0.0;
    log_abs = -std::numeric_limits<double>::infinity();
  }
  Tensor l = make("slogdet", Array(log_abs), {A}, [](const Node& nd, const Tensor& g, Grads& d) {
    d(0, g * transpose(inv(nd.in(0))));
  });
  return {Array(sign), std::move(l)};
}

namespace {

// One node holding [w; V] as an (n + 1, n) array: row 0 the eigenvalues, rows 1..n the eigenvectors.
Tensor eigh_node(const Tensor& A) {
  const int n = static_cast<int>(A.shape()[0]);
  const auto un = static_cast<std::size_t>(n);
  // Row-major A read as column-major is A^T; A's lower triangle is its upper one. The eigenvectors come back as
  // the columns of a column-major matrix, that is as the rows of the row-major buffer: transpose them on the way.
  std::vector<double> a(A.value().begin(), A.value().end()), w(un);
  if (!std::all_of(a.begin(), a.end(), [](double v) { return std::isfinite(v); }))
    throw ValueError("xgrad::eigh: the matrix of shape " + shape_str(A.shape()) + " holds NaN or infinity");
  int info = 0;
  if (n > 0) {
    const char jobz = 'V', uplo = 'U';
    int lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0.0;
    dsyevd_(&jobz, &uplo, &n, a.data(), &n, w.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
    lwork = static_cast<int>(work_query);
    liwork = iwork_query;
    std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
    std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
    dsyevd_(&jobz, &uplo, &n, a.data(), &n, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  }
  if (info != 0)
    throw ValueError("xgrad::eigh: LAPACK dsyevd did not converge on the matrix of shape " + shape_str(A.shape()) +
                     " (info " + std::to_string(info) + ")");
  Array out = Array::from_shape({un + 1, un});
  for (std::size_t j = 0; j < un; ++j) out(0, j) = w[j];
  for (std::size_t i = 0; i < un; ++i)
    for (std::size_t j = 0; j < un; ++j) out(i + 1, j) = a[j * un + i];  // V(i, j): component i of vector j
  return make("eigh", std::move(out), {A}, [](const Node& nd, const Tensor& g, Grads& d) {
    const auto m = static_cast<std::ptrdiff_t>(nd.in(0).shape()[0]);
    const Tensor w = reshape(slice(nd.out(), 0, 0, 1), {m}), V = slice(nd.out(), 0, 1, m + 1);
    const Tensor gw = reshape(slice(g, 0, 0, 1), {m}), gV = slice(g, 0, 1, m + 1);
    const Tensor I(eye(static_cast<std::size_t>(m)));
    // F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it (the diagonal of the difference is shifted to 1 first, so no
    // 1/0 appears in any order of derivative).
    const Tensor diff = reshape(w, {1, m}) - reshape(w, {m, 1});
    const Tensor F = (1.0 - I) * reciprocal(diff + I);
    const Tensor inner = diag(gw) + F * matmul(transpose(V), gV);
    const Tensor gA = matmul(matmul(V, inner), transpose(V));
    d(0, 0.5 * (gA + transpose(gA)));
  });
}

}  // namespace

Eigh eigh(const Tensor& A) {
  if (stacked(A)) {
    const auto [w, V] = per_matrix_parts<2>(A, "eigh", [](const Tensor& a) {
      Eigh one = eigh(a);
      return std::array<Tensor, 2>{one.eigenvalues, one.eigenvectors};
    });
    return {w, V};
  }
  check_square(A, "eigh");
  const Tensor both = eigh_node(0.5 * (A + transpose(A)));
  const auto n = static_cast<std::ptrdiff_t>(A.shape()[0]);
  return {reshape(slice(both, 0, 0, 1), {n}), slice(both, 0, 1, n + 1)};
}

namespace {

void check_finite(const Array& a, const char* op) {
  if (!std::all_of(a.begin(), a.end(), [](double v) { return std::isfinite(v); }))
    throw ValueError(std::string("xgrad::") + op + ": the matrix of shape " + shape_str(shape_of(a)) +
                     " holds NaN or infinity");
}

// One node holding U, S and Vh flattened one after the other.
Tensor svd_node(const Tensor& A) {
  const std::size_t m = A.shape()[0], n = A.shape()[1], k = std::min(m, n);
  check_finite(A.value(), "svd");
  // Row-major A is column-major A^T (n x m). Its SVD A^T = U' S V'^T gives A = V' S U'^T, and the buffers come out
  // ready: vt' (k x m, column-major) read row-major is U (m x k); u' (n x k, column-major) read row-major is Vh.
  Array out = Array::from_shape({m * k + k + k * n});
  double* U = out.data();
  double* S = U + m * k;
  double* Vh = S + k;
  if (k > 0) {
    std::vector<double> a(A.value().begin(), A.value().end());
    const int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);
    const char jobz = 'S';
    std::vector<int> iwork(8 * k);
    int info = 0, lwork = -1;
    double query = 0.0;
    dgesdd_(&jobz, &M, &N, a.data(), &M, S, Vh, &M, U, &K, &query, &lwork, iwork.data(), &info);
    lwork = static_cast<int>(query);
    std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
    dgesdd_(&jobz, &M, &N, a.data(), &M, S, Vh, &M, U, &K, work.data(), &lwork, iwork.data(), &info);
    if (info != 0)
      throw ValueError("xgrad::svd: LAPACK dgesdd did not converge on the matrix of shape " + shape_str(A.shape()) +
                       " (info " + std::to_string(info) + ")");
  }
  return make("svd", std::move(out), {A}, [](const Node& nd, const Tensor& g, Grads& d) {
    const auto m = static_cast<std::ptrdiff_t>(nd.in(0).shape()[0]), n = static_cast<std::ptrdiff_t>(nd.in(0).shape()[1]);
    const std::ptrdiff_t k = std::min(m, n);
    auto parts = [&](const Tensor& t) {
      return std::array<Tensor, 3>{reshape(slice(t, 0, 0, m * k), {m, k}), slice(t, 0, m * k, m * k + k),
                                   reshape(slice(t, 0, m * k + k, m * k + k + k * n), {k, n})};
    };
    const auto [U, S, Vh] = parts(nd.out());
    const auto [gU, gS, gVh] = parts(g);
    const Tensor V = transpose(Vh), gV = transpose(gVh);
    const Tensor Ik(eye(static_cast<std::size_t>(k)));
    const Tensor s2 = square(S);
    // F_ij = 1 / (s_j^2 - s_i^2) off the diagonal (the diagonal shifted to 1 first: no 1/0 at any order).
    const Tensor F = (1.0 - Ik) * reciprocal(reshape(s2, {1, k}) - reshape(s2, {k, 1}) + Ik);
    const Tensor UtgU = matmul(transpose(U), gU), VtgV = matmul(transpose(V), gV);
    const Tensor Srow = reshape(S, {1, k}), Scol = reshape(S, {k, 1});
    Tensor inner = (F * (UtgU - transpose(UtgU))) * Srow + diag(gS) + Scol * (F * (VtgV - transpose(VtgV)));
    Tensor gA = matmul(matmul(U, inner), Vh);
    // The parts of gU and gV outside the spans of U and V (none when A is square: no 1/S then).
    if (m > k) {
      const Tensor outside = gU - matmul(U, UtgU);
      gA = gA + matmul(outside * reshape(reciprocal(S), {1, k}), Vh);
    }
    if (n > k) {
      const Tensor outside = gV - matmul(V, VtgV);
      gA = gA + matmul(U * reshape(reciprocal(S), {1, k}), transpose(outside));
    }
    d(0, gA);
  });
}

// Q (m x k) and R (k x n) of a reduced QR, as one node holding both flattened.
Tensor qr_node(const Tensor& A) {
  const std::size_t m = A.shape()[0], n = A.shape()[1], k = std::min(m, n);
  check_finite(A.value(), "qr");
  Array out = xt::zeros<double>({m * k + k * n});
  if (k > 0) {
    std::vector<double> a = col_major(A.value()), tau(k);
    const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
    int info = 0, lwork = -1;
    double query = 0.0;
    dgeqrf_(&M, &N, a.data(), &M, tau.data(), &query, &lwork, &info);
    lwork = std::max(static_cast<int>(query), 1);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    dgeqrf_(&M, &N, a.data(), &M, tau.data(), work.data(), &lwork, &info);
    double* R = out.data() + m * k;
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = i; j < n; ++j) R[i * n + j] = a[j * m + i];
    lwork = -1;
    dorgqr_(&M, &K, &K, a.data(), &M, tau.data(), &query, &lwork, &info);
    lwork = std::max(static_cast<int>(query), 1);
    work.resize(static_cast<std::size_t>(lwork));
    dorgqr_(&M, &K, &K, a.data(), &M, tau.data(), work.data(), &lwork, &info);
    double* Q = out.data();
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < k; ++j) Q[i * k + j] = a[j * m + i];
  }
  return make("qr", std::move(out), {A}, [](const Node& nd, const Tensor& g, Grads& d) {
    const auto m = static_cast<std::ptrdiff_t>(nd.in(0).shape()[0]), n = static_cast<std::ptrdiff_t>(nd.in(0).shape()[1]);
    if (m < n)
      throw ValueError("xgrad::qr: the derivative of a QR factorisation of a wide matrix (shape " +
                       shape_str(nd.in(0).shape()) + ") is not implemented");
    const std::ptrdiff_t k = n;
    const Tensor Q = reshape(slice(nd.out(), 0, 0, m * k), {m, k}), R = reshape(slice(nd.out(), 0, m * k, m * k + k * n), {k, n});
    const Tensor gQ = reshape(slice(g, 0, 0, m * k), {m, k}), gR = reshape(slice(g, 0, m * k, m * k + k * n), {k, n});
    // M = R gR^T - gQ^T Q; gA = (gQ + Q copyltu(M)) R^{-T}, copyltu(M) = tril(M) + tril(M, -1)^T.
    const Tensor M = matmul(R, transpose(gR)) - matmul(transpose(gQ), Q);
    const Tensor C = tril(M) + transpose(tril(M, -1));
    const Tensor X = gQ + matmul(Q, C);
    d(0, transpose(solve_triangular(R, transpose(X), false)));
  });
}

}  // namespace

Svd svd(const Tensor& A) {
  if (stacked(A)) {
    const auto [U, S, Vh] = per_matrix_parts<3>(A, "svd", [](const Tensor& a) {
      Svd one = svd(a);
      return std::array<Tensor, 3>{one.U, one.S, one.Vh};
    });
    return {U, S, Vh};
  }
  if (A.ndim() != 2) throw ShapeError("xgrad::svd: needs a matrix (m,n), got shape " + shape_str(A.shape()));
  const Tensor both = svd_node(A);
  const auto m = static_cast<std::ptrdiff_t>(A.shape()[0]), n = static_cast<std::ptrdiff_t>(A.shape()[1]);
  const std::ptrdiff_t k = std::min(m, n);
  return {reshape(slice(both, 0, 0, m * k), {m, k}), slice(both, 0, m * k, m * k + k),
          reshape(slice(both, 0, m * k + k, m * k + k + k * n), {k, n})};
}

Qr qr(const Tensor& A) {
  if (stacked(A)) {
    const auto [Q, R] = per_matrix_parts<2>(A, "qr", [](const Tensor& a) {
      Qr one = qr(a);
      return std::array<Tensor, 2>{one.Q, one.R};
    });
    return {Q, R};
  }
  if (A.ndim() != 2) throw ShapeError("xgrad::qr: needs a matrix (m,n), got shape " + shape_str(A.shape()));
  const Tensor both = qr_node(A);
  const auto m = static_cast<std::ptrdiff_t>(A.shape()[0]), n = static_cast<std::ptrdiff_t>(A.shape()[1]);
  const std::ptrdiff_t k = std::min(m, n);
  return {reshape(slice(both, 0, 0, m * k), {m, k}), reshape(slice(both, 0, m * k, m * k + k * n), {k, n})};
}

Lstsq lstsq(const Tensor& A, const Tensor& b, double rcond) {
  if (A.ndim() != 2 || (b.ndim() != 1 && b.ndim() != 2) || b.shape()[0] != A.shape()[0])
    throw ShapeError("xgrad::lstsq: needs A of shape (m,n) and b of shape (m,) or (m,k); got " + shape_str(A.shape()) +
                     " and " + shape_str(b.shape()));
  const auto [U, S, Vh] = svd(A);
  const std::size_t k = S.size();
  if (rcond < 0) rcond = std::numeric_limits<double>::epsilon() * static_cast<double>(std::max(A.shape()[0], A.shape()[1]));
  const double cutoff = k ? rcond * S.value()(0) : 0.0;
  std::size_t rank = 0;
  Array keep = xt::zeros<double>({k});
  for (std::size_t i = 0; i < k; ++i)
    if (S.value()(i) > cutoff) keep(i) = 1.0, ++rank;
  // 1/s where kept, 0 elsewhere (the dropped ones shifted to 1 before the reciprocal: no 1/0 at any order).
  const Tensor inv_s = Tensor(keep) * reciprocal(S + Tensor(Array(1.0 - keep)));
  const Tensor Utb = matmul(transpose(U), b);
  const Tensor scaled = b.ndim() == 1 ? inv_s * Utb : reshape(inv_s, {static_cast<std::ptrdiff_t>(k), 1}) * Utb;
  return {matmul(transpose(Vh), scaled), rank, S};
}

Tensor matrix_norm(const Tensor& A, const std::string& ord) {
  if (stacked(A)) return per_matrix(A, "matrix_norm", [&ord](const Tensor& a) { return matrix_norm(a, ord); });
  if (A.ndim() != 2) throw ShapeError("xgrad::matrix_norm: needs a matrix (m,n), got shape " + shape_str(A.shape()));
  if (ord == "fro") return norm(A);
  if (ord == "nuc") return sum(svd(A).S);
  if (ord == "2") return max(svd(A).S);
  if (ord == "-2") return min(svd(A).S);
  if (ord == "1") return max(sum(abs(A), {0}));
  if (ord == "-1") return min(sum(abs(A), {0}));
  if (ord == "inf") return max(sum(abs(A), {1}));
  if (ord == "-inf") return min(sum(abs(A), {1}));
  throw ValueError("xgrad::matrix_norm: ord \"" + ord + "\" is not one of fro, nuc, 2, -2, 1, -1, inf, -inf");
}

}  // namespace xgrad
