#pragma once
// The differential check of one graph: xgrad's value, gradient, jvp and hvp against the long double reference
// and central finite differences of it.
//
// Finite differences: central differences at steps h, h/2, h/4 (h = 1e-3, inputs are O(1); 1e-4 as a second
// try), combined by two rounds of Richardson extrapolation, which cancel the h^2 and h^4 terms of the error. In
// long double (64-bit mantissa) rounding costs about 1e-19 |f| / (h/4)^2 < 1e-9 |f| even for the mixed second
// differences of the hvp at h = 1e-4, so the estimates are good to about 1e-9 wherever the function is smooth on
// the scale of h. The difference of the last two extrapolants estimates that error; a graph whose estimate exceeds
// a tenth of the tolerance is skipped (the function is not smooth at this scale: a kink or a pole within a few
// steps), as is one whose stencil points lie on another side of a kink than the base point (reference.hpp
// records the sides).
//
// Tolerances, relative to the largest magnitude of the compared vector (at least 1). Values: xgrad computes in
// double through up to ~40 nodes whose derivatives the domain guards bound (arguments of log, sqrt and divisions
// at least 0.1 from 0, values rescaled below 8), so rounding stays far below 1e-9. Derivatives: 1e-6, ten times
// the largest difference error that is accepted (above, a tenth of the tolerance). The largest errors seen over
// 150000 seeds: values 5e-13, gradients and jvps 3e-10, hvps 3e-8 (the summary line prints them for each run).
// A wrong rule (a missing term, a wrong sign or factor, a misrouted broadcast) errs by O(1).
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "generate.hpp"

