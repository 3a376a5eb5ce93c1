#pragma once
// Combining transforms: chain (run several in sequence), maybe (a transform switched on or off when built),
// masked (apply a transform to a subset of the leaves).
//
//   auto opt = optim::chain(optim::clip_by_global_norm(1.0), optim::scale_by_adam(), optim::scale_by_learning_rate(1e-3));
//   auto state = opt.init(params);   // std::tuple of the three states
//   auto decay_weights_only = optim::masked(optim::add_decayed_weights(1e-4),
//                                           [](const std::string& path) { return path.ends_with("weight"); });
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// The transforms applied in sequence, each to the previous one's updates (optax.chain). The state is the
/// std::tuple of their states, in order.
template <class... Ts>
auto chain(Ts... ts) {
  static_assert((is_transform_v<Ts> && ...), "xgrad::optim::chain: every argument must be a Transform");
  auto parts = std::make_tuple(std::move(ts)...);
  return make_transform(
      [parts](const auto& params) {
        return std::apply([&](const auto&... t) { return std::make_tuple(t.init(params)...); }, parts);
      },
      [parts](const auto& grads, const auto& state, const auto& params) {
        using G = std::remove_cvref_t<decltype(grads)>;
        using S = std::remove_cvref_t<decltype(state)>;
        G u = grads;
        S new_state = state;
        [&]<std::size_t... I>(std::index_sequence<I...>) {
          (
              [&] {
                auto r = std::get<I>(parts).update(u, std::get<I>(state), params);
                u = std::move(r.updates);
                std::get<I>(new_state) = std::move(r.state);
              }(),
              ...);
        }(std::index_sequence_for<Ts...>{});
        return Updated<G, S>{std::move(u), std::move(new_state)};
      });
}

/// `inner` when `enabled`, the identity otherwise, decided when the transform is built (like optax's
/// `trace(...) if momentum is not None else identity()`). The state is std::optional of inner's state: empty
/// (printed `None`) when disabled, so its type does not depend on the choice.
template <class T>
auto maybe(bool enabled, T inner) {
  static_assert(is_transform_v<T>, "xgrad::optim::maybe: the argument must be a Transform");
  return make_transform(
      [enabled, inner](const auto& params) {
        using S = state_t<T, std::remove_cvref_t<decltype(params)>>;
        return enabled ? std::optional<S>(inner.init(params)) : std::optional<S>();
      },
      [inner](const auto& grads, const auto& state, const auto& params) {
        using G = std::remove_cvref_t<decltype(grads)>;
        using S = std::remove_cvref_t<decltype(state)>;
        if (!state) return Updated<G, S>{grads, state};
        auto r = inner.update(grads, *state, params);
        return Updated<G, S>{std::move(r.updates), S(std::move(r.state))};
      });
}

/// State of masked (optax.MaskedState): the inner transform's state, kept for all leaves.
template <class S>
struct MaskedState {
  S inner_state;  ///< state of the masked transform
};

namespace detail {
// masked with a function params -> one bool per leaf (in tree::leaves order).
template <class T, class LeafMask>
auto masked_by(T inner, LeafMask leaf_mask) {
  static_assert(is_transform_v<T>, "xgrad::optim::masked: the first argument must be a Transform");
  return make_transform(
      [inner](const auto& params) {
        using S = state_t<T, std::remove_cvref_t<decltype(params)>>;
        return MaskedState<S>{inner.init(params)};
      },
      [inner, leaf_mask](const auto& grads, const auto& state, const auto& params) {
        using G = std::remove_cvref_t<decltype(grads)>;
        using S = std::remove_cvref_t<decltype(state)>;
        const std::vector<bool> mask = leaf_mask(grads);
        std::size_t i = 0;
        // Masked-out leaves enter the inner transform as zeros: they add nothing to global quantities (norms,
        // finiteness) and the inner updates computed for them are discarded.
        const G inner_grads = tree::map(
            [&](const auto& g) { return mask[i++] ? Tensor(g) : Tensor(Array(xt::zeros<double>(tree::leaf_value(g).shape()))); },
            grads);
        auto r = inner.update(inner_grads, state.inner_state, params);
        i = 0;
        G u = tree::map([&](const auto& g, const auto& v) { return mask[i++] ? Tensor(v) : Tensor(g); }, grads,
                        r.updates);
        return Updated<G, S>{std::move(u), S{std::move(r.state)}};
      });
}
}  // namespace detail

/// `inner` applied to the leaves whose key path (tree::paths: "weight", "layers[1].bias", "['w']") satisfies
/// `predicate`; the other leaves' updates pass through unchanged (optax.masked).
template <class T>
auto masked(T inner, std::function<bool(const std::string& path)> predicate) {
  return detail::masked_by(std::move(inner), [predicate = std::move(predicate)](const auto& grads) {
    std::vector<bool> m;
    for (const auto& p : tree::paths(grads)) m.push_back(predicate(p));
    return m;
  });
}

/// `inner` applied to the leaves selected by `mask`, a tree of the gradients' structure whose leaves are one-element
/// Tensors or Arrays: nonzero selects the leaf (the C++ form of optax's pytree of bools; build it with tree::map).
template <class T, class M>
  requires(tree::is_node_v<M> || tree::is_leaf_v<M>)
auto masked(T inner, M mask) {
  std::vector<bool> flags;
  for (const Array& a : tree::leaves(mask)) {
    if (a.size() != 1)
      throw ShapeError("xgrad::optim::masked: mask leaves must have one element, got shape " + shape_str(shape_of(a)));
    flags.push_back(a.data()[0] != 0.0);
  }
  return detail::masked_by(std::move(inner), [flags = std::move(flags)](const auto& grads) {
    if (tree::num_leaves(grads) != flags.size())
      throw ShapeError("xgrad::optim::masked: the mask has " + std::to_string(flags.size()) +
                       " leaves, the gradients " + std::to_string(tree::num_leaves(grads)));
    return flags;
  });
}

}  // namespace xgrad::optim
