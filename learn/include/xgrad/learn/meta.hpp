#pragma once
// Meta-gradients of learned optimizers by truncated backpropagation through time (Andrychowicz et al. 2016): the
// unroll of an optimizer on a task and the gradient of its meta-loss (meta_train.hpp trains with them).
//
//   auto make = [](const learn::LstmOptimizerParams& phi) { return learn::lstm_optimizer(phi); };
//   auto r = learn::meta_value_and_grad(phi, make, task, x, state, /*first=*/0, /*steps=*/20);   // r.grad: d/dphi
//
// A *trajectory* runs the optimizer g_phi on one sampled task for `horizon` (K) inner steps. It is cut into unrolls
// of `unroll` (T) steps. For each unroll, starting from the trajectory's current parameters x and optimizer state h
// (constants: stop_gradient, so nothing reaches back into earlier unrolls), the meta-loss
//
//   L(phi) = sum_{t=1..T} w_t * mean_i f_i(x_t)          (f_i: the task's problems, w_t: `weight`, 1 by default)
//
// or, with `log_loss`, sum_t w_t * log(mean_i f_i(x_t)): the gradient of each term is divided by its loss, so a step
// late in a trajectory (a loss 20 times smaller) counts as much as an early one (learned_optimization's log-loss
// meta-objective; Metz et al. 2019).
//
// is recorded under value_and_grad with respect to phi, and phi takes one step of the outer optimizer (adam, after
// clipping the meta-gradient's global norm). The tape holds one unroll at a time, so memory grows with T, not K.
//
// The inner gradient grad f(x_t) depends on phi through x_t. With `second_order = false` (the paper's approximation)
// it is computed at stop_gradient(x_t), so it enters L as a constant and no second derivatives are recorded; with
// `second_order = true` it is computed at the traced x_t and the meta-gradient is exact (the AD core records the
// inner gradient's own backward sweep: Hessian-vector products of f appear in the meta-gradient).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cmath>
#include <cstdio>
#include <functional>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/learn/tasks.hpp"
#include "xgrad/optim/clip.hpp"
#include "xgrad/optim/optimizers.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::learn {

/// How meta_train estimates the meta-gradient of an unroll.
enum class MetaEstimator {
  truncated_backprop,  ///< backpropagation through the unroll (meta_value_and_grad): exact within it, truncated
  es,                  ///< antithetic evolution strategies over the unroll (es_meta_gradient): truncated too
  pes,                 ///< persistent evolution strategies (pes_meta_gradient): unbiased over the whole trajectory
};

/// Options of unroll_optimizer, meta_value_and_grad and meta_train.
struct MetaOptions {
  int unroll = 20;             ///< T: inner steps per meta-gradient (the truncation)
  int horizon = 100;           ///< K: inner steps of a trajectory before a new task is sampled
  int steps = 100;             ///< meta_train: outer updates of phi
  optim::LearningRate learning_rate = 1e-3;  ///< outer adam's learning rate: a number or a schedule of the outer step
  double max_grad_norm = 1.0;  ///< the meta-gradient's global norm is clipped to this (infinity: no clipping)
  bool second_order = false;   ///< keep second derivatives through the inner gradients (exact); false: drop them
  std::function<double(int)> weight{};  ///< w_t for the loss after inner step t = 1..K of a trajectory; empty: 1
  bool log_loss = false;  ///< the meta-loss sums w_t log(mean_i f_i(x_t)) (losses must be positive); false: w_t mean_i f_i
  int print_every = 10;               ///< meta_train: a progress line every this many steps (with `progress`)
  std::ostream* progress = nullptr;   ///< where meta_train writes its progress lines; nullptr: silent
  int meta_batch = 1;                 ///< meta_train: trajectories per outer step; the meta-gradient is their mean
  std::size_t threads = 0;            ///< meta_train: threads for the meta-batch (0: parallel::default_threads())
  /// meta_value_and_grad (and meta_train): with checkpoint_every = L > 0, the meta-gradient is computed in bounded
  /// memory: the forward pass keeps only (x, state) every L steps, without a tape, and the backward pass recomputes
  /// one segment of L steps at a time, last first. Same value and gradient; memory one segment's tape plus
  /// unroll / L checkpoints (L ~ sqrt(unroll) makes it O(sqrt(unroll))), time about one more forward pass. 0: one
  /// tape for the whole unroll.
  int checkpoint_every = 0;
  MetaEstimator estimator = MetaEstimator::truncated_backprop;  ///< meta_train's meta-gradient estimator
  std::size_t es_pairs = 8;  ///< es, pes: antithetic pairs per trajectory and unroll
  double es_sigma = 0.01;    ///< es, pes: standard deviation of the perturbations of phi
  /// meta_train across processes: sums a flat Array over them (dist::sum_over_ranks()); each process meta-trains on
  /// its own tasks (give each its own key) and phi takes the same step everywhere. Empty: this process alone.
  std::function<Array(Array)> sum_over_processes{};
};