namespace xgrad::fuzz {

struct Tolerances {
  double value = 1e-9;
  double first = 1e-6;   // gradient and jvp
  double second = 1e-6;  // hvp
};

/// xgrad's value of node n from its arguments' values.
inline Tensor apply(const Node& n, const std::vector<Tensor>& in) {
  const Tensor x = in.empty() ? Tensor() : in[0];
  const Tensor y = in.size() > 1 ? in[1] : Tensor();
  const double c = n.scalar;
  switch (n.op) {
    case Op::input: case Op::constant: return Tensor(n.value);
    case Op::add: return x + y;
    case Op::sub: return x - y;
    case Op::mul: return x * y;
    case Op::div: return x / y;
    case Op::pow: return pow(x, y);
    case Op::maximum: return maximum(x, y);
    case Op::minimum: return minimum(x, y);
    case Op::where: return where(n.value, x, y);
    case Op::add_c: return x + c;
    case Op::sub_c: return x - c;
    case Op::rsub_c: return c - x;
    case Op::mul_c: return c * x;
    case Op::div_c: return x / c;
    case Op::rdiv_c: return c / x;
    case Op::neg: return -x;
    case Op::exp: return exp(x);
    case Op::log: return log(x);
    case Op::log1p: return log1p(x);
    case Op::expm1: return expm1(x);
    case Op::sqrt: return sqrt(x);
    case Op::square: return square(x);
    case Op::pow_c: return pow(x, c);
    case Op::abs: return abs(x);
    case Op::sin: return sin(x);
    case Op::cos: return cos(x);
    case Op::tan: return tan(x);
    case Op::tanh: return tanh(x);
    case Op::sigmoid: return sigmoid(x);
    case Op::relu: return relu(x);
    case Op::softplus: return softplus(x);
    case Op::clip: return clip(x, n.lo, n.hi);
    case Op::sum_all: return sum(x);
    case Op::sum: return sum(x, n.axes, n.keepdims);
    case Op::mean_all: return mean(x);
    case Op::mean: return mean(x, n.axes, n.keepdims);
    case Op::max_all: return max(x);
    case Op::max: return max(x, n.axes, n.keepdims);
    case Op::min_all: return min(x);
    case Op::min: return min(x, n.axes, n.keepdims);
    case Op::prod_all: return prod(x);
    case Op::prod: return prod(x, n.axes, n.keepdims);
    case Op::logsumexp_all: return logsumexp(x);
    case Op::logsumexp: return logsumexp(x, n.axis, n.keepdims);
    case Op::norm_all: return norm(x);
    case Op::norm: return norm(x, n.axes, n.keepdims);
    case Op::softmax: return softmax(x, n.axis);
    case Op::log_softmax: return log_softmax(x, n.axis);
    case Op::reshape: return reshape(x, n.dims);
    case Op::transpose: return transpose(x);
    case Op::permute: return transpose(x, n.perm);
    case Op::squeeze_all: return squeeze(x);
    case Op::squeeze: return squeeze(x, n.axis);
    case Op::expand_dims: return expand_dims(x, n.axis);
    case Op::broadcast_to: return broadcast_to(x, n.target);
    case Op::sum_to: return sum_to(x, n.target);
    case Op::concatenate: return concatenate(in, n.axis);
    case Op::stack: return stack(in, n.axis);
    case Op::slice: return slice(x, n.axis, n.start, n.stop, n.step);
    case Op::take_flat: return take(x, n.indices);
    case Op::take: return take(x, n.indices, n.axis);
    case Op::matmul: return matmul(x, y);
    case Op::linear: return linear(x, y, in[2]);
    case Op::dot: return dot(x, y);
    case Op::outer: return outer(x, y);
    case Op::solve: return solve(x, y);
    case Op::cholesky: return cholesky(x);
    case Op::mse: return mse(x, y);
    case Op::softmax_cross_entropy: return softmax_cross_entropy(x, y, n.axis);
    case Op::l2: return l2(in);
    case Op::arcsin: return arcsin(x);
    case Op::arccos: return arccos(x);
    case Op::arctan: return arctan(x);
    case Op::sinh: return sinh(x);
    case Op::cosh: return cosh(x);
    case Op::arcsinh: return arcsinh(x);
    case Op::arctanh: return arctanh(x);
    case Op::erf: return erf(x);
    case Op::erfc: return erfc(x);
    case Op::log2: return log2(x);
    case Op::log10: return log10(x);
    case Op::exp2: return exp2(x);
    case Op::reciprocal: return reciprocal(x);
    case Op::rsqrt: return rsqrt(x);
    case Op::silu: return silu(x);
    case Op::log_sigmoid: return log_sigmoid(x);
    case Op::gelu: return gelu(x);
    case Op::arctan2: return arctan2(x, y);
    case Op::hypot: return hypot(x, y);
    case Op::logaddexp: return logaddexp(x, y);
    case Op::cumsum: return cumsum(x, n.axis);
    case Op::cumprod: return cumprod(x, n.axis);
    case Op::flip: return flip(x, n.axis);
    case Op::roll: return roll(x, n.start, n.axis);
    case Op::repeat: return repeat(x, static_cast<std::size_t>(n.start), n.axis);
    case Op::triu: return triu(x, n.start);
    case Op::tril: return tril(x, n.start);
    case Op::sort: return sort(x, n.axis);
    case Op::diagonal:
      return diagonal(x, n.start, static_cast<std::ptrdiff_t>(n.perm[0]), static_cast<std::ptrdiff_t>(n.perm[1]));
    case Op::pad: {
      std::vector<std::pair<std::size_t, std::size_t>> widths;
      for (std::size_t d = 0; d + 1 < n.perm.size(); d += 2) widths.emplace_back(n.perm[d], n.perm[d + 1]);
      return pad(x, widths, c);
    }
    case Op::tile: return tile(x, n.perm);
    case Op::einsum: return in.size() == 1 ? einsum(einsum_patterns[n.start], x) : einsum(einsum_patterns[n.start], x, y);
    case Op::tensordot: return tensordot(x, y, static_cast<std::size_t>(n.start));
    case Op::solve_triangular: return solve_triangular(x, y, n.start != 0);
    case Op::inv: return inv(x);
    case Op::det: return det(x);
    case Op::conv2d:
      return conv2d(x, y, in[2], {.stride = {n.perm[0], n.perm[1]}, .padding = {n.perm[2], n.perm[3]},
                                  .dilation = {n.perm[4], n.perm[5]}});
    case Op::max_pool: case Op::avg_pool: {
      const PoolOptions o{.stride = {n.perm[2], n.perm[3]}, .padding = {n.perm[4], n.perm[5]}};
      return n.op == Op::max_pool ? max_pool(x, {n.perm[0], n.perm[1]}, o) : avg_pool(x, {n.perm[0], n.perm[1]}, o);
    }
  }
  throw std::logic_error("fuzz::apply: unknown op");
}

/// The graph's output for the given inputs (one Tensor per input node, in order).
inline Tensor run(const Graph& g, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> vals;
  vals.reserve(g.nodes.size());
  std::size_t next = 0;
  for (const Node& n : g.nodes) {
    if (n.op == Op::input) {
      vals.push_back(inputs[next++]);
      continue;
    }
    std::vector<Tensor> in;
    for (int a : n.args) in.push_back(vals[static_cast<std::size_t>(a)]);
    vals.push_back(fuzz::apply(n, in));
  }
  return vals[static_cast<std::size_t>(g.output)];
}

struct Verdict {
  enum Kind { passed, skipped, failed } kind = passed;
  std::string why;                                  // for skipped and failed graphs
  double value_error = 0, first_error = 0, second_error = 0;  // the largest errors seen, for the summary
};

namespace detail {

// Richardson extrapolation of an estimate D(h) with an error series in h^2, h^4, ...: from D(h), D(h/2), D(h/4),
// the extrapolated value and an estimate of its error (per element).
struct Extrapolated {
  std::vector<Real> value, error;
};
inline Extrapolated richardson(const std::vector<Real>& d1, const std::vector<Real>& d2, const std::vector<Real>& d4) {
  Extrapolated out;
  for (std::size_t i = 0; i < d1.size(); ++i) {
    const Real r1 = (4 * d2[i] - d1[i]) / 3, r2 = (4 * d4[i] - d2[i]) / 3;
    out.value.push_back((16 * r2 - r1) / 15);
    out.error.push_back(std::fabs(r2 - r1));
  }
  return out;
}

inline double worst_error(const std::vector<double>& ad, const std::vector<Real>& ref, std::size_t* at) {
  Real scale = 1;
  for (Real r : ref) scale = std::max(scale, std::fabs(r));
  double worst = 0;
  for (std::size_t i = 0; i < ad.size(); ++i) {
    const double e = static_cast<double>(std::fabs(static_cast<Real>(ad[i]) - ref[i]) / scale);
    if (!(e <= worst)) {
      worst = std::isnan(e) ? INFINITY : e;
      *at = i;
    }
  }
  return worst;
}

inline std::vector<double> flat(const std::vector<Tensor>& ts) {
  std::vector<double> out;
  for (const Tensor& t : ts) out.insert(out.end(), t.value().begin(), t.value().end());
  return out;
}

}  // namespace detail

/// Checks one graph; never throws (an exception from xgrad is a failure).
inline Verdict check(const Graph& g, const Tolerances& tol = {}) {
  // Inputs and a tangent direction (fixed by the seed), as Tensors and as one flat long double vector.
  std::vector<Tensor> inputs, tangent;
  std::vector<Real> theta0, dir;
  std::mt19937_64 rng(g.seed ^ 0x5DEECE66Dull);
  for (int id : g.inputs) {
    const Array& v = g.nodes[static_cast<std::size_t>(id)].value;
    Array t = Array::from_shape(v.shape());
    for (double& e : t) e = std::uniform_real_distribution<double>(-1, 1)(rng);
    inputs.emplace_back(v);
    tangent.emplace_back(t);
    theta0.insert(theta0.end(), v.begin(), v.end());
    dir.insert(dir.end(), t.begin(), t.end());
  }
  const std::size_t n = theta0.size();
  const std::size_t out = static_cast<std::size_t>(g.output);

  Branches base_branches;
  const Ref y0 = evaluate(g, theta0, &base_branches)[out];

  // The reference output at theta0 + sum_k t_k d_k; `crossed` is set when a kink lies between it and theta0.
  // A tie at the base point that holds at every stencil point is two copies of one function (maximum(x, x), the
  // max of a broadcast, relu(x - x)): there xgrad's conventions (a tie's cotangent split equally, a derivative of
  // 0 at 0) give the derivative of the function, so only ties that break are skipped.
  bool crossed = false, nonfinite = false;
  auto ref_at = [&](const std::vector<std::pair<Real, const std::vector<Real>*>>& moves) {
    std::vector<Real> th = theta0;
    for (const auto& [t, d] : moves)
      for (std::size_t i = 0; i < n; ++i) th[i] += t * (*d)[i];
    Branches br;
    Ref y = evaluate(g, th, &br)[out];
    if (br != base_branches) crossed = true;
    for (Real v : y.v)
      if (!std::isfinite(v)) nonfinite = true;
    return y.v;
  };
  auto weighted = [&](const std::vector<Real>& y) {
    Real s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += g.weights.data()[i] * y[i];
    return s;
  };
  // d/dt F(theta0 + t d) for a vector F, and d^2/(ds dt) of s(theta0 + s u + t d), from steps h, h/2, h/4.
  auto derivative = [&](const std::vector<Real>& d, Real h) {
    std::vector<std::vector<Real>> est;
    for (Real step : {h, h / 2, h / 4}) {
      const auto plus = ref_at({{step, &d}}), minus = ref_at({{-step, &d}});
      std::vector<Real> e(plus.size());
      for (std::size_t i = 0; i < e.size(); ++i) e[i] = (plus[i] - minus[i]) / (2 * step);
      est.push_back(std::move(e));
    }
    return detail::richardson(est[0], est[1], est[2]);
  };
  auto mixed = [&](const std::vector<Real>& u, const std::vector<Real>& d, Real h) {
    std::vector<std::vector<Real>> est;
    for (Real step : {h, h / 2, h / 4}) {
      const Real pp = weighted(ref_at({{step, &u}, {step, &d}})), pm = weighted(ref_at({{step, &u}, {-step, &d}}));
      const Real mp = weighted(ref_at({{-step, &u}, {step, &d}})), mm = weighted(ref_at({{-step, &u}, {-step, &d}}));
      est.push_back({(pp - pm - mp + mm) / (4 * step * step)});
    }
    return detail::richardson(est[0], est[1], est[2]);
  };
  // The gradient, jvp and hvp by differences; `error` is their estimated error in units of the tolerance each is
  // compared with, relative to `scale` (the largest magnitude among them, at least 1).
  struct Differences {
    std::vector<Real> grad, jvp, hvp;
    Real error = 0, scale = 1;
  };
  auto differences = [&](Real h) {
    Differences fd{std::vector<Real>(n), {}, std::vector<Real>(n)};
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<Real> e(n, 0.0L);
      e[i] = 1;
      const auto d = derivative(e, h);
      fd.grad[i] = weighted(d.value);
      Real err = 0;
      for (std::size_t k = 0; k < d.error.size(); ++k) err += std::fabs(g.weights.data()[k]) * d.error[k];
      fd.error = std::max(fd.error, err / Real(tol.first));
      const auto m = mixed(e, dir, h);
      fd.hvp[i] = m.value[0];
      fd.error = std::max(fd.error, m.error[0] / Real(tol.second));
    }
    const auto jvp = derivative(dir, h);
    fd.jvp = jvp.value;
    for (Real err : jvp.error) fd.error = std::max(fd.error, err / Real(tol.first));
    for (const auto& v : {fd.grad, fd.hvp, fd.jvp})
      for (Real x : v) fd.scale = std::max(fd.scale, std::fabs(x));
    return fd;
  };

