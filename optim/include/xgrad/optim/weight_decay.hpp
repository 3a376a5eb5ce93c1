#pragma once
// Decoupled weight decay (optax.add_decayed_weights): updates = g + weight_decay * params.
#include <type_traits>
#include <utility>

#include "xgrad/optim/schedule.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// updates = g + weight_decay * params (optax.add_decayed_weights). Chained before scale_by_learning_rate this is
/// AdamW's decoupled decay; to decay only some leaves, wrap it in `masked`. `weight_decay` may be a traced Tensor
/// (it is evaluated at step 0: this transform keeps no count).
inline auto add_decayed_weights(Scalar weight_decay = 0.0) {
  return make_transform([](const auto&) { return EmptyState{}; },
                        [weight_decay](const auto& grads, const EmptyState& s, const auto& params) {
                          using G = std::remove_cvref_t<decltype(grads)>;
                          const Tensor wd = weight_decay(0);
                          G u = tree::map([&](const auto& g, const auto& p) { return Tensor(g) + wd * Tensor(p); },
                                          grads, params);
                          return Updated<G, EmptyState>{std::move(u), s};
                        });
}

}  // namespace xgrad::optim