namespace detail {
/// A tree like t with zeros in every leaf.
template <class T>
T zeros_tree(const T& t) {
  return tree::map([](const auto& leaf) { return Array(xt::zeros<double>(tree::leaf_value(leaf).shape())); }, t);
}
/// The tree with every Tensor leaf replaced by its value (no derivatives flow back through it).
template <class T>
T stop_tree(const T& t) {
  return tree::map([](const auto& leaf) { return stop_gradient(Tensor(leaf)); }, t);
}
}  // namespace detail

/// What unroll_optimizer returns: the meta-loss (traced when the optimizer's weights are) and where the trajectory
/// stands.
template <class X, class S>
struct Unrolled {
  Tensor meta_loss;  ///< sum_t w_t * mean_i f_i(x_t) (or its log) over the unroll's steps
  X params;          ///< x after the unroll
  S state;           ///< the optimizer's state after the unroll
};

/// `steps` inner steps of `opt` on `task` from (x, state), the first of them being step `first` + 1 of its trajectory
/// (for the weights and the task's minibatches). Step k: g = grad sum_i f_i^k(x_k) (at stop_gradient(x_k) unless
/// o.second_order; f^k = losses_at(task, ., k)), {u, state} = opt.update(g, state, x_k), x_{k+1} = x_k + u,
/// meta_loss += w_{k+1} * mean_i f_i^{k+1}(x_{k+1}) (its log with o.log_loss). Differentiable in whatever `opt`
/// captured (its weights) and, with second_order, through the gradients too.
template <class Opt, Task T, class X, class S>
Unrolled<X, S> unroll_optimizer(const Opt& opt, const T& task, X x, S state, int first, int steps,
                                const MetaOptions& o = {}) {
  Tensor meta(0.0);
  for (int t = 0; t < steps; ++t) {
    const int k = first + t;  // x is x_k
    const auto total = [&task, k](const X& p) { return total_loss(task, p, k); };
    const X g = o.second_order ? grad(total)(x) : grad(total)(detail::stop_tree(x));
    auto [u, next] = opt.update(g, state, x);
    x = optim::apply_updates(x, u);
    state = std::move(next);
    const double w = o.weight ? o.weight(k + 1) : 1.0;
    if (w != 0.0) {
      const Tensor loss = mean(losses_at(task, x, k + 1));
      if (o.log_loss && loss.item() <= 0.0)  // NaN passes: meta_train skips non-finite unrolls
        throw ValueError("xgrad::learn::unroll_optimizer: log_loss needs positive losses; the loss after step " +
                         std::to_string(k + 1) + " is " + std::to_string(loss.item()));
      meta = meta + w * (o.log_loss ? log(loss) : loss);
    }
  }
  return {meta, std::move(x), std::move(state)};
}

/// One meta-gradient: the meta-loss of an unroll and its gradient with respect to phi.
template <class Phi, class X, class S>
struct MetaGradient {
  Tensor meta_loss;  ///< the unroll's meta-loss (a constant)
  Phi grad;          ///< d meta_loss / d phi
  X params;          ///< x after the unroll (constants)
  S state;           ///< the optimizer's state after the unroll (constants)
};