  std::ostringstream why;
  why << std::setprecision(17);
  Verdict verdict;
  auto fail = [&](const std::string& what) {
    verdict.kind = Verdict::failed;
    verdict.why = what;
    return verdict;
  };
  try {
    auto f = [&g](const std::vector<Tensor>& xs) { return run(g, xs); };
    auto s = [&g](const std::vector<Tensor>& xs) { return sum(run(g, xs) * Tensor(g.weights)); };

    // The value, against the reference at the base point.
    const Tensor y = f(inputs);
    if (y.shape() != y0.shape)
      return fail("value: shape " + shape_str(y.shape()) + ", the reference " + shape_str(y0.shape));
    std::size_t at = 0;
    const std::vector<double> yv(y.value().begin(), y.value().end());
    verdict.value_error = detail::worst_error(yv, y0.v, &at);
    if (const double e = verdict.value_error; !(e <= tol.value)) {
      why << "value: element " << at << " is " << yv[at] << ", the reference " << static_cast<double>(y0.v[at])
          << " (error " << e << ")";
      return fail(why.str());
    }

    // Finite differences first (a skip costs no AD work): with h = 1e-3, or 1e-4 when those cross a kink or do
    // not converge (curvature on a smaller scale, as after an argument scaled to hundreds).
    Differences fd;
    for (const Real h : {1e-3L, 1e-4L}) {
      crossed = nonfinite = false;
      fd = differences(h);
      if (!crossed && !nonfinite && fd.error <= fd.scale / 10) break;
      if (h < 1e-3L) {
        if (nonfinite) return {Verdict::skipped, "a stencil point outside the domain"};
        if (crossed) return {Verdict::skipped, "a kink within a finite-difference step"};
        return {Verdict::skipped, "finite differences do not converge (error estimate " +
                                      std::to_string(static_cast<double>(fd.error / fd.scale)) + " of the tolerance)"};
      }
    }

    auto compare = [&](const char* what, const std::vector<double>& ad, const std::vector<Real>& fd, double t,
                       double& worst) {
      std::size_t i = 0;
      const double e = detail::worst_error(ad, fd, &i);
      worst = std::max(worst, e);
      if (e <= t) return true;
      why << what << ": element " << i << " is " << ad[i] << ", finite differences " << static_cast<double>(fd[i])
          << " (error " << e << ")";
      return false;
    };
    const auto [s0, gradient] = value_and_grad(s)(inputs);
    if (!compare("value_and_grad's value", {s0.item()}, {weighted(y0.v)}, tol.value, verdict.value_error) ||
        !compare("gradient", detail::flat(gradient), fd.grad, tol.first, verdict.first_error) ||
        !compare("jvp", detail::flat({jvp(f, inputs, tangent).second}), fd.jvp, tol.first, verdict.first_error) ||
        !compare("hvp", detail::flat(hvp(s, inputs, tangent)), fd.hvp, tol.second, verdict.second_error))
      return fail(why.str());
    // No transform may have written into an input's array (backward passes reuse arrays only they reference).
    for (std::size_t k = 0; k < inputs.size(); ++k)
      if (!(inputs[k].value() == g.nodes[static_cast<std::size_t>(g.inputs[k])].value))
        return fail("the value of input " + std::to_string(k) + " changed during the checks");
  } catch (const std::exception& e) {
    return fail(std::string("xgrad threw: ") + e.what());
  }
  return verdict;
}

}  // namespace xgrad::fuzz
