#pragma once
// Gradient transformations, as in optax: a pair of functions
//
//   auto opt = optim::adam(1e-3);
//   auto state = opt.init(params);                               // a pytree (printable, savable)
//   auto [updates, new_state] = opt.update(grads, state, params); // updates: grads' type
//   params = optim::apply_updates(params, updates);
//
// `Transform<Init, Update>` holds the two functions as generic callables, so one transform works for any pytree of
// parameters (a Tensor, structs, std::vector<Tensor>, std::map<std::string, Tensor>, ...) and its state type follows
// the parameter type: `ScaleByAdamState<Model>{count, mu, nu}`. States are aggregates of Tensors and containers —
// pytrees — and every update is computed with Tensor ops, so an optimizer run inside `grad` is differentiated
// through (step counts are Tensors too, but constants: nothing is differentiated with respect to them).
#include <cmath>
#include <type_traits>
#include <utility>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/tensor.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::optim {

/// What `update` returns: the transformed updates (same type as the gradients) and the new state.
/// An aggregate, so `auto [updates, state] = opt.update(...)` works, and a pytree.
template <class U, class S>
struct Updated {
  U updates;  ///< transformed updates, same pytree type as the incoming gradients
  S state;    ///< the new state of the transform
};

/// The state of a stateless transform (optax.EmptyState): a pytree without leaves.
struct EmptyState {};

/// A gradient transformation: `init(params) -> State`, `update(grads, state, params) -> Updated{updates, state}`.
/// Init and Update are callables generic in the parameter type; build one with make_transform.
template <class Init, class Update>
struct Transform {
  Init init_fn;      ///< params -> state
  Update update_fn;  ///< (grads, state, params) -> Updated{updates, state}
  const char* name = "optim::Transform::update";  ///< what error messages call it ("optim::adam.update", ...)

  /// The initial state for `params` (a pytree built from the parameters' shapes and, for some transforms, values).
  template <class P>
  auto init(const P& params) const {
    return init_fn(params);
  }
  /// One step: transform `grads` given the current `state` and `params`; returns the updates and the new state.
  template <class G, class S, class P>
  auto update(const G& grads, const S& state, const P& params) const {
    // A gradient of another shape would broadcast silently through the Tensor arithmetic: refuse it.
    tree::check_like(params, grads, name, "gradient");
    return update_fn(grads, state, params);
  }
};

/// A Transform from its two functions (usually generic lambdas).
template <class Init, class Update>
Transform<Init, Update> make_transform(Init init, Update update, const char* name = "optim::Transform::update") {
  return {std::move(init), std::move(update), name};
}

/// `t` under another name for its error messages: adam is a chain, but its errors say "optim::adam.update".
template <class Init, class Update>
Transform<Init, Update> named(const char* name, Transform<Init, Update> t) {
  t.name = name;
  return t;
}

/// True for Transform types.
template <class T>
inline constexpr bool is_transform_v = false;
template <class I, class U>
inline constexpr bool is_transform_v<Transform<I, U>> = true;

/// The state type of transform T for parameters of type P.
template <class T, class P>
using state_t = decltype(std::declval<const T&>().init(std::declval<const P&>()));

/// params + updates, leaf by leaf (optax.apply_updates); the result has the parameters' type.
template <class P, class U>
P apply_updates(const P& params, const U& updates) {
  tree::check_like(params, updates, "optim::apply_updates", "update");
  return tree::map([](const auto& p, const auto& u) { return Tensor(p) + Tensor(u); }, params, updates);
}

/// The transform that returns the gradients unchanged (optax.identity).
inline auto identity() {
  return make_transform([](const auto&) { return EmptyState{}; },
                        [](const auto& grads, const EmptyState& s, const auto&) {
                          return Updated<std::remove_cvref_t<decltype(grads)>, EmptyState>{grads, s};
                        });
}

/// A stateless transform applying `f(grad_leaf, param_leaf) -> Tensor` to every leaf (optax.stateless_with_tree_map).
/// Both leaves are passed as Tensors.
template <class F>
auto stateless(F f) {
  return make_transform([](const auto&) { return EmptyState{}; },
                        [f](const auto& grads, const EmptyState& s, const auto& params) {
                          using G = std::remove_cvref_t<decltype(grads)>;
                          G u = tree::map([&](const auto& g, const auto& p) { return f(Tensor(g), Tensor(p)); },
                                          grads, params);
                          return Updated<G, EmptyState>{std::move(u), s};
                        });
}

namespace detail {
/// A step counter as a 0-d constant Tensor (a pytree leaf, so it is saved with the state).
inline Tensor zero_count() { return Tensor(0.0); }
/// count + 1 (a constant).
inline Tensor increment(const Tensor& count) { return Tensor(count.item() + 1.0); }
/// The step number a counter holds.
inline int step_of(const Tensor& count) { return static_cast<int>(std::lround(count.item())); }
/// A tree like `t` with every leaf filled with `value` (optax's tree_full_like).
template <class T>
T full_like(const T& t, double value) {
  return tree::map(
      [value](const auto& leaf) {
        Array a = xt::zeros<double>(tree::leaf_value(leaf).shape());
        a.fill(value);
        return a;
      },
      t);
}
}  // namespace detail

}  // namespace xgrad::optim