namespace detail {
/// meta_value_and_grad with o.checkpoint_every = L: checkpoints of (x, state) every L steps in a forward pass without
/// a tape, then, for the segments from last to first, the segment recomputed under vjp in (phi, x, state) and pulled
/// back with the cotangents of its outputs (1 for its meta-loss, those of (x, state) from the segment after it).
template <class Phi, class MakeOpt, Task T, class X, class S>
MetaGradient<Phi, X, S> checkpointed_meta_value_and_grad(const Phi& phi, const MakeOpt& make_opt, const T& task,
                                                         const X& x, const S& state, int first, int steps,
                                                         const MetaOptions& o) {
  const int L = o.checkpoint_every, segments = (steps + L - 1) / L;
  std::vector<std::pair<X, S>> checkpoints;
  checkpoints.reserve(static_cast<std::size_t>(segments));
  X xk = stop_tree(x);
  S sk = stop_tree(state);
  double meta_loss = 0.0;
  {
    const auto opt = make_opt(stop_tree(phi));
    for (int seg = 0; seg < segments; ++seg) {
      const int begin = seg * L;
      checkpoints.emplace_back(xk, sk);
      auto r = unroll_optimizer(opt, task, std::move(xk), std::move(sk), first + begin, std::min(L, steps - begin), o);
      meta_loss += r.meta_loss.item();
      xk = std::move(r.params);
      sk = std::move(r.state);
    }
  }
  using In = std::tuple<Phi, X, S>;
  using Out = std::tuple<Tensor, X, S>;
  Phi g = zeros_tree(phi);
  X gx = zeros_tree(xk);
  S gs = zeros_tree(sk);
  for (int seg = segments - 1; seg >= 0; --seg) {
    const int begin = seg * L, n = std::min(L, steps - begin);
    const auto segment = [&](const In& in) {
      auto r = unroll_optimizer(make_opt(std::get<0>(in)), task, std::get<1>(in), std::get<2>(in), first + begin, n, o);
      return Out(r.meta_loss, std::move(r.params), std::move(r.state));
    };
    auto [out, pullback] = vjp(segment, In(phi, checkpoints[static_cast<std::size_t>(seg)].first,
                                           checkpoints[static_cast<std::size_t>(seg)].second));
    const Tensor one(Array(xt::ones<double>(std::get<0>(out).shape())));
    auto ct = pullback(Out(one, std::move(gx), std::move(gs)));
    g = tree::map([](const auto& a, const auto& b) { return Tensor(tree::leaf_value(a) + tree::leaf_value(b)); }, g,
                  std::get<0>(ct));
    gx = std::move(std::get<1>(ct));
    gs = std::move(std::get<2>(ct));
    checkpoints.pop_back();  // the memory of a segment goes with it
  }
  return {Tensor(meta_loss), std::move(g), std::move(xk), std::move(sk)};
}
}  // namespace detail

/// The meta-loss of one unroll of `steps` steps of make_opt(phi) on `task` from (x, state) and its gradient with
/// respect to phi. x and state enter as constants (truncated backpropagation). `make_opt(phi)` builds the transform.
/// With o.checkpoint_every > 0 the same in bounded memory (see MetaOptions::checkpoint_every).
template <class Phi, class MakeOpt, Task T, class X, class S>
MetaGradient<Phi, X, S> meta_value_and_grad(const Phi& phi, const MakeOpt& make_opt, const T& task, const X& x,
                                            const S& state, int first, int steps, const MetaOptions& o = {}) {
  if (o.checkpoint_every < 0)
    throw ValueError("xgrad::learn::meta_value_and_grad: checkpoint_every must be >= 0, got " +
                     std::to_string(o.checkpoint_every));
  if (o.checkpoint_every > 0 && o.checkpoint_every < steps)
    return detail::checkpointed_meta_value_and_grad(phi, make_opt, task, x, state, first, steps, o);
  auto f = [&](const Phi& p) {
    auto r = unroll_optimizer(make_opt(p), task, detail::stop_tree(x), detail::stop_tree(state), first, steps, o);
    return std::pair<Tensor, std::pair<X, S>>(r.meta_loss, {std::move(r.params), std::move(r.state)});
  };
  auto [value, aux, g] = value_and_grad_aux(f)(phi);
  return {value, std::move(g), std::move(aux.first), std::move(aux.second)};
}

}  // namespace xgrad::learn
