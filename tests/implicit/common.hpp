#pragma once
// Test helpers shared by the implicit suites: random matrices and the ridge problem with its closed form.
#include <doctest/doctest.h>

#include <cmath>
#include <xgrad/xgrad.hpp>
#include <xtensor-blas/xlinalg.hpp>

namespace xgrad::testing {

using xgrad::Array;
using xgrad::Tensor;

/// max |a - b| / max(1, max |b|).
inline double rel_err(const Array& a, const Array& b) {
  double m = 1e-300, s = 0.0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    m = std::max(m, std::abs(b.data()[i]));
    s = std::max(s, std::abs(a.data()[i] - b.data()[i]));
  }
  return s / m;
}

/// A random symmetric positive definite n x n matrix with eigenvalues in about [1, cond].
inline Array spd(std::size_t n, double cond, std::uint64_t seed) {
  const Array Q = xgrad::random::normal(xgrad::random::key(seed), {n, n});
  Array A = xt::linalg::dot(xt::transpose(Q), Q) / static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) A(i, i) += 1.0 + (cond - 1.0) * static_cast<double>(i) / static_cast<double>(n);
  return A;
}

/// Ridge regression with the mean: inner(w, alpha) = 0.5 mean((X w - y)^2) + 0.5 alpha ||w||^2.
struct Ridge {
  Array X, y, Xv, yv;  // training and validation data
};
inline Ridge ridge_problem(std::size_t n, std::size_t d, std::uint64_t seed) {
  auto k = xgrad::random::split(xgrad::random::key(seed), 4);
  Ridge r;
  r.X = xgrad::random::normal(k[0], {n, d});
  const Array w_true = xgrad::random::normal(k[1], {d});
  r.y = xt::linalg::dot(r.X, w_true) + 0.5 * xgrad::random::normal(k[2], {n});
  r.Xv = xgrad::random::normal(k[3], {n, d});
  r.yv = xt::linalg::dot(r.Xv, w_true);
  return r;
}
inline Tensor ridge_inner(const Tensor& w, const Tensor& alpha, const Tensor& X, const Tensor& y) {
  return 0.5 * mean(square(matmul(X, w) - y)) + 0.5 * sum(alpha * square(w));
}
inline Tensor ridge_outer(const Tensor& w, const Ridge& r) {
  return 0.5 * mean(square(matmul(Tensor(r.Xv), w) - Tensor(r.yv)));
}
/// Closed form: w* = (X^T X / n + alpha I)^{-1} X^T y / n and d outer / d alpha = -grad_w outer . H^{-1} w*.
struct RidgeClosedForm {
  Array w;
  double hypergrad;
};
inline RidgeClosedForm ridge_closed_form(const Ridge& r, double alpha) {
  const auto n = static_cast<double>(r.X.shape(0));
  const std::size_t d = r.X.shape(1);
  Array H = xt::linalg::dot(xt::transpose(r.X), r.X) / n;
  for (std::size_t i = 0; i < d; ++i) H(i, i) += alpha;
  const Array w = xt::linalg::solve(H, Array(xt::linalg::dot(xt::transpose(r.X), r.y) / n));
  const Array resid = xt::linalg::dot(r.Xv, w) - r.yv;
  const Array gw = xt::linalg::dot(xt::transpose(r.Xv), resid) / static_cast<double>(r.Xv.shape(0));
  const Array dw = -xt::linalg::solve(H, w);
  double h = 0.0;
  for (std::size_t i = 0; i < d; ++i) h += gw(i) * dw(i);
  return {w, h};
}

}  // namespace xgrad::testing
