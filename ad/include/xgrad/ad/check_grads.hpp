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
#include <sstream>
#include <string>
#include <tuple>

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

// The Tensor leaves of `like` cut out of the flat Tensor theta (differentiably): slice + reshape.
template <class T>
T unravel_tensors(const Tensor& theta, const T& like) {
  std::ptrdiff_t off = 0;
  return tree::map(
      [&](const auto& leaf) {
        const Tensor t(leaf);
        const auto n = static_cast<std::ptrdiff_t>(t.size());
        const Shape s = t.shape();
        const std::vector<std::ptrdiff_t> shape(s.begin(), s.end());
        Tensor piece = reshape(slice(theta, 0, off, off + n), shape);
        off += n;
        return piece;
      },
      like);
}

inline double fd_error(double a, double b) { return std::abs(a - b) / std::max(1.0, std::abs(b)); }

}  // namespace detail

/// Check first (order 1) or first and second (order 2) derivatives of f at args (a std::tuple of its arguments).
template <class F, class... Args>
GradCheck check_grads(F f, const std::tuple<Args...>& args, int order = 2, GradCheckOptions opt = {}) {
  const auto [theta0, unravel] = tree::ravel(args);
  (void)unravel;
  const auto names = tree::paths(args);
  std::vector<std::size_t> leaf_of, elem_of;
  {
    std::size_t li = 0;
    tree::for_each([&](const auto& leaf) {
      for (std::size_t e = 0; e < tree::leaf_value(leaf).size(); ++e) leaf_of.push_back(li), elem_of.push_back(e);
      ++li;
    }, args);
  }
  const std::size_t n = theta0.size();
  GradCheck r;

  // The vector function F(theta) and its weighted scalar s(theta).
  auto vecf = [&](const Tensor& theta) { return std::apply(f, detail::unravel_tensors(theta, args)); };
  const Tensor y0 = vecf(Tensor(theta0));
  const Tensor w(detail::weights(y0.shape(), 7));
  auto s = [&](const Tensor& theta) { return sum(vecf(theta) * w); };
  auto sval = [&](const Array& th) {
    ++r.evaluations;
    return s(Tensor(th)).item();
  };
  auto record = [&](double a, double b, const std::string& mode, std::size_t i, double tol) {
    const double e = detail::fd_error(a, b);
    if (!(e <= r.worst) || std::isnan(e)) {
      r.worst = std::isnan(e) ? INFINITY : e;
      r.ad_value = a;
      r.fd_value = b;
      r.where = i == SIZE_MAX ? mode : mode + ", argument " + names[leaf_of[i]] + " element " + std::to_string(elem_of[i]);
    }
    if (!(e <= tol)) r.ok = false;
  };
  auto stencil = [&](auto&& fun, const Array& dir, double h) {
    auto at = [&](double t) { return fun(Array(theta0 + t * dir)); };
    return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h);
  };
  auto h_of = [&](std::size_t i) { return opt.step * std::max(1.0, std::abs(theta0.data()[i])); };
  auto unit = [&](std::size_t i) {
    Array e = xt::zeros<double>({n});
    e.data()[i] = 1.0;
    return e;
  };

  if (order >= 1) {
    const Tensor g = grad(s)(Tensor(theta0));
    for (std::size_t i = 0; i < n; ++i)
      record(g.value().data()[i], stencil(sval, unit(i), h_of(i)), "order 1 (reverse)", i, opt.tol1);
    for (int k = 0; k < opt.directions && n > 0; ++k) {
      const Array v = detail::weights({n}, 100 + static_cast<std::uint64_t>(k));
      const Tensor ydot = jvp(s, Tensor(theta0), Tensor(v)).second;
      record(ydot.item(), stencil(sval, v, opt.step), "order 1 (forward, direction " + std::to_string(k) + ")", SIZE_MAX,
             opt.tol1);
    }
  }
  if (order >= 2) {
    for (std::size_t i = 0; i < n; ++i) {
      const Tensor hv = hvp(s, Tensor(theta0), Tensor(unit(i)));
      // Column i of the Hessian by differences of the gradient.
      Array col = xt::zeros<double>({n});
      const double h = h_of(i);
      const double c[4] = {1.0, -8.0, 8.0, -1.0}, t[4] = {-2 * h, -h, h, 2 * h};
      for (int q = 0; q < 4; ++q) {
        ++r.evaluations;
        col += c[q] * grad(s)(Tensor(Array(theta0 + t[q] * unit(i)))).value();
      }
      col /= 12 * h;
      for (std::size_t j = 0; j < n; ++j) record(hv.value().data()[j], col.data()[j], "order 2 (hvp column " + std::to_string(i) + ")", j, opt.tol2);
    }
  }
  return r;
}

/// check_grads for a function of one Tensor.
template <class F>
GradCheck check_grads(F f, const Tensor& x, int order = 2, GradCheckOptions opt = {}) {
  return check_grads([&](const Tensor& a) { return f(a); }, std::make_tuple(x), order, opt);
}

}  // namespace xgrad
