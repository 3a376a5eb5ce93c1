#pragma once
// Transforms, as in JAX: grad, value_and_grad, value_and_grad_aux, vjp, jvp, hvp, jacobian, hessian.
// Each differentiates with respect to its function's first argument, a pytree (a Tensor, a struct of Tensors,
// a std::vector<Tensor>, ...), and returns derivatives of the same type. Other arguments pass through; if an
// enclosing transform traces them, derivatives flow to them too. Transforms nest: grad(grad(f)), hvp, ...
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad {

/// A tree like x with fn (Tensor -> Tensor) applied to its Tensor leaves; Array leaves (constants) and static fields
/// are kept: `map_tensors(params, [](const Tensor& t) { return stop_gradient(t); })`.
template <class T, class Fn>
T map_tensors(const T& x, Fn fn) {
  return tree::map(
      [&](const auto& leaf) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(leaf)>, Tensor>)
          return fn(leaf);
        else
          return leaf;
      },
      x);
}

namespace detail {

template <class T>
using is_tensor = std::is_same<std::remove_cvref_t<T>, Tensor>;

// The Tensor leaves of x lifted as inputs of `level`.
template <class T>
T lift(ad::Level& level, const T& x) {
  return map_tensors(x, [&](const Tensor& t) { return level.input(t); });
}

inline Tensor ones_like(const Tensor& t) { return Tensor(Array(xt::ones<double>(t.value().shape()))); }
inline Tensor zeros_like(const Tensor& t) { return Tensor(Array(xt::zeros<double>(t.value().shape()))); }

// Cotangents for the leaves of `lifted` (a tree lifted on `level`), rebuilt as a tree of the same type; leaves the
// outputs do not reach get zeros.
template <class T>
T cotangents(const ad::Level& level, const T& lifted, const std::vector<Tensor>& outputs,
             const std::vector<Tensor>& seeds) {
  auto [ins, def] = tree::flatten<Tensor>(lifted);
  auto adj = level.backward(outputs, seeds, ins);
  std::vector<Tensor> out;
  out.reserve(ins.size());
  for (std::size_t i = 0; i < ins.size(); ++i) out.push_back(adj[i] ? level.output(*adj[i]) : zeros_like(ins[i]));
  return tree::unflatten(def, out);
}

inline void check_scalar(const Tensor& y, const char* op) {
  if (y.size() != 1)
    throw MisuseError(std::string("xgrad::") + op + ": the function must return a scalar (one element), got shape " +
                      shape_str(y.shape()) + "; use vjp or jacobian for non-scalar outputs");
}

// Strip `level` from every Tensor leaf of a returned tree (anything that is not a tree passes unchanged).
template <class T>
T strip(const ad::Level& level, const T& t) {
  if constexpr (is_tensor<T>::value)
    return level.output(t);
  else if constexpr (tree::is_leaf_v<T> || !tree::is_node_v<T>)
    return t;
  else
    return map_tensors(t, [&](const Tensor& u) { return level.output(u); });
}

}  // namespace detail

/// value_and_grad(f)(x, args...) -> {f(x, args...), df/dx}; f returns a one-element Tensor.
template <class F>
auto value_and_grad(F f) {
  return [f](const auto& x, const auto&... args) {
    using X = std::remove_cvref_t<decltype(x)>;
    ad::Level level;
    const X xl = detail::lift(level, x);
    Tensor y = f(xl, args...);
    detail::check_scalar(y, "value_and_grad");
    level.end_forward();
    X g = detail::cotangents(level, xl, {y}, {detail::ones_like(y)});
    return std::pair<Tensor, X>(level.output(y), std::move(g));
  };
}

/// grad(f)(x, args...) -> df/dx, of x's type.
template <class F>
auto grad(F f) {
  return [f](const auto& x, const auto&... args) { return value_and_grad(f)(x, args...).second; };
}

/// value_and_grad_aux(f)(x, args...) where f returns std::pair<Tensor, Aux> -> std::tuple{value, aux, grad}.
template <class F>
auto value_and_grad_aux(F f) {
  return [f](const auto& x, const auto&... args) {
    using X = std::remove_cvref_t<decltype(x)>;
    ad::Level level;
    const X xl = detail::lift(level, x);
    auto [y, aux] = f(xl, args...);
    detail::check_scalar(y, "value_and_grad_aux");
    level.end_forward();
    X g = detail::cotangents(level, xl, {y}, {detail::ones_like(y)});
    return std::make_tuple(level.output(y), detail::strip(level, aux), std::move(g));
  };
}

