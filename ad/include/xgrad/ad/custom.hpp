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
//
// For rules that custom_vjp cannot express (implicit differentiation's node, whose inputs are a whole list of
// Tensors), two lower-level pieces: ad::make_closure records one node with any callable as its rule, and
// ad::Pullback evaluates a function once and pulls it back many times, each time for chosen inputs only.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/tape.hpp"
#include "xgrad/ad/transforms.hpp"

namespace xgrad {

namespace detail {
template <class C>
void closure_rule(const ad::Node& n, const Tensor& g, ad::Grads& d) {
  (*static_cast<const C*>(n.extra.data.get()))(n, g, d);
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

namespace ad {

/// Record one node: `value` as the result of `op` on `inputs`, with the backward rule `rule(node, g, grads)`, any
/// callable (the node keeps it, and what it captures, alive until the tape frees the node); ad::make takes a plain
/// function pointer instead, which allocates nothing. As in every rule, grads(i, ct) adds input i's cotangent (of
/// input i's shape), inputs with !grads.needs(i) may be skipped, and when grads.recording() the work must be done
/// with Tensor ops so that enclosing levels see it (derivatives of any order). Returns a constant when no live
/// level traces an input. custom_vjp, checkpoint and implicit differentiation's nodes are made with it.
template <class C>
Tensor make_closure(const char* op, const Tensor& value, std::vector<Tensor> inputs, C rule) {
  return make(op, value.value(), std::move(inputs), &xgrad::detail::closure_rule<C>,
              Extra{.param = 0.0, .ints = {}, .data = std::make_shared<const C>(std::move(rule))});
}

/// A function of a list of Tensors evaluated once and pulled back as often as needed, each time for chosen inputs
/// only: the vjp that rules need (implicit differentiation evaluates F once per backward pass, then pulls back once
/// per matvec of its linear solve, asking for x's cotangent only, and once more for theta's).
///
///   ad::Pullback pb({x, theta}, {true, true}, [&](const std::vector<Tensor>& in) { return F(in[0], in[1]); });
///   pb.output();   // F(x, theta)
///   pb(u, {0});    // {(dF/dx)^T u}: one backward sweep, only x's cotangent returned
///   pb(u, {1});    // {(dF/dtheta)^T u}
///
/// Input i is traced by the pullback when traced[i]; otherwise f sees it as it is (a constant here, still traced by
/// enclosing levels) and it cannot be chosen. Cotangents are recorded on the enclosing live levels, like every
/// transform's (derivatives of any order); an entry is std::nullopt when the output does not depend on that input.
/// A Pullback belongs to the thread that made it.
class Pullback {
 public:
  template <class F>
  Pullback(std::vector<Tensor> inputs, const std::vector<bool>& traced, F f)
      : level_(std::make_unique<Level>()), inputs_(std::move(inputs)), traced_(traced) {
    if (traced_.size() != inputs_.size())
      throw MisuseError("xgrad::ad::Pullback: " + std::to_string(traced_.size()) + " traced flags for " +
                        std::to_string(inputs_.size()) + " inputs");
    for (std::size_t i = 0; i < inputs_.size(); ++i)
      if (traced_[i]) inputs_[i] = level_->input(inputs_[i]);
    out_ = f(static_cast<const std::vector<Tensor>&>(inputs_));
    level_->end_forward();
  }

  /// f's value (without this pullback's trace; enclosing levels trace it as usual).
  Tensor output() const { return level_->output(out_); }

  /// The cotangents of inputs which[0], which[1], ... for the cotangent `ct` of the output (of its shape).
  std::vector<std::optional<Tensor>> operator()(const Tensor& ct, const std::vector<std::size_t>& which) const {
    if (ct.shape() != out_.shape())
      throw ShapeError("xgrad::ad::Pullback: cotangent of shape " + shape_str(ct.shape()) +
                       " for an output of shape " + shape_str(out_.shape()));
    std::vector<Tensor> chosen;
    chosen.reserve(which.size());
    for (std::size_t i : which) {
      if (i >= inputs_.size() || !traced_[i])
        throw MisuseError("xgrad::ad::Pullback: input " + std::to_string(i) + " is not traced by this pullback");
      chosen.push_back(inputs_[i]);
    }
    auto cts = level_->backward({out_}, {ct}, chosen);
    for (auto& c : cts)
      if (c) c = level_->output(*c);
    return cts;
  }

 private:
  std::unique_ptr<Level> level_;  // a Level never moves; the Pullback may
  std::vector<Tensor> inputs_;    // traced ones lifted on level_
  std::vector<bool> traced_;
  Tensor out_;                    // f's output, traced by level_
};

}  // namespace ad

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
    return ad::make_closure("custom_vjp", y, {args...}, std::move(rule));
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
    return ad::make_closure("checkpoint", y, {args...}, std::move(rule));
  };
}

}  // namespace xgrad
