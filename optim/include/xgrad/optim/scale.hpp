#pragma once
// Rescaling transforms: by a constant, by a schedule, by the learning rate (with the sign flipped, so that
// `apply_updates` descends), and by the sign of the gradient.
//
//   auto t = optim::scale_by_learning_rate(optim::cosine_decay(0.1, 100));   // updates = -lr(step) * g
#include <type_traits>
#include <utility>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/optim/schedule.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::optim {

/// State of scale_by_schedule and scale_by_learning_rate (optax.ScaleByScheduleState): the number of updates so far.
struct ScaleByScheduleState {
  Tensor count;  ///< updates applied so far (0-d, integer valued)
};

/// updates = step_size * g (optax.scale). `step_size` may be a Tensor traced by an enclosing transform.
inline auto scale(Scalar step_size) {
  return make_transform([](const auto&) { return EmptyState{}; },
                        [step_size](const auto& grads, const EmptyState& s, const auto&) {
                          using G = std::remove_cvref_t<decltype(grads)>;
                          const Tensor c = step_size(0);
                          G u = tree::map([&](const auto& g) { return c * Tensor(g); }, grads);
                          return Updated<G, EmptyState>{std::move(u), s};
                        });
}

/// updates = schedule(count) * g, count = number of previous updates (optax.scale_by_schedule).
inline auto scale_by_schedule(Scalar step_size_fn) {
  return make_transform([](const auto&) { return ScaleByScheduleState{detail::zero_count()}; },
                        [step_size_fn](const auto& grads, const ScaleByScheduleState& s, const auto&) {
                          using G = std::remove_cvref_t<decltype(grads)>;
                          const Tensor c = step_size_fn(detail::step_of(s.count));
                          G u = tree::map([&](const auto& g) { return c * Tensor(g); }, grads);
                          return Updated<G, ScaleByScheduleState>{std::move(u), {detail::increment(s.count)}};
                        });
}

/// updates = -learning_rate(count) * g (or +, with flip_sign = false), optax's scale_by_learning_rate.
/// The state always counts steps (also for a constant rate), so its type does not depend on the rate's kind.
inline auto scale_by_learning_rate(LearningRate learning_rate, bool flip_sign = true) {
  const double m = flip_sign ? -1.0 : 1.0;
  return scale_by_schedule(Schedule([learning_rate, m](int step) { return m * learning_rate(step); }));
}

/// updates = sign(g) (optax.scale_by_sign); the sign is a constant (no derivative).
inline auto scale_by_sign() {
  return stateless([](const Tensor& g, const Tensor&) { return Tensor(sign(g.value())); });
}

}  // namespace xgrad::optim
