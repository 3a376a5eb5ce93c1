#pragma once
// Schedules and scalar hyperparameters, as in optax: a schedule maps an update step (0, 1, 2, ...) to a value.
//
//   auto lr = optim::warmup_cosine_decay(0.0, 1e-2, 100, 1000);   // a Schedule
//   optim::adam(lr);  optim::adam(1e-3);  optim::adam(Tensor(...)); // a Scalar: number, schedule or Tensor
//
// Schedules follow optax's formulas (linear_schedule, exponential_decay, cosine_decay_schedule, ...) and its argument
// order; steps are plain ints, so the branches of a schedule are taken in C++, not with `where`.
// A schedule returns a Tensor so that one built from traced Tensors (or a Scalar holding a traced Tensor) carries
// derivatives to the enclosing transform: that is how a learning rate becomes a differentiable hyperparameter.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/tensor.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad::optim {

/// A schedule: the value of a hyperparameter at update step `step` (0 for the first update).
using Schedule = std::function<Tensor(int step)>;

/// A scalar hyperparameter that is a number, a Schedule, or a Tensor (possibly traced by an enclosing transform,
/// like optax.inject_hyperparams, so that derivatives flow to it). `s(step)` gives its value at a step as a Tensor.
class Scalar {
 public:
  /// A constant number.
  Scalar(double value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  /// A Tensor used at every step; if an enclosing transform traces it, updates are differentiable in it.
  Scalar(const Tensor& value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  /// A schedule; throws ValueError when it is empty.
  Scalar(Schedule schedule) : schedule_(std::move(schedule)) {  // NOLINT(google-explicit-constructor)
    if (!schedule_) throw ValueError("xgrad::optim::Scalar: empty schedule");
  }
  /// Any callable `int -> Tensor` (or `int -> double`), e.g. a lambda, taken as a schedule.
  template <class F>
    requires(std::is_invocable_r_v<Tensor, const F&, int> && !std::is_convertible_v<const F&, Tensor> &&
             !std::is_same_v<std::remove_cvref_t<F>, Schedule> && !std::is_same_v<std::remove_cvref_t<F>, Scalar>)
  Scalar(F f) : Scalar(Schedule(std::move(f))) {}  // NOLINT(google-explicit-constructor)

  /// The value at update step `step`.
  Tensor operator()(int step) const { return schedule_ ? schedule_(step) : value_; }
  /// True when the value depends on the step.
  bool is_schedule() const { return static_cast<bool>(schedule_); }

 private:
  Tensor value_;
  Schedule schedule_;
};

/// The learning rate of an optimizer: a number, a Schedule or a (traced) Tensor.
using LearningRate = Scalar;

/// optax.constant_schedule: `value` at every step.
inline Schedule constant(double value) {
  return [value](int) { return Tensor(value); };
}

/// optax.polynomial_schedule: from init_value to end_value over transition_steps steps starting at transition_begin,
/// `(init - end) * (1 - k / transition_steps)^power + end` with k = clip(step - transition_begin, 0,
/// transition_steps). A non-positive transition_steps gives the constant init_value (as optax does).
inline Schedule polynomial(double init_value, double end_value, double power, int transition_steps,
                           int transition_begin = 0) {
  if (transition_steps <= 0) return constant(init_value);
  return [=](int step) {
    const int k = std::clamp(step - transition_begin, 0, transition_steps);
    const double frac = 1.0 - static_cast<double>(k) / transition_steps;
    return Tensor((init_value - end_value) * std::pow(frac, power) + end_value);
  };
}

/// optax.linear_schedule: init_value until transition_begin, then linearly to end_value over transition_steps
/// steps, then end_value.
inline Schedule linear(double init_value, double end_value, int transition_steps, int transition_begin = 0) {
  return polynomial(init_value, end_value, 1.0, transition_steps, transition_begin);
}

/// optax.exponential_decay: `init_value * decay_rate^(k / transition_steps)` with k = step - transition_begin
/// (the exponent floored when `staircase`); init_value for k <= 0; bounded below by end_value when decay_rate < 1
/// (above when > 1). transition_steps <= 0 or decay_rate == 0 give the constant init_value (as optax does).
inline Schedule exponential_decay(double init_value, int transition_steps, double decay_rate, int transition_begin = 0,
                                  bool staircase = false, std::optional<double> end_value = std::nullopt) {
  if (transition_steps <= 0 || decay_rate == 0.0) return constant(init_value);
  if (transition_begin < 0) throw ValueError("xgrad::optim::exponential_decay: transition_begin must be >= 0");
  return [=](int step) {
    const int k = step - transition_begin;
    double p = static_cast<double>(k) / transition_steps;
    if (staircase) p = std::floor(p);
    double v = k <= 0 ? init_value : init_value * std::pow(decay_rate, p);
    if (end_value) v = decay_rate < 1.0 ? std::max(v, *end_value) : std::min(v, *end_value);
    return Tensor(v);
  };
}

/// optax.cosine_decay_schedule: `init_value * ((1 - alpha) * c^exponent + alpha)` with
/// c = (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2; constant `alpha * init_value` after decay_steps.
inline Schedule cosine_decay(double init_value, int decay_steps, double alpha = 0.0, double exponent = 1.0) {
  if (decay_steps <= 0) throw ValueError("xgrad::optim::cosine_decay: decay_steps must be positive");
  return [=](int step) {
    const double k = std::min(step, decay_steps);
    const double c = 0.5 * (1.0 + std::cos(std::numbers::pi * k / decay_steps));
    return Tensor(init_value * ((1.0 - alpha) * std::pow(c, exponent) + alpha));
  };
}

/// optax.join_schedules: schedules[0] before boundaries[0], then schedules[i + 1] from boundaries[i] on, each
/// called with the step counted from its boundary (so it starts at 0). Needs one boundary fewer than schedules.
inline Schedule join(std::vector<Schedule> schedules, std::vector<int> boundaries) {
  if (schedules.empty() || boundaries.size() + 1 != schedules.size())
    throw ValueError("xgrad::optim::join: needs one boundary fewer than schedules (got " +
                     std::to_string(schedules.size()) + " schedules and " + std::to_string(boundaries.size()) +
                     " boundaries)");
  return [schedules = std::move(schedules), boundaries = std::move(boundaries)](int step) {
    std::size_t i = 0;
    while (i < boundaries.size() && step >= boundaries[i]) ++i;
    return schedules[i](i == 0 ? step : step - boundaries[i - 1]);
  };
}

/// optax.warmup_cosine_decay_schedule: linear from init_value to peak_value over warmup_steps, then cosine decay
/// from peak_value to end_value over the remaining `decay_steps - warmup_steps` steps (decay_steps includes the
/// warmup), then end_value.
inline Schedule warmup_cosine_decay(double init_value, double peak_value, int warmup_steps, int decay_steps,
                                    double end_value = 0.0, double exponent = 1.0) {
  if (decay_steps <= warmup_steps)
    throw ValueError("xgrad::optim::warmup_cosine_decay: decay_steps (" + std::to_string(decay_steps) +
                     ") must exceed warmup_steps (" + std::to_string(warmup_steps) + ")");
  const double alpha = peak_value == 0.0 ? 0.0 : end_value / peak_value;
  return join({linear(init_value, peak_value, warmup_steps), cosine_decay(peak_value, decay_steps - warmup_steps,
                                                                          alpha, exponent)},
              {warmup_steps});
}

/// optax.piecewise_constant_schedule: init_value multiplied by every scale whose boundary is <= step
/// (`{{100, 0.1}, {200, 0.5}}` gives init, 0.1 * init from step 100, 0.05 * init from step 200).
inline Schedule piecewise_constant(double init_value, std::map<int, double> boundaries_and_scales = {}) {
  return [=](int step) {
    double v = init_value;
    for (const auto& [boundary, scale] : boundaries_and_scales)
      if (step >= boundary) v *= scale;
    return Tensor(v);
  };
}

}  // namespace xgrad::optim
