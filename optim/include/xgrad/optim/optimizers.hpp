#pragma once
// Ready-made optimizers (optax's aliases), each a chain of the building blocks with optax's parameter names,
// defaults and formulas. Updates come out with the sign flipped: `params = apply_updates(params, updates)` descends.
//
//   auto opt = optim::adam(1e-3, {.eps_root = 1e-8});
//   auto opt = optim::sgd(optim::exponential_decay(0.1, 100, 0.5), {.momentum = 0.9, .nesterov = true});
#include <optional>

#include "xgrad/optim/combine.hpp"
#include "xgrad/optim/moments.hpp"
#include "xgrad/optim/scale.hpp"
#include "xgrad/optim/schedule.hpp"
#include "xgrad/optim/trace.hpp"
#include "xgrad/optim/weight_decay.hpp"

namespace xgrad::optim {

/// Options of sgd (optax.sgd).
struct SgdOptions {
  std::optional<double> momentum = std::nullopt;  ///< momentum decay; none: plain gradient descent (no momentum buffer)
  bool nesterov = false;           ///< Nesterov momentum
};

/// Stochastic gradient descent: chain(maybe(trace(momentum, nesterov)), scale_by_learning_rate(lr)).
/// Without momentum, updates = -lr * g.
inline auto sgd(LearningRate learning_rate, SgdOptions o = {}) {
  return named("optim::sgd.update", chain(maybe(o.momentum.has_value(), trace(o.momentum.value_or(0.0), o.nesterov)),
               scale_by_learning_rate(std::move(learning_rate))));
}

/// Adam (optax.adam): chain(scale_by_adam(o), scale_by_learning_rate(lr)).
inline auto adam(LearningRate learning_rate, AdamOptions o = {}) {
  return named("optim::adam.update", chain(scale_by_adam(o), scale_by_learning_rate(std::move(learning_rate))));
}

/// Options of adamw (optax.adamw): Adam's and the decoupled weight decay.
struct AdamWOptions {
  double b1 = 0.9;             ///< decay of the first moment
  double b2 = 0.999;           ///< decay of the second moment
  double eps = 1e-8;           ///< added to the denominator, outside the square root
  double eps_root = 0.0;       ///< added inside the square root
  double weight_decay = 1e-4;  ///< decoupled weight decay, multiplied by the learning rate
  bool nesterov = false;       ///< Nesterov-accelerated first moment
};

/// AdamW (optax.adamw): chain(scale_by_adam, add_decayed_weights(weight_decay), scale_by_learning_rate(lr)), i.e.
/// updates = -lr * (adam_direction + weight_decay * params). To decay only some leaves, build the chain yourself
/// with `masked(add_decayed_weights(...), predicate)`.
inline auto adamw(LearningRate learning_rate, AdamWOptions o = {}) {
  return named("optim::adamw.update", chain(scale_by_adam({.b1 = o.b1, .b2 = o.b2, .eps = o.eps, .eps_root = o.eps_root, .nesterov = o.nesterov}),
               add_decayed_weights(o.weight_decay), scale_by_learning_rate(std::move(learning_rate))));
}

/// Options of rmsprop (optax.rmsprop).
struct RmspropOptions {
  double decay = 0.9;              ///< decay of the moments
  double eps = 1e-8;               ///< added to the second moment (inside the root when eps_in_sqrt)
  double initial_scale = 0.0;      ///< initial value of the second moment
  bool eps_in_sqrt = true;         ///< g / sqrt(nu + eps) if true, g / (sqrt(nu) + eps) otherwise
  bool centered = false;           ///< divide by the standard deviation (scale_by_stddev) instead of the RMS
  std::optional<double> momentum = std::nullopt;  ///< momentum applied after the learning rate; none: no momentum
  bool nesterov = false;           ///< Nesterov momentum
  bool bias_correction = false;    ///< bias-correct the moments
};

/// RMSProp (optax.rmsprop): chain(scale_by_rms or, if centered, scale_by_stddev; scale_by_learning_rate(lr);
/// trace(momentum, nesterov) if a momentum is given). The state holds std::optional slots for the unused parts.
inline auto rmsprop(LearningRate learning_rate, RmspropOptions o = {}) {
  const RmsOptions r{.decay = o.decay, .eps = o.eps, .initial_scale = o.initial_scale, .eps_in_sqrt = o.eps_in_sqrt,
                     .bias_correction = o.bias_correction};
  return named("optim::rmsprop.update", chain(maybe(!o.centered, scale_by_rms(r)), maybe(o.centered, scale_by_stddev(r)),
               scale_by_learning_rate(std::move(learning_rate)),
               maybe(o.momentum.has_value(), trace(o.momentum.value_or(0.0), o.nesterov))));
}

/// Options of adagrad (optax.adagrad).
struct AdagradOptions {
  double initial_accumulator_value = 0.1;  ///< initial value of the sum of squares
  double eps = 1e-7;                       ///< added inside the square root
};

/// Adagrad (optax.adagrad): chain(scale_by_rss(initial_accumulator_value, eps), scale_by_learning_rate(lr)).
inline auto adagrad(LearningRate learning_rate, AdagradOptions o = {}) {
  return named("optim::adagrad.update", chain(scale_by_rss(o.initial_accumulator_value, o.eps), scale_by_learning_rate(std::move(learning_rate))));
}

/// AdaBelief (optax.adabelief): chain(scale_by_belief(o), scale_by_learning_rate(lr)).
inline auto adabelief(LearningRate learning_rate, AdabeliefOptions o = {}) {
  return named("optim::adabelief.update", chain(scale_by_belief(o), scale_by_learning_rate(std::move(learning_rate))));
}

/// Options of lion (optax.lion).
struct LionOptions {
  double b1 = 0.9;             ///< interpolation between momentum and gradient in the update's sign
  double b2 = 0.99;            ///< decay of the momentum
  double weight_decay = 1e-3;  ///< decoupled weight decay, multiplied by the learning rate
};

/// Lion (optax.lion): chain(scale_by_lion(b1, b2), add_decayed_weights(weight_decay), scale_by_learning_rate(lr)).
inline auto lion(LearningRate learning_rate, LionOptions o = {}) {
  return named("optim::lion.update", chain(scale_by_lion(o.b1, o.b2), add_decayed_weights(o.weight_decay),
               scale_by_learning_rate(std::move(learning_rate))));
}

/// signSGD (optax.sign_sgd): chain(scale_by_sign(), scale_by_learning_rate(lr)): updates = -lr * sign(g).
inline auto sign_sgd(LearningRate learning_rate) {
  return named("optim::sign_sgd.update", chain(scale_by_sign(), scale_by_learning_rate(std::move(learning_rate))));
}

}  // namespace xgrad::optim
