#pragma once
// Meta-training of learned optimizers (Andrychowicz et al. 2016): outer adam steps on the weights phi of an
// optimizer, from meta-gradients of unrolls along trajectories of sampled tasks (meta.hpp), estimated by truncated
// backpropagation or, with MetaOptions::estimator, by ES or PES (evolution_strategies.hpp).
//
//   auto make = [](const learn::LstmOptimizerParams& phi) { return learn::lstm_optimizer(phi); };
//   auto result = learn::meta_train(learn::init_lstm_optimizer(key), make, learn::Quadratics{.batch = 32}, key,
//                                   {.unroll = 20, .horizon = 100, .steps = 500, .progress = &std::cout});
//   tree::save("lstm.npz", result.params);
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/core/flat.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/learn/evolution_strategies.hpp"
#include "xgrad/learn/meta.hpp"
#include "xgrad/optim/clip.hpp"
#include "xgrad/optim/optimizers.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::learn {

namespace detail {
/// meta_train's outer optimizer: adam after clipping the meta-gradient's global norm.
inline auto meta_outer(const MetaOptions& o) {
  return optim::chain(optim::clip_by_global_norm(o.max_grad_norm), optim::adam(o.learning_rate));
}
}  // namespace detail

/// The state of meta_train's outer optimizer for weights of type Phi.
template <class Phi>
using MetaOuterState = decltype(detail::meta_outer(MetaOptions{}).init(std::declval<const Phi&>()));

/// What meta_train returns; give it back to meta_train to go on where it stopped.
template <class Phi>
struct MetaResult {
  Phi params;                       ///< the trained weights
  MetaOuterState<Phi> outer_state;  ///< the outer optimizer's state (adam's moments and step count)
  std::vector<double> meta_losses;  ///< the meta-loss of every outer step (per unroll, so it cycles with the horizon)
  int skipped = 0;                  ///< unrolls left out because their meta-loss or meta-gradient was not finite
  int tasks = 0;                    ///< tasks sampled
  double seconds = 0.0;             ///< wall time
};

namespace detail {
template <class Phi, class MakeOpt, TaskDistribution D, class OnStep>
MetaResult<Phi> meta_train_from(MetaResult<Phi> result, const MakeOpt& make_opt, const D& dist, random::Key key,
                                const MetaOptions& o, const OnStep& on_step);
}  // namespace detail

/// Meta-train the weights phi of the optimizer make_opt(phi) on tasks from `dist` (task n drawn from
/// fold_in(key, n)) for o.steps outer adam steps (see the top of this file). Each outer step advances o.meta_batch
/// independent trajectories by one unroll each, side by side on o.threads threads, and averages their
/// meta-gradients in trajectory order, so the result is the same bit for bit for any number of threads. A
/// trajectory whose meta-loss or meta-gradient is not finite is left out of the mean and restarted on a new task;
/// a step with none left is skipped. With o.progress set, prints every o.print_every steps:
///   meta-step   40/500  meta-loss 1.234e+01  elapsed 3.2 s  12.5 steps/s
/// (the meta-loss is the mean over the steps since the previous line).
///
/// o.estimator chooses the meta-gradient: truncated backpropagation (the default), ES over each unroll (perturbations
/// from the trajectory's key folded with its step) or PES (each trajectory keeps its o.es_pairs pairs of perturbed
/// particles, and its meta-loss is theirs). ES and PES record no tape: their cost is 2 * es_pairs unrolls (ES: one
/// more for the trajectory itself), their memory that of the unrolls' states.
///
/// `on_step(step, phi, meta_loss)`, when given, is called after every outer step (1-based) with the updated weights
/// and the step's mean meta-loss (NaN when the step was skipped): the place for validation, checkpoints
/// (tree::save) and progress plots.
template <class Phi, class MakeOpt, TaskDistribution D, class OnStep = std::nullptr_t>
MetaResult<Phi> meta_train(Phi phi, const MakeOpt& make_opt, const D& dist, random::Key key,
                           const MetaOptions& o = {}, const OnStep& on_step = nullptr) {
  MetaResult<Phi> start;
  start.outer_state = detail::meta_outer(o).init(phi);
  start.params = std::move(phi);
  return detail::meta_train_from(std::move(start), make_opt, dist, key, o, on_step);
}