/// vjp(f, x, args...) -> {y, pullback}: pullback(ct) gives the cotangent of x (x's type) for a cotangent ct of y's
/// type. The pullback keeps what it needs of the tape alive; call it as often as you like, on this thread.
template <class F, class X, class... Args>
auto vjp(F f, const X& x, const Args&... args) {
  auto level = std::make_shared<ad::Level>();
  const X xl = detail::lift(*level, x);
  auto y = f(xl, args...);
  using Y = decltype(y);
  level->end_forward();
  auto outs = tree::leaves<Tensor>(y);
  auto pullback = [level, xl, outs](const Y& ct) {
    auto seeds = tree::leaves<Tensor>(ct);
    if (seeds.size() != outs.size())
      throw ShapeError("xgrad::vjp: the cotangent has " + std::to_string(seeds.size()) + " leaves, the output " +
                       std::to_string(outs.size()));
    for (std::size_t i = 0; i < seeds.size(); ++i)
      if (seeds[i].shape() != outs[i].shape())
        throw ShapeError("xgrad::vjp: cotangent of shape " + shape_str(seeds[i].shape()) + " for an output of shape " +
                         shape_str(outs[i].shape()));
    return detail::cotangents(*level, xl, outs, seeds);
  };
  return std::pair<Y, decltype(pullback)>(detail::strip(*level, y), std::move(pullback));
}

/// jvp(f, x, t, args...) -> {f(x), J t}: forward mode, by transposing the (linear) pullback: J t is the
/// cotangent of u for the map u -> pullback(u) . t (one extra backward sweep; works at any nesting depth).
template <class F, class X, class... Args>
auto jvp(F f, const X& x, const X& t, const Args&... args) {
  tree::check_like(x, t, "jvp", "tangent");
  auto [y, pullback] = vjp(f, x, args...);
  using Y = decltype(y);
  const Y u0 = tree::map([](const auto& leaf) { return detail::zeros_like(Tensor(leaf)); }, y);
  ad::Level level;
  const Y ul = detail::lift(level, u0);
  const X r = pullback(ul);
  level.end_forward();
  Y ydot = detail::cotangents(level, ul, tree::leaves<Tensor>(r), tree::leaves<Tensor>(t));
  return std::pair<Y, Y>(y, std::move(ydot));
}

/// Sum over leaves of <a, b>: the inner product of two pytrees of the same structure.
template <class T>
Tensor vdot(const T& a, const T& b) {
  Tensor total(0.0);
  tree::for_each([&](const auto& u, const auto& v) { total = total + sum(Tensor(u) * Tensor(v)); }, a, b);
  return total;
}

/// Hessian-vector product H v of a scalar f at x, by reverse over reverse: grad of x -> <grad f(x), v>.
template <class F, class X, class... Args>
X hvp(F f, const X& x, const X& v, const Args&... args) {
  tree::check_like(x, v, "hvp", "tangent v");
  return grad([&](const X& y) { return vdot(grad(f)(y, args...), v); })(x);
}

/// jacobian(f)(x, args...) for a Tensor x and Tensor-valued f: an Array of shape f(x).shape + x.shape.
/// Uses reverse mode (one pullback per output element) when outputs are fewer than inputs, forward otherwise.
template <class F>
auto jacobian(F f) {
  return [f](const Tensor& x, const auto&... args) {
    auto [y, pullback] = vjp(f, x, args...);
    const std::size_t m = y.size(), n = x.size();
    Shape js = y.shape();
    for (auto d : x.shape()) js.push_back(d);
    Array J = Array::from_shape(js);
    if (m <= n) {
      for (std::size_t i = 0; i < m; ++i) {
        Array e = xt::zeros<double>(y.value().shape());
        e.data()[i] = 1.0;
        const Tensor row = pullback(Tensor(std::move(e)));
        std::copy(row.value().begin(), row.value().end(), J.data() + i * n);
      }
    } else {
      for (std::size_t j = 0; j < n; ++j) {
        Array e = xt::zeros<double>(x.value().shape());
        e.data()[j] = 1.0;
        const Tensor col = jvp(f, x, Tensor(std::move(e)), args...).second;
        for (std::size_t i = 0; i < m; ++i) J.data()[i * n + j] = col.value().data()[i];
      }
    }
    return J;
  };
}

/// hessian(f)(x, args...) for scalar f of a Tensor x: an Array of shape x.shape + x.shape (jacobian of grad).
template <class F>
auto hessian(F f) {
  return [f](const Tensor& x, const auto&... args) {
    return jacobian([&](const Tensor& y) { return grad(f)(y, args...); })(x);
  };
}

}  // namespace xgrad
