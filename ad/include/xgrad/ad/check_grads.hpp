#pragma once
// check_grads: compare a function's derivatives with central finite differences, like jax.test_util.check_grads.
//
//   auto r = xgrad::check_grads([](const Tensor& a, const Tensor& b) { return a * exp(b); },
//                               std::make_tuple(a, b), /*order=*/2);
//   CHECK(r.ok);   // else r.report() says the worst relative error, where, and in which mode
//
// The function may return any shape: it is reduced to a scalar by a fixed pseudo-random weighting. Checked:
//   order >= 1: the reverse-mode gradient, every coordinate; forward mode (jvp) along fixed random directions;
//   order >= 2: every column of the Hessian (hvp, reverse over reverse) against differences of the gradient.
// Differences use the 4-point stencil (f(-2h) - 8f(-h) + 8f(h) - f(2h)) / 12h with h = step * max(1, |x_i|),
// accurate to O(h^4). The error of a pair (a = AD, b = difference) is |a - b| / max(1, |b|).
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "xgrad/ad/ravel.hpp"
#include "xgrad/ad/transforms.hpp"

namespace xgrad {

struct GradCheckOptions {
  double tol1 = 1e-6;   // largest error allowed at first order
  double tol2 = 1e-5;   // at second order
  double step = 1e-3;   // relative finite-difference step
  int directions = 2;   // random directions for the forward-mode check
};

struct GradCheck {
  bool ok = true;
  double worst = 0.0;     // largest error seen
  std::string where;      // mode, argument leaf and element of the largest error
  double ad_value = 0.0, fd_value = 0.0;
  int evaluations = 0;    // function evaluations spent

  std::string report() const {
    std::ostringstream os;
    os << (ok ? "ok" : "FAILED") << ": worst error " << worst << " at " << where << " (AD " << ad_value
       << ", finite differences " << fd_value << ")";
    return os.str();
  }
};

namespace detail {

// Deterministic weights in [-1, 1] (not the PRNG module: this must not depend on it).
inline Array weights(const Shape& s, std::uint64_t seed) {
  Array w = Array::from_shape(s);
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& v : w) {
    z ^= z >> 33;
    z *= 0xff51afd7ed558ccdull;
    z ^= z >> 33;
    v = static_cast<double>(z % 20001) / 10000.0 - 1.0;
    z += 0x9E3779B97F4A7C15ull;
  }
  return w;
}

// The checks themselves, on the raveled arguments: vecf maps the flat parameters to f's output, where(i) names flat
// coordinate i. Compiled once in the library: each call site of check_grads instantiates only the ravel around it.
GradCheck check_grads_flat(const std::function<Tensor(const Tensor&)>& vecf, const Array& theta0,
                           const std::function<std::string(std::size_t)>& where, int order, const GradCheckOptions& opt);
}  // namespace detail

/// Check first (order 1) or first and second (order 2) derivatives of f at args (a std::tuple of its arguments).
template <class F, class... Args>
GradCheck check_grads(F f, const std::tuple<Args...>& args, int order = 2, GradCheckOptions opt = {}) {
  const Array theta0 = tree::ravel(args).first;
  const auto names = tree::paths(args);
  std::vector<std::size_t> leaf_of, elem_of;
  std::size_t li = 0;
  tree::for_each([&](const auto& leaf) {
    for (std::size_t e = 0; e < tree::leaf_value(leaf).size(); ++e) leaf_of.push_back(li), elem_of.push_back(e);
    ++li;
  }, args);
  return detail::check_grads_flat(
      [&](const Tensor& theta) -> Tensor { return std::apply(f, unravel_tensors(theta, args)); }, theta0,
      [&](std::size_t i) { return "argument " + names[leaf_of[i]] + " element " + std::to_string(elem_of[i]); },
      order, opt);
}

/// check_grads for a function of one Tensor.
template <class F>
GradCheck check_grads(F f, const Tensor& x, int order = 2, GradCheckOptions opt = {}) {
  return check_grads([&](const Tensor& a) { return f(a); }, std::make_tuple(x), order, opt);
}

}  // namespace xgrad
