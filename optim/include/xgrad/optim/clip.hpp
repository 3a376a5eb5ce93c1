#pragma once
// Clipping: elementwise (optax.clip) and by the global norm over all leaves (optax.clip_by_global_norm).
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// The Euclidean norm of all elements of all leaves of a tree (optax.global_norm), a 0-d Tensor.
/// Its derivative at 0 is taken as 0 (as xgrad::norm's), so clipping stays differentiable at zero gradients.
template <class T>
Tensor global_norm(const T& t) {
  std::vector<Tensor> norms;
  tree::for_each([&](const auto& leaf) { norms.push_back(norm(Tensor(leaf))); }, t);
  if (norms.empty()) return Tensor(0.0);
  return norm(stack(norms));
}

/// updates = g limited to [-max_delta, max_delta] elementwise (optax.clip).
inline auto clip(double max_delta) {
  return stateless([max_delta](const Tensor& g, const Tensor&) { return xgrad::clip(g, -max_delta, max_delta); });
}

/// updates = g if global_norm(g) < max_norm, else g * max_norm / global_norm(g) (optax.clip_by_global_norm):
/// the result's global norm is at most max_norm.
inline auto clip_by_global_norm(double max_norm) {
  return make_transform([](const auto&) { return EmptyState{}; },
                        [max_norm](const auto& grads, const EmptyState& s, const auto&) {
                          using G = std::remove_cvref_t<decltype(grads)>;
                          const Tensor n = global_norm(grads);
                          if (n.item() < max_norm) return Updated<G, EmptyState>{grads, s};
                          const Tensor factor = max_norm / n;
                          G u = tree::map([&](const auto& g) { return Tensor(g) * factor; }, grads);
                          return Updated<G, EmptyState>{std::move(u), s};
                        });
}

}  // namespace xgrad::optim
