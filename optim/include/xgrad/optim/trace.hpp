#pragma once
// Momentum (optax.trace): t = decay * t + g; updates = t, or g + decay * t with Nesterov momentum.
#include <type_traits>
#include <utility>

#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// State of trace (optax.TraceState): the momentum buffer, a tree of the parameters' type.
template <class P>
struct TraceState {
  P trace;  ///< decayed sum of past updates
};

/// Momentum: `t = decay * t + g`, updates = t (heavy ball) or `g + decay * t` (nesterov). The buffer starts at 0.
inline auto trace(double decay, bool nesterov = false) {
  return make_transform(
      [](const auto& params) {
        using P = std::remove_cvref_t<decltype(params)>;
        return TraceState<P>{tree::zeros_like(params)};
      },
      [decay, nesterov](const auto& grads, const auto& state, const auto&) {
        using G = std::remove_cvref_t<decltype(grads)>;
        using S = std::remove_cvref_t<decltype(state)>;
        auto t = tree::map([&](const auto& tr, const auto& g) { return decay * Tensor(tr) + Tensor(g); }, state.trace,
                           grads);
        G u = nesterov ? tree::map([&](const auto& g, const auto& tr) { return Tensor(g) + decay * Tensor(tr); },
                                   grads, t)
                       : tree::map([](const auto&, const auto& tr) { return Tensor(tr); }, grads, t);
        return Updated<G, S>{std::move(u), S{std::move(t)}};
      });
}

}  // namespace xgrad::optim
