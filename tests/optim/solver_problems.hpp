#pragma once
// Objectives shared by the solver and line-search suites (test_linesearch, test_gradient_descent, test_lbfgs).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <xgrad/core/random.hpp>

#include "optim/common.hpp"

namespace xgrad::testing {

/// Extended Rosenbrock: sum over pairs (x_{2i}, x_{2i+1}) of (1 - x_{2i})^2 + 100 (x_{2i+1} - x_{2i}^2)^2;
/// minimum 0 at (1, ..., 1). The usual start alternates -1.2 and 1.
inline Tensor ext_rosenbrock(const Tensor& x) {
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  const Tensor a = slice(x, 0, 0, n, 2), b = slice(x, 0, 1, n, 2);
  return sum(square(1.0 - a) + 100.0 * square(b - square(a)));
}
inline Tensor rosenbrock_start(std::size_t n) {
  Array x = Array::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) x(i) = i % 2 == 0 ? -1.2 : 1.0;
  return Tensor(x);
}

/// Ridge regression 0.5 ||X w - y||^2 + 0.5 lambda ||w||^2: the data and lambda are extra arguments.
inline Tensor ridge(const Tensor& w, const Tensor& X, const Tensor& y, double lambda) {
  return 0.5 * sum(square(matmul(X, w) - y)) + 0.5 * lambda * sum(square(w));
}
/// Ridge data: X (n x d) and y (n) from fixed keys.
struct RidgeData {
  Tensor X, y;
};
inline RidgeData ridge_data(std::size_t n, std::size_t d) {
  return {Tensor(xgrad::random::normal(xgrad::random::key(1), {n, d})), Tensor(xgrad::random::normal(xgrad::random::key(2), {n}))};
}
/// The closed form (X^T X + lambda I)^{-1} X^T y, by xgrad::solve on the normal equations.
inline Tensor ridge_solution(const RidgeData& data, double lambda) {
  const Tensor Xt = transpose(data.X);
  Array A = matmul(Xt, data.X).value();
  for (std::size_t i = 0; i < A.shape(0); ++i) A(i, i) += lambda;
  return solve(Tensor(A), matmul(Xt, data.y));
}

/// A random strongly convex quadratic 0.5 x^T A x - b^T x: A = M M^T / n + mu I with M (n x n) and b standard normal
/// from `seed`, so A's eigenvalues lie in [mu, mu + ~4].
struct QuadraticData {
  Tensor A, b;
};
inline QuadraticData random_quadratic(std::size_t n, double mu, std::uint64_t seed) {
  const Array M = xgrad::random::normal(xgrad::random::key(seed), {n, n});
  Array A = matmul(Tensor(M), transpose(Tensor(M))).value() / static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) A(i, i) += mu;
  return {Tensor(A), Tensor(xgrad::random::normal(xgrad::random::key(seed + 1000), {n}))};
}
inline Tensor quadratic_form(const Tensor& x, const Tensor& A, const Tensor& b) {
  return 0.5 * sum(x * matmul(A, x)) - sum(b * x);
}
/// The minimiser A^{-1} b, by xgrad::solve.
inline Tensor quadratic_solution(const QuadraticData& q) { return solve(q.A, q.b); }

/// The 5-vector of `chained` split over two leaves.
struct Split {
  Tensor head;  // 2 values
  Tensor tail;  // 3 values
};
/// A non-separable objective (chained Rosenbrock plus a coupling term) of a 5-vector.
inline Tensor chained(const Tensor& x) {
  const auto n = static_cast<std::ptrdiff_t>(x.size());
  const Tensor a = slice(x, 0, 0, n - 1), b = slice(x, 0, 1, n);
  return sum(square(1.0 - a) + 10.0 * square(b - square(a))) + 0.1 * square(sum(x));
}
inline Tensor chained_split(const Split& s) { return chained(concatenate({s.head, s.tail})); }

/// Unbounded below: the loss mean(X w - y) without a square.
inline Tensor linear_loss(const Tensor& w, const Tensor& X, const Tensor& y) { return mean(matmul(X, w) - y); }

/// -sum(x) for x < 1, NaN past 1 (0 * log(1 - x) is NaN there): the minimiser runs into the NaN region.
inline Tensor nan_past_one(const Tensor& x) { return -sum(x) + 0.0 * sum(log(1.0 - x)); }

/// NaN everywhere.
inline Tensor nan_everywhere(const Tensor& x) { return sum(sqrt(-1.0 - square(x))); }

/// Max absolute difference between a tensor and a constant.
inline double max_abs_diff(const Tensor& x, double c) {
  double m = 0.0;
  for (double v : x.value()) m = std::max(m, std::abs(v - c));
  return m;
}
inline double max_abs_diff(const Tensor& x, const Tensor& y) {
  double m = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(at(x, i) - at(y, i)));
  return m;
}

}  // namespace xgrad::testing
