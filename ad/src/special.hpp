#pragma once
// Scalar special functions behind the lgamma, digamma and polygamma ops (elementwise.cpp). Values at the poles follow
// scipy.special: digamma(+0) = -inf, digamma(-0) = +inf, digamma(negative integer) = NaN; polygamma(n >= 1, x) at a
// non-positive integer is (-1)^(n+1) infinity.
#include <cmath>
#include <limits>
#include <vector>

namespace xgrad::special {

// B_2, B_4, ..., B_16: the Bernoulli numbers of the asymptotic series.
inline constexpr double kBernoulli[] = {1.0 / 6,  -1.0 / 30, 1.0 / 42,   -1.0 / 30,
                                        5.0 / 66, -691.0 / 2730, 7.0 / 6, -3617.0 / 510};
inline constexpr double kPi = 3.141592653589793238463;

inline double factorial(int n) {
  double f = 1.0;
  for (int k = 2; k <= n; ++k) f *= k;
  return f;
}

// d^n/dx^n cot(pi x): with c = cot(pi x), P_0 = c and P_{k+1}(c) = -pi (1 + c^2) P_k'(c). x is first reduced to
// [-1/2, 1/2] (the period is 1), so large |x| loses no accuracy in pi x.
inline double cot_derivative(int n, double x) {
  const double r = x - std::nearbyint(x);
  const double c = std::cos(kPi * r) / std::sin(kPi * r);
  std::vector<double> p{0.0, 1.0};  // coefficients of P_k in powers of c
  for (int k = 0; k < n; ++k) {
    std::vector<double> d(p.size() + 1, 0.0);  // -pi (1 + c^2) P'(c)
    for (std::size_t j = 1; j < p.size(); ++j) {
      const double a = -kPi * static_cast<double>(j) * p[j];
      d[j - 1] += a;
      d[j + 1] += a;
    }
    p = std::move(d);
  }
  double v = 0.0;
  for (std::size_t j = p.size(); j-- > 0;) v = v * c + p[j];
  return v;
}

// polygamma(n, x) for n >= 0 (n = 0: digamma).
inline double polygamma(int n, double x) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (std::isnan(x)) return x;
  if (x == inf) return n == 0 ? inf : 0.0;
  if (x == -inf) return std::numeric_limits<double>::quiet_NaN();
  const double sign = n % 2 ? 1.0 : -1.0;  // (-1)^(n+1)
  if (x <= 0 && x == std::floor(x)) {
    if (n == 0) return x == 0 ? (std::signbit(x) ? inf : -inf) : std::numeric_limits<double>::quiet_NaN();
    return sign * inf;
  }
  if (x < 0)  // reflection: psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi d^n/dx^n cot(pi x)
    return (n % 2 ? -1.0 : 1.0) * polygamma(n, 1.0 - x) - kPi * cot_derivative(n, x);
  // Recurrence up to where the asymptotic series is accurate: psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1).
  const double nf = factorial(n);
  double acc = 0.0;
  const double start = 12.0 + n;
  for (; x < start; x += 1.0) acc += sign * nf / std::pow(x, n + 1);
  double series;
  if (n == 0) {
    series = std::log(x) - 0.5 / x;
    const double x2 = x * x;
    double p = x2;
    for (int k = 1; k <= 8; ++k, p *= x2) series -= kBernoulli[k - 1] / (2.0 * k * p);
  } else {
    series = factorial(n - 1) / std::pow(x, n) + nf / (2.0 * std::pow(x, n + 1));
    double ratio = factorial(n + 1) / 2.0;  // (2k + n - 1)! / (2k)!, at k = 1
    for (int k = 1; k <= 8; ++k) {
      series += kBernoulli[k - 1] * ratio / std::pow(x, 2 * k + n);
      ratio *= static_cast<double>((2 * k + n) * (2 * k + n + 1)) / static_cast<double>((2 * k + 1) * (2 * k + 2));
    }
    series *= sign;
  }
  return acc + series;
}

// log |Gamma(x)| (scipy.special.gammaln), without the global sign that std::lgamma writes (not thread-safe).
inline double lgamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

}  // namespace xgrad::special