/// Go on with a meta-training run for o.steps more outer steps: from its weights and outer optimizer state (adam's
/// moments and step count, so a schedule goes on where it was), numbering steps and drawing tasks after those it
/// has done; meta_losses, skipped and tasks accumulate. The trajectories in flight are not kept: the first unrolls
/// start new tasks.
template <class Phi, class MakeOpt, TaskDistribution D, class OnStep = std::nullptr_t>
MetaResult<Phi> meta_train(MetaResult<Phi> previous, const MakeOpt& make_opt, const D& dist, random::Key key,
                           const MetaOptions& o = {}, const OnStep& on_step = nullptr) {
  return detail::meta_train_from(std::move(previous), make_opt, dist, key, o, on_step);
}

namespace detail {
template <class Phi, class MakeOpt, TaskDistribution D, class OnStep>
MetaResult<Phi> meta_train_from(MetaResult<Phi> result, const MakeOpt& make_opt, const D& dist, random::Key key,
                                const MetaOptions& o, const OnStep& on_step) {
  if (o.unroll <= 0 || o.horizon <= 0 || o.steps < 0 || o.meta_batch <= 0)
    throw ValueError("xgrad::learn::meta_train: unroll, horizon and meta_batch must be positive and steps "
                     "non-negative");
  const auto start = std::chrono::steady_clock::now();
  const double seconds_before = result.seconds;
  auto outer = meta_outer(o);
  Phi phi = std::move(result.params);
  auto outer_state = std::move(result.outer_state);
  const int first_step = static_cast<int>(result.meta_losses.size());
  using TaskT = decltype(dist.sample(key));
  using X = decltype(std::declval<const TaskT&>().init());
  using S = decltype(make_opt(phi).init(std::declval<const X&>()));
  struct Trajectory {
    TaskT task;
    X x;
    S state;
    int t = 0;
    random::Key perturbations{};          // es, pes: the key of this trajectory's perturbations
    std::optional<PesState<X, S>> pes{};  // pes: the perturbed particles
  };
  const EsOptions es{o.es_pairs, o.es_sigma};
  const auto fresh = [&] {  // tasks are drawn in trajectory order on this thread: n-th task, n-th key
    const auto n = static_cast<std::uint32_t>(result.tasks++);
    TaskT task = dist.sample(random::fold_in(key, n));
    X x = task.init();
    S state = make_opt(phi).init(x);
    Trajectory tr{std::move(task), std::move(x), std::move(state), 0, random::fold_in(random::fold_in(key, n), 0x5e5u)};
    if (o.estimator == MetaEstimator::pes) tr.pes = pes_init(make_opt, phi, tr.task, es.pairs);
    return tr;
  };
  std::vector<Trajectory> trajectories;
  for (int k = 0; k < o.meta_batch; ++k) trajectories.push_back(fresh());
  double interval_sum = 0.0;
  int interval_n = 0;
  for (int step = 1; step <= o.steps; ++step) {
    for (auto& tr : trajectories)
      if (tr.t >= o.horizon) tr = fresh();
    auto grads = parallel::map(
        trajectories.size(),
        [&](std::size_t k) {  // each piece touches only its own trajectory
          Trajectory& tr = trajectories[k];
          const int n = std::min(o.unroll, o.horizon - tr.t);
          if (o.estimator == MetaEstimator::truncated_backprop)
            return meta_value_and_grad(phi, make_opt, tr.task, tr.x, tr.state, tr.t, n, o);
          if (o.estimator == MetaEstimator::pes) {  // the particles carry the trajectory; x is the first one's
            auto e = pes_meta_gradient(phi, make_opt, tr.task, *tr.pes, tr.t, n, tr.perturbations, es, o);
            return MetaGradient<Phi, X, S>{Tensor(e.meta_loss), std::move(e.grad), tr.pes->x_plus.front(),
                                           tr.pes->state_plus.front()};
          }
          auto e = es_meta_gradient(phi, make_opt, tr.task, tr.x, tr.state, tr.t, n,
                                    random::fold_in(tr.perturbations, static_cast<std::uint32_t>(tr.t)), es, o);
          auto next = unroll_optimizer(make_opt(phi), tr.task, tr.x, tr.state, tr.t, n, o);  // values only
          return MetaGradient<Phi, X, S>{Tensor(e.meta_loss), std::move(e.grad), std::move(next.params),
                                         std::move(next.state)};
        },
        o.threads);
    std::vector<Phi> finite;
    double loss_sum = 0.0, all_sum = 0.0;
    for (std::size_t k = 0; k < grads.size(); ++k) {
      auto& r = grads[k];
      const double loss = r.meta_loss.item();
      all_sum += loss;
      Trajectory& tr = trajectories[k];
      if (std::isfinite(loss) && flat::all_finite(r.grad) && flat::all_finite(r.params)) {
        finite.push_back(std::move(r.grad));
        loss_sum += loss;
        tr.x = std::move(r.params);
        tr.state = std::move(r.state);
        tr.t += std::min(o.unroll, o.horizon - tr.t);
      } else {
        ++result.skipped;
        tr.t = o.horizon;  // a new task next step
      }
    }
    double loss = all_sum / static_cast<double>(grads.size());  // not finite when every trajectory failed
    double count = static_cast<double>(finite.size());
    Phi g = finite.empty() ? detail::zeros_tree(phi)
                           : (finite.size() == 1 ? std::move(finite.front()) : parallel::sum_trees(finite));
    if (o.sum_over_processes) {  // one buffer [count, loss sum, gradient sum] over every process, finite or not
      auto [flat, unravel] = tree::ravel(g);
      Array buf = Array::from_shape({flat.size() + 2});
      buf(0) = count;
      buf(1) = loss_sum;
      std::copy(flat.begin(), flat.end(), buf.begin() + 2);
      buf = o.sum_over_processes(std::move(buf));
      count = buf(0);
      loss_sum = buf(1);
      std::copy(buf.begin() + 2, buf.end(), flat.begin());
      g = unravel(flat);
    }
    if (count > 0) {
      loss = loss_sum / count;
      if (count != 1.0) {
        const double scale = 1.0 / count;
        g = tree::map([scale](const auto& leaf) { return Array(tree::leaf_value(leaf) * scale); }, g);
      }
      auto [u, s] = outer.update(g, outer_state, phi);
      phi = optim::apply_updates(phi, u);
      outer_state = std::move(s);
      interval_sum += loss;
      ++interval_n;
    }
    result.meta_losses.push_back(loss);
    if constexpr (!std::is_null_pointer_v<OnStep>)
      on_step(first_step + step, static_cast<const Phi&>(phi), count > 0 ? loss : NAN);
    if (o.progress && o.print_every > 0 && (step % o.print_every == 0 || step == o.steps)) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      char line[160];
      std::snprintf(line, sizeof line, "meta-step %5d/%d  meta-loss %.4e  elapsed %.1f s  %.2f steps/s%s",
                    first_step + step, first_step + o.steps, interval_n ? interval_sum / interval_n : NAN, elapsed,
                    step / elapsed,
                    result.skipped ? "  (skipped some non-finite steps)" : "");
      *o.progress << line << std::endl;
      interval_sum = 0.0;
      interval_n = 0;
    }
  }
  result.params = std::move(phi);
  result.outer_state = std::move(outer_state);
  result.seconds = seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}
}  // namespace detail

}  // namespace xgrad::learn
