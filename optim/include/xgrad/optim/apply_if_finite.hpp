#pragma once
// Skipping non-finite updates (optax.apply_if_finite).
#include <type_traits>
#include <utility>

#include "xgrad/core/flat.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// State of apply_if_finite (optax.ApplyIfFiniteState). Counters are 0-d Tensors, so the state is a pytree.
template <class S>
struct ApplyIfFiniteState {
  Tensor notfinite_count;  ///< consecutive steps with a non-finite gradient (0 after a finite one)
  Tensor last_finite;      ///< 1 if the last gradient was finite, 0 otherwise
  Tensor total_notfinite;  ///< steps with a non-finite gradient so far
  S inner_state;           ///< the inner transform's state
};

/// `inner`, except that a gradient with a NaN or an infinity anywhere gives zero updates and leaves the inner state
/// untouched; after more than max_consecutive_errors such steps in a row the update goes through anyway (as optax).
template <class T>
auto apply_if_finite(T inner, int max_consecutive_errors) {
  static_assert(is_transform_v<T>, "xgrad::optim::apply_if_finite: the first argument must be a Transform");
  return make_transform(
      [inner](const auto& params) {
        using S = state_t<T, std::remove_cvref_t<decltype(params)>>;
        return ApplyIfFiniteState<S>{Tensor(0.0), Tensor(1.0), Tensor(0.0), inner.init(params)};
      },
      [inner, max_consecutive_errors](const auto& grads, const auto& state, const auto& params) {
        using G = std::remove_cvref_t<decltype(grads)>;
        using S = std::remove_cvref_t<decltype(state)>;
        const bool finite = flat::all_finite(grads);
        const double notfinite = finite ? 0.0 : state.notfinite_count.item() + 1.0;
        S out{Tensor(notfinite), Tensor(finite ? 1.0 : 0.0),
              Tensor(state.total_notfinite.item() + (finite ? 0.0 : 1.0)), state.inner_state};
        if (finite || notfinite > max_consecutive_errors) {
          auto r = inner.update(grads, state.inner_state, params);
          out.inner_state = std::move(r.state);
          return Updated<G, S>{std::move(r.updates), std::move(out)};
        }
        return Updated<G, S>{tree::zeros_like(grads), std::move(out)};
      });
}

}  // namespace xgrad::optim
