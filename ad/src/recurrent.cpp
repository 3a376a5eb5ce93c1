// The fused LSTM step: forward and backward rule together.
//
// Sigmoids are computed as (1 + tanh(a / 2)) / 2, so that one vectorised tanh (vmath) serves all four gates of a row.
// The node keeps the activated gates (in Extra::data) for its rule; the rule recomputes tanh(c') (H per row) rather
// than keep it.
#include "xgrad/ad/recurrent.hpp"

#include <cblas.h>

#include <string>
#include <vector>

#include "kernels.hpp"
#include "vmath.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/linalg.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;

namespace {

struct Dims {
  std::size_t N, H, I, X;  // rows, hidden units, inputs read, columns of x
};
Dims dims(const Node& n) {
  const std::size_t H = n.in(1).shape()[1] / 2;
  return {n.in(1).shape()[0], H, n.in(2).shape()[0] - H, n.in(0).shape()[1]};
}

// c (m, n; row stride ldc) = op(a) op(b) + beta c, row-major with explicit strides; nothing to do when a dimension
// is empty.
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, std::size_t lda,
          const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
  if (!m || !n) return;
  if (!k) {
    for (std::size_t r = 0; r < m; ++r)
      for (std::size_t j = 0; j < n; ++j) c[r * ldc + j] = beta == 0.0 ? 0.0 : beta * c[r * ldc + j];
    return;
  }
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
              1.0, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

// The traced rule: the same cotangents with Tensor ops (recorded when an outer transform is alive).
void traced_rule(const Node& n, const Tensor& G, Grads& d) {
  const auto [N, H, I, X] = dims(n);
  const auto h_ = static_cast<std::ptrdiff_t>(H), i_ = static_cast<std::ptrdiff_t>(I);
  const Tensor &x = n.in(0), &hc = n.in(1), &w = n.in(2), &b = n.in(3);
  const Tensor xi = X == I ? x : slice(x, 1, 0, i_), h = slice(hc, 1, 0, h_), c = slice(hc, 1, h_, 2 * h_);
  const Tensor wx = slice(w, 0, 0, i_), wh = slice(w, 0, i_, i_ + h_);
  const Tensor z = matmul(xi, wx) + matmul(h, wh) + b;
  const Tensor ig = sigmoid(slice(z, 1, 0, h_)), fg = sigmoid(slice(z, 1, h_, 2 * h_)),
               gg = tanh(slice(z, 1, 2 * h_, 3 * h_)), og = sigmoid(slice(z, 1, 3 * h_, 4 * h_));
  const Tensor t = tanh(fg * c + ig * gg);
  const Tensor dh = slice(G, 1, 0, h_), dc = slice(G, 1, h_, 2 * h_) + dh * og * (1.0 - square(t));
  const Tensor dz = concatenate({dc * gg * ig * (1.0 - ig), dc * c * fg * (1.0 - fg), dc * ig * (1.0 - square(gg)),
                                 dh * t * og * (1.0 - og)}, 1);
  if (d.needs(0)) {
    const Tensor dxi = matmul(dz, transpose(wx));
    d(0, X == I ? dxi : concatenate({dxi, Tensor(Array(xt::zeros<double>({N, X - I})))}, 1));
  }
  if (d.needs(1)) d(1, concatenate({matmul(dz, transpose(wh)), dc * fg}, 1));
  if (d.needs(2)) d(2, concatenate({matmul(transpose(xi), dz), matmul(transpose(h), dz)}, 0));
  if (d.needs(3)) d(3, sum(dz, {0}));
}

// G = [dh' | dc'] (N, 2H). With t = tanh(c'):
//   dc = dc' + dh' o (1 - t^2);  dz = [dc g i(1-i), dc c f(1-f), dc i (1-g^2), dh' t o(1-o)]
//   d[h | c] = [dz w[I:]^T | dc f],  dx[:, :I] = dz w[:I]^T,  dw = [x[:, :I] ; h]^T dz,  db = sum_rows dz.
void rule(const Node& n, const Tensor& G, Grads& d) {
  if (d.recording()) return traced_rule(n, G, d);
  const auto [N, H, I, X] = dims(n);
  const Array &x = n.in(0).value(), &hc = n.in(1).value(), &w = n.in(2).value(), &out = n.out().value();
  const Array& act = *static_cast<const Array*>(n.extra.data.get());
  const Array& g = G.value();
  auto dz_ = kernels::alloc(Array::shape_type{N, 4 * H});
  Array& dz = *dz_;
  auto dhc = kernels::alloc(hc.shape());
  std::vector<double> t(H);
  for (std::size_t r = 0; r < N; ++r) {
    const double *a = act.data() + r * 4 * H, *gr = g.data() + r * 2 * H, *c = hc.data() + r * 2 * H + H;
    double *dzr = dz.data() + r * 4 * H, *dcr = dhc->data() + r * 2 * H + H;
    vmath::tanh(out.data() + r * 2 * H + H, t.data(), H);
    for (std::size_t j = 0; j < H; ++j) {
      const double i = a[j], f = a[H + j], gg = a[2 * H + j], o = a[3 * H + j], dh = gr[j];
      const double dc = gr[H + j] + dh * o * (1 - t[j] * t[j]);
      dzr[j] = dc * gg * i * (1 - i);
      dzr[H + j] = dc * c[j] * f * (1 - f);
      dzr[2 * H + j] = dc * i * (1 - gg * gg);
      dzr[3 * H + j] = dh * t[j] * o * (1 - o);
      dcr[j] = dc * f;
    }
  }
  if (d.needs(0)) {
    auto dx = kernels::alloc(x.shape());
    if (X > I)
      for (std::size_t r = 0; r < N; ++r)
        for (std::size_t j = I; j < X; ++j) (*dx)(r, j) = 0.0;
    gemm(false, true, N, I, 4 * H, dz.data(), 4 * H, w.data(), 4 * H, 0.0, dx->data(), X);
    d(0, Tensor(std::shared_ptr<const Array>(std::move(dx))));
  }
  if (d.needs(1)) {
    gemm(false, true, N, H, 4 * H, dz.data(), 4 * H, w.data() + I * 4 * H, 4 * H, 0.0, dhc->data(), 2 * H);
    d(1, Tensor(std::shared_ptr<const Array>(std::move(dhc))));
  }
  if (d.needs(2)) {
    auto dw = kernels::alloc(w.shape());
    gemm(true, false, I, 4 * H, N, x.data(), X, dz.data(), 4 * H, 0.0, dw->data(), 4 * H);
    gemm(true, false, H, 4 * H, N, hc.data(), 2 * H, dz.data(), 4 * H, 0.0, dw->data() + I * 4 * H, 4 * H);
    d(2, Tensor(std::shared_ptr<const Array>(std::move(dw))));
  }
  if (d.needs(3)) {
    auto db = kernels::alloc(Array::shape_type{4 * H});
    std::fill(db->begin(), db->end(), 0.0);
    for (std::size_t r = 0; r < N; ++r)
      for (std::size_t j = 0; j < 4 * H; ++j) (*db)(j) += dz(r, j);
    d(3, Tensor(std::shared_ptr<const Array>(std::move(db))));
  }
}

}  // namespace

