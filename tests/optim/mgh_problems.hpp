#pragma once
// Problems 1-28 of Moré, Garbow & Hillstrom, "Testing unconstrained optimization software", ACM TOMS 7(1), 1981,
// as xgrad objectives f(x) = sum_i r_i(x)^2 with the paper's standard starting points and its minimum values.
// scripts/mgh_scipy.py holds the same residuals in numpy (keep the two in step) and writes scipy's results on them
// to tests/optim/mgh_scipy_reference.hpp. Variable-dimension problems use n = 10 (Watson: n = 6; extended Powell:
// n = 8; Gulf: m = 99; Box 3-D: m = 10; Biggs EXP6: m = 13).
#include <cmath>
#include <cstddef>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include <xgrad/ad/custom.hpp>

#include "optim/common.hpp"

namespace xgrad::testing {

/// One problem: its number and name in the paper, its start, and the minimum values the paper lists (the global
/// minimum first, then the other local minima a descent method may reach from the start).
struct MGHProblem {
  int number;
  std::string name;
  std::vector<double> x0;
  std::vector<double> minima;
  std::function<Tensor(const Tensor&)> residuals;
  Tensor operator()(const Tensor& x) const { return sum(square(residuals(x))); }
};

namespace mgh {

inline Tensor vec(const std::vector<double>& v) {
  Array a = Array::from_shape({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) a(i) = v[i];
  return Tensor(a);
}
// Element i of x as a one-element Tensor.
inline Tensor el(const Tensor& x, std::size_t i) {
  const auto k = static_cast<std::ptrdiff_t>(i);
  return slice(x, 0, k, k + 1);
}
inline Tensor cat(const std::vector<Tensor>& parts) { return concatenate(parts); }
// 1, 2, ..., m (or from `first`) scaled by `scale`.
inline Tensor range(std::size_t m, double scale = 1.0, double first = 1.0) {
  std::vector<double> v(m);
  for (std::size_t i = 0; i < m; ++i) v[i] = scale * (first + static_cast<double>(i));
  return vec(v);
}
inline std::vector<double> filled(std::size_t n, double v) { return std::vector<double>(n, v); }

// atan with the derivative 1 / (1 + u^2): the AD core has no atan (Helical valley needs one).
inline Tensor atan(const Tensor& u) {
  static auto op = xgrad::custom_vjp(
      [](const Tensor& v) {
        Array y = v.value();
        for (double& e : y) e = std::atan(e);
        return std::pair{Tensor(y), v};
      },
      [](const Tensor& v, const Tensor& g) { return std::tuple{g / (1.0 + square(v))}; });
  return op(u);
}

constexpr std::size_t nvar = 10;  // n of the variable-dimension problems

}  // namespace mgh

/// The 28 problems, in the paper's order.
inline const std::vector<MGHProblem>& mgh_problems() {
  using namespace mgh;
  static const std::vector<MGHProblem> problems = [] {
    std::vector<MGHProblem> p;
    p.push_back({1, "Rosenbrock", {-1.2, 1.0}, {0.0}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1);
                   return cat({10.0 * (x2 - square(x1)), 1.0 - x1});
                 }});
    p.push_back({2, "Freudenstein-Roth", {0.5, -2.0}, {0.0, 48.9842536792}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1);
                   return cat({-13.0 + x1 + ((5.0 - x2) * x2 - 2.0) * x2, -29.0 + x1 + ((x2 + 1.0) * x2 - 14.0) * x2});
                 }});
    p.push_back({3, "Powell badly scaled", {0.0, 1.0}, {0.0}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1);
                   return cat({1e4 * x1 * x2 - 1.0, exp(-x1) + exp(-x2) - 1.0001});
                 }});
    p.push_back({4, "Brown badly scaled", {1.0, 1.0}, {0.0}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1);
                   return cat({x1 - 1e6, x2 - 2e-6, x1 * x2 - 2.0});
                 }});
    p.push_back({5, "Beale", {1.0, 1.0}, {0.0}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1);
                   return cat({1.5 - x1 * (1.0 - x2), 2.25 - x1 * (1.0 - square(x2)),
                               2.625 - x1 * (1.0 - x2 * square(x2))});
                 }});
    p.push_back({6, "Jennrich-Sampson", {0.3, 0.4}, {124.362182355}, [](const Tensor& x) {
                   const Tensor i = range(10);
                   return 2.0 + 2.0 * i - (exp(i * el(x, 0)) + exp(i * el(x, 1)));
                 }});
    p.push_back({7, "Helical valley", {-1.0, 0.0, 0.0}, {0.0}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1), x3 = el(x, 2);
                   // theta = atan(x2 / x1) / (2 pi), plus 1/2 where x1 < 0 (a constant offset on each branch)
                   const double offset = x1.value()(0) < 0.0 ? 0.5 : 0.0;
                   const Tensor theta = atan(x2 / x1) / (2.0 * std::numbers::pi) + offset;
                   return cat({10.0 * (x3 - 10.0 * theta), 10.0 * (sqrt(square(x1) + square(x2)) - 1.0), x3});
                 }});
    p.push_back({8, "Bard", {1.0, 1.0, 1.0}, {8.21487730657e-3}, [](const Tensor& x) {
                   const std::vector<double> y{0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39,
                                               0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39};
                   std::vector<double> u(15), v(15), w(15);
                   for (int i = 0; i < 15; ++i) {
                     u[i] = i + 1.0;
                     v[i] = 15.0 - i;
                     w[i] = std::min(u[i], v[i]);
                   }
                   return vec(y) - (el(x, 0) + vec(u) / (vec(v) * el(x, 1) + vec(w) * el(x, 2)));
                 }});
    p.push_back({9, "Gaussian", {0.4, 1.0, 0.0}, {1.12793276961e-8}, [](const Tensor& x) {
                   const std::vector<double> y{0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
                                               0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009};
                   const Tensor t = range(15, -0.5, -7.0);  // t_i = (8 - i) / 2
                   return el(x, 0) * exp(-0.5 * el(x, 1) * square(t - el(x, 2))) - vec(y);
                 }});
    p.push_back({10, "Meyer", {0.02, 4000.0, 250.0}, {87.9458551718}, [](const Tensor& x) {
                   const std::vector<double> y{34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744,
                                               8261,  7030,  6005,  5147,  4427,  3820,  3307,  2872};
                   const Tensor t = range(16, 5.0, 10.0);  // t_i = 45 + 5 i
                   return el(x, 0) * exp(el(x, 1) / (t + el(x, 2))) - vec(y);
                 }});
    p.push_back({11, "Gulf research", {5.0, 2.5, 0.15}, {0.0}, [](const Tensor& x) {
                   constexpr std::size_t m = 99;
                   std::vector<double> t(m), y(m);
                   for (std::size_t i = 0; i < m; ++i) {
                     t[i] = (i + 1.0) / 100.0;
                     y[i] = 25.0 + std::pow(-50.0 * std::log(t[i]), 2.0 / 3.0);
                   }
                   // |y_i - x2|^x3 as exp(x3 log|y_i - x2|)
                   const Tensor a = exp(el(x, 2) * log(abs(vec(y) - el(x, 1))));
                   return exp(-a / el(x, 0)) - vec(t);
                 }});
    p.push_back({12, "Box 3-D", {0.0, 10.0, 20.0}, {0.0}, [](const Tensor& x) {
                   const Tensor t = range(10, 0.1);
                   return exp(-t * el(x, 0)) - exp(-t * el(x, 1)) - el(x, 2) * (exp(-t) - exp(-10.0 * t));
                 }});
    p.push_back({13, "Powell singular", {3.0, -1.0, 0.0, 1.0}, {0.0}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1), x3 = el(x, 2), x4 = el(x, 3);
                   return cat({x1 + 10.0 * x2, std::sqrt(5.0) * (x3 - x4), square(x2 - 2.0 * x3),
                               std::sqrt(10.0) * square(x1 - x4)});
                 }});
    p.push_back({14, "Wood", {-3.0, -1.0, -3.0, -1.0}, {0.0}, [](const Tensor& x) {
                   const Tensor x1 = el(x, 0), x2 = el(x, 1), x3 = el(x, 2), x4 = el(x, 3);
                   return cat({10.0 * (x2 - square(x1)), 1.0 - x1, std::sqrt(90.0) * (x4 - square(x3)), 1.0 - x3,
                               std::sqrt(10.0) * (x2 + x4 - 2.0), (x2 - x4) / std::sqrt(10.0)});
                 }});
    p.push_back({15, "Kowalik-Osborne", {0.25, 0.39, 0.415, 0.39}, {3.07505603849e-4}, [](const Tensor& x) {
                   const std::vector<double> y{0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627,
                                               0.0456, 0.0342, 0.0323, 0.0235, 0.0246};
                   const Tensor u = vec({4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625});
                   return vec(y) - el(x, 0) * (square(u) + u * el(x, 1)) / (square(u) + u * el(x, 2) + el(x, 3));
                 }});
    p.push_back({16, "Brown-Dennis", {25.0, 5.0, -5.0, -1.0}, {85822.2016263563}, [](const Tensor& x) {
                   const Tensor t = range(20, 0.2);
                   Array st = t.value(), ct = t.value(), et = t.value();
                   for (double& e : st) e = std::sin(e);
                   for (double& e : ct) e = std::cos(e);
                   for (double& e : et) e = std::exp(e);
                   return square(el(x, 0) + t * el(x, 1) - Tensor(et)) +
                          square(el(x, 2) + Tensor(st) * el(x, 3) - Tensor(ct));
                 }});
    p.push_back({17, "Osborne 1", {0.5, 1.5, -1.0, 0.01, 0.02}, {5.46489469748e-5}, [](const Tensor& x) {
                   const std::vector<double> y{0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818,
                                               0.784, 0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558,
                                               0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438,
                                               0.431, 0.424, 0.420, 0.414, 0.411, 0.406};
                   const Tensor t = range(33, 10.0, 0.0);
                   return vec(y) - (el(x, 0) + el(x, 1) * exp(-t * el(x, 3)) + el(x, 2) * exp(-t * el(x, 4)));
                 }});
    p.push_back({18, "Biggs EXP6", {1.0, 2.0, 1.0, 1.0, 1.0, 1.0}, {0.0, 5.65565e-3}, [](const Tensor& x) {
                   const Tensor t = range(13, 0.1);
                   Array y = t.value();
                   for (double& e : y) e = std::exp(-e) - 5.0 * std::exp(-10.0 * e) + 3.0 * std::exp(-4.0 * e);
                   return el(x, 2) * exp(-t * el(x, 0)) - el(x, 3) * exp(-t * el(x, 1)) +
                          el(x, 5) * exp(-t * el(x, 4)) - Tensor(y);
                 }});
    p.push_back({19, "Osborne 2", {1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5}, {4.01377362935e-2},
                 [](const Tensor& x) {
                   const std::vector<double> y{
                       1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608,
                       0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661,
                       0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428,
                       0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559,
                       0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054};
                   const Tensor t = range(65, 0.1, 0.0);
                   return vec(y) - (el(x, 0) * exp(-t * el(x, 4)) + el(x, 1) * exp(-square(t - el(x, 8)) * el(x, 5)) +
                                    el(x, 2) * exp(-square(t - el(x, 9)) * el(x, 6)) +
                                    el(x, 3) * exp(-square(t - el(x, 10)) * el(x, 7)));
                 }});
    p.push_back({20, "Watson", filled(6, 0.0), {2.28767005355e-3}, [](const Tensor& x) {
                   constexpr std::size_t n = 6;
                   std::vector<Tensor> r;
                   const Tensor t = range(29, 1.0 / 29.0);
                   Tensor s1 = vec(filled(29, 0.0)), s2 = s1;
                   Tensor tp = vec(filled(29, 1.0));  // t^(j-1)
                   for (std::size_t j = 0; j < n; ++j) {
                     if (j > 0) s1 = s1 + static_cast<double>(j) * el(x, j) * (tp / t);  // (j-1) x_j t^(j-2)
                     s2 = s2 + el(x, j) * tp;
                     tp = tp * t;
                   }
                   return cat({s1 - square(s2) - 1.0, el(x, 0), el(x, 1) - square(el(x, 0)) - 1.0});
                 }});
    {
      std::vector<double> x0(nvar);
      for (std::size_t i = 0; i < nvar; ++i) x0[i] = i % 2 == 0 ? -1.2 : 1.0;
      p.push_back({21, "Extended Rosenbrock", x0, {0.0}, [](const Tensor& x) {
                     const auto n = static_cast<std::ptrdiff_t>(x.size());
                     const Tensor a = slice(x, 0, 0, n, 2), b = slice(x, 0, 1, n, 2);
                     return cat({10.0 * (b - square(a)), 1.0 - a});
                   }});
    }
    {
      std::vector<double> x0;
      for (int k = 0; k < 2; ++k) x0.insert(x0.end(), {3.0, -1.0, 0.0, 1.0});
      p.push_back({22, "Extended Powell singular", x0, {0.0}, [](const Tensor& x) {
                     const auto n = static_cast<std::ptrdiff_t>(x.size());
                     const Tensor x1 = slice(x, 0, 0, n, 4), x2 = slice(x, 0, 1, n, 4), x3 = slice(x, 0, 2, n, 4),
                                  x4 = slice(x, 0, 3, n, 4);
                     return cat({x1 + 10.0 * x2, std::sqrt(5.0) * (x3 - x4), square(x2 - 2.0 * x3),
                                 std::sqrt(10.0) * square(x1 - x4)});
                   }});
    }
    {
      std::vector<double> x0(nvar);
      for (std::size_t i = 0; i < nvar; ++i) x0[i] = i + 1.0;
      p.push_back({23, "Penalty I", x0, {7.08765146709e-5}, [](const Tensor& x) {
                     return cat({std::sqrt(1e-5) * (x - 1.0), reshape(sum(square(x)) - 0.25, {1})});
                   }});
    }
    p.push_back({24, "Penalty II", filled(nvar, 0.5), {2.93660531443e-4}, [](const Tensor& x) {
                   const auto n = static_cast<std::ptrdiff_t>(x.size());
                   const double sa = std::sqrt(1e-5);
                   std::vector<double> y(n - 1), weight(n);
                   for (std::ptrdiff_t i = 2; i <= n; ++i) y[i - 2] = std::exp(i / 10.0) + std::exp((i - 1) / 10.0);
                   for (std::ptrdiff_t j = 1; j <= n; ++j) weight[j - 1] = static_cast<double>(n - j + 1);
                   const Tensor e = exp(x / 10.0);
                   return cat({el(x, 0) - 0.2, sa * (slice(e, 0, 1, n) + slice(e, 0, 0, n - 1) - vec(y)),
                               sa * (slice(e, 0, 1, n) - std::exp(-0.1)),
                               reshape(sum(vec(weight) * square(x)) - 1.0, {1})});
                 }});
    {
      std::vector<double> x0(nvar);
      for (std::size_t j = 0; j < nvar; ++j) x0[j] = 1.0 - (j + 1.0) / nvar;
      p.push_back({25, "Variably dimensioned", x0, {0.0}, [](const Tensor& x) {
                     const Tensor s = reshape(sum(range(x.size()) * (x - 1.0)), {1});
                     return cat({x - 1.0, s, square(s)});
                   }});
    }
    p.push_back({26, "Trigonometric", filled(nvar, 1.0 / nvar), {0.0, 2.79506e-5}, [](const Tensor& x) {
                   const double n = static_cast<double>(x.size());
                   return n - sum(cos(x)) + range(x.size()) * (1.0 - cos(x)) - sin(x);
                 }});
    p.push_back({27, "Brown almost-linear", filled(nvar, 0.5), {0.0, 1.0}, [](const Tensor& x) {
                   const auto n = static_cast<std::ptrdiff_t>(x.size());
                   return cat({slice(x, 0, 0, n - 1) + sum(x) - (n + 1.0), reshape(prod(x) - 1.0, {1})});
                 }});
    {
      const double h = 1.0 / (nvar + 1.0);
      std::vector<double> x0(nvar);
      for (std::size_t i = 0; i < nvar; ++i) x0[i] = (i + 1.0) * h * ((i + 1.0) * h - 1.0);
      p.push_back({28, "Discrete boundary value", x0, {0.0}, [h](const Tensor& x) {
                     const auto n = static_cast<std::ptrdiff_t>(x.size());
                     const Tensor zero = vec({0.0});
                     const Tensor padded = cat({zero, x, zero});  // x_0 = x_{n+1} = 0
                     const Tensor t = range(x.size(), h);
                     return 2.0 * x - slice(padded, 0, 0, n) - slice(padded, 0, 2, n + 2) +
                            0.5 * h * h * pow(x + t + 1.0, 3.0);
                   }});
    }
    return p;
  }();
  return problems;
}

}  // namespace xgrad::testing
