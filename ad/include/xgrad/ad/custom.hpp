#pragma once
// Custom differentiation rules (like jax.custom_vjp / torch.autograd.Function) and checkpointing (jax.checkpoint).
//
//   // y = log(1 + exp(x)) with a hand-written, numerically stable derivative:
//   auto softplus2 = xgrad::custom_vjp(
//       [](const Tensor& x) { Tensor y = log1p(exp(x)); return std::pair{y, x}; },     // value, residuals
//       [](const Tensor& x, const Tensor& g) { return std::tuple{g * sigmoid(x)}; });   // one cotangent per argument
//   Tensor y = softplus2(x);
//
// The forward runs as ordinary traced code, so residuals are traced by every enclosing transform; the backward is
// written with Tensor ops, so derivatives of any order go through it (as JAX differentiates a custom_vjp's bwd).
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "xgrad/ad/tape.hpp"
#include "xgrad/ad/transforms.hpp"

namespace xgrad {

namespace detail {
template <class C>
void closure_rule(const ad::Node& n, const Tensor& g, ad::Grads& d) {
  (*static_cast<const C*>(n.extra.data.get()))(n, g, d);
}
// Record `value` as the result of one node over `inputs` whose rule is the callable `c(node, g, grads)`.
template <class C>
Tensor make_closure(const char* op, const Tensor& value, std::vector<Tensor> inputs, C c) {
  return ad::make(op, value.value(), std::move(inputs), &closure_rule<C>,
                  ad::Extra{.param = 0.0, .ints = {}, .data = std::make_shared<const C>(std::move(c))});
}
// A custom rule's cotangent must have its argument's shape: say so in the user's terms.
inline const Tensor& checked_cotangent(const Tensor& ct, const Tensor& arg, std::size_t i) {
  if (ct.shape() != arg.shape())
    throw ShapeError("xgrad::custom_vjp: bwd returned a cotangent of shape " + shape_str(ct.shape()) +
                     " for argument " + std::to_string(i) + " of shape " + shape_str(arg.shape()) +
                     " (each cotangent must have its argument's shape)");
  return ct;
}
}  // namespace detail

/// custom_vjp(fwd, bwd) -> a function of Tensors. fwd(args...) returns std::pair{value, residuals};
/// bwd(residuals, g) returns a std::tuple with one cotangent per argument, each of that argument's shape.
template <class Fwd, class Bwd>
auto custom_vjp(Fwd fwd, Bwd bwd) {
  return [fwd, bwd](const auto&... args) {
    static_assert((std::is_same_v<std::remove_cvref_t<decltype(args)>, Tensor> && ...),
                  "xgrad::custom_vjp: arguments must be Tensors");
    auto [y, res] = fwd(args...);
    using Res = decltype(res);
    auto rule = [bwd, res = std::move(res)](const ad::Node& n, const Tensor& g, ad::Grads& d) {
      auto cts = bwd(res, g);
      static_assert(std::tuple_size_v<decltype(cts)> == sizeof...(args),
                    "xgrad::custom_vjp: bwd must return one cotangent per argument");
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((d.needs(I) ? d(I, detail::checked_cotangent(Tensor(std::get<I>(cts)), n.in(I), I)) : void()), ...);
      }(std::make_index_sequence<sizeof...(args)>{});
    };
    (void)sizeof(Res);
    return detail::make_closure("custom_vjp", y, {args...}, std::move(rule));
  };
}

/// checkpoint(f) -> f, but nothing inside f is kept on the tape: the backward pass recomputes f (under its own
/// vjp) instead. Trades compute for memory on long chains. Arguments must be Tensors; f returns a Tensor.
template <class F>
auto checkpoint(F f) {
  return [f](const auto&... args) {
    static_assert((std::is_same_v<std::remove_cvref_t<decltype(args)>, Tensor> && ...),
                  "xgrad::checkpoint: arguments must be Tensors");
    Tensor y;
    {
      ad::NoGrad no_tape;
      y = f(args...);
    }
    auto rule = [f](const ad::Node& n, const Tensor& g, ad::Grads& d) {
      constexpr std::size_t N = sizeof...(args);
      auto call = [&](const std::vector<Tensor>& xs) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) { return f(xs[I]...); }(std::make_index_sequence<N>{});
      };
      auto [y2, pullback] = vjp(call, n.inputs());
      const std::vector<Tensor> cts = pullback(g);
      for (std::size_t i = 0; i < N; ++i)
        if (d.needs(i)) d(i, cts[i]);
    };
    return detail::make_closure("checkpoint", y, {args...}, std::move(rule));
  };
}

}  // namespace xgrad