Tensor lstm_cell(const Tensor& x, const Tensor& hc, const Tensor& w, const Tensor& b) {
  const bool ok = hc.ndim() == 2 && hc.shape()[1] % 2 == 0 && w.ndim() == 2 && b.ndim() == 1 && x.ndim() == 2 &&
                  x.shape()[0] == hc.shape()[0] && w.shape()[1] == 2 * hc.shape()[1] &&
                  w.shape()[0] >= hc.shape()[1] / 2 && x.shape()[1] + hc.shape()[1] / 2 >= w.shape()[0] &&
                  b.shape()[0] == w.shape()[1];
  if (!ok)
    throw ShapeError("xgrad::lstm_cell: expected x (N, >= I), hc (N, 2H), w (I + H, 4H) and b (4H), got x " +
                     shape_str(x.shape()) + ", hc " + shape_str(hc.shape()) + ", w " + shape_str(w.shape()) +
                     " and b " + shape_str(b.shape()));
  const std::size_t N = hc.shape()[0], H = hc.shape()[1] / 2, I = w.shape()[0] - H, X = x.shape()[1];
  const double *xv = x.value().data(), *hv = hc.value().data(), *wv = w.value().data(), *bv = b.value().data();
  // z = b + x[:, :I] w[:I] + h w[I:], then activated in place: act = [sigmoid z_i, sigmoid z_f, tanh z_g, sigmoid z_o].
  auto act = kernels::alloc(Array::shape_type{N, 4 * H});
  double* z = act->data();
  for (std::size_t r = 0; r < N; ++r) std::copy(bv, bv + 4 * H, z + r * 4 * H);
  gemm(false, false, N, 4 * H, I, xv, X, wv, 4 * H, 1.0, z, 4 * H);
  gemm(false, false, N, 4 * H, H, hv, 2 * H, wv + I * 4 * H, 4 * H, 1.0, z, 4 * H);
  auto out = kernels::alloc(hc.value().shape());
  for (std::size_t r = 0; r < N; ++r) {
    double* a = z + r * 4 * H;
    for (std::size_t j = 0; j < 2 * H; ++j) a[j] *= 0.5;
    for (std::size_t j = 3 * H; j < 4 * H; ++j) a[j] *= 0.5;
    vmath::tanh(a, a, 4 * H);
    for (std::size_t j = 0; j < 2 * H; ++j) a[j] = 0.5 + 0.5 * a[j];
    for (std::size_t j = 3 * H; j < 4 * H; ++j) a[j] = 0.5 + 0.5 * a[j];
    const double* c = hv + r * 2 * H + H;
    double *ho = out->data() + r * 2 * H, *co = ho + H;
    for (std::size_t j = 0; j < H; ++j) co[j] = a[H + j] * c[j] + a[j] * a[2 * H + j];
    vmath::tanh(co, ho, H);
    for (std::size_t j = 0; j < H; ++j) ho[j] *= a[3 * H + j];
  }
  return make("lstm_cell", std::shared_ptr<const Array>(std::move(out)), {x, hc, w, b}, rule,
              ad::Extra{.data = std::shared_ptr<const void>(std::move(act))});
}

}  // namespace xgrad
