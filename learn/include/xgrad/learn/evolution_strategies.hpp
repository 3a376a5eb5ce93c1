#pragma once
// Meta-gradients without backpropagation: antithetic evolution strategies (ES) and persistent evolution strategies
// (PES, Vicol, Metz and Sohl-Dickstein 2021), over the same unrolls as truncated backpropagation (meta.hpp).
//
//   auto e = learn::es_meta_gradient(phi, make_opt, task, x, state, t, 20, key, {.pairs = 8, .sigma = 0.01});
//   learn::PesState<X, S> p = learn::pes_init(make_opt, phi, task, 8);           // at the start of a trajectory
//   auto g = learn::pes_meta_gradient(phi, make_opt, task, p, t, 20, key, {.pairs = 8, .sigma = 0.01});
//
// Both smooth the meta-loss with Gaussian perturbations eps ~ N(0, sigma^2 I) of phi's flat vector and estimate the
// smoothed loss's gradient from loss differences of antithetic pairs phi +- eps: no tape, no second derivatives,
// any loss (even a non-differentiable one).
//
// ES perturbs one unroll: from the trajectory's (x, state), g = mean_pairs (L(phi + eps) - L(phi - eps)) eps /
// (2 sigma^2). It is truncated like TBPTT: it sees only what phi does within the unroll.
//
// PES keeps, for each pair, the two perturbed trajectories (x+, state+) and (x-, state-) alive across unrolls: unroll
// u of the pair runs phi + eps_u from (x+, state+) and phi - eps_u from (x-, state-), and the estimate is
// (L+_u - L-_u) xi_u / (2 sigma^2) with xi_u = eps_1 + ... + eps_u, the sum of the perturbations the trajectories
// have accumulated. Summed over the unrolls of a trajectory this is unbiased for the gradient of the smoothed loss of
// the whole trajectory, however short each unroll: the loss of unroll u depends on the perturbations of all earlier
// unrolls through x and state, and xi_u is what credits them. The perturbation eps_u of pair p is regenerated from
// fold_in(fold_in(key, u), p) (u: the unroll's index in its trajectory), not stored.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/core/tree.hpp"
#include "xgrad/learn/meta.hpp"

namespace xgrad::learn {

/// Options of es_meta_gradient and pes_meta_gradient (the unroll's own options are in MetaOptions).
struct EsOptions {
  std::size_t pairs = 1;  ///< antithetic pairs per estimate
  double sigma = 0.01;    ///< standard deviation of the perturbations of phi
};

/// What es_meta_gradient and pes_meta_gradient return.
template <class Phi>
struct EsEstimate {
  double meta_loss = 0.0;  ///< mean over the pairs of (L+ + L-) / 2
  Phi grad;                ///< the estimate of the smoothed meta-loss's gradient with respect to phi
};

namespace detail {
inline void check_es(const EsOptions& e, const char* op) {
  if (e.pairs == 0 || !(e.sigma > 0.0) || !std::isfinite(e.sigma))
    throw ValueError(std::string("xgrad::learn::") + op + ": pairs must be positive and sigma positive and finite, got " +
                     std::to_string(e.pairs) + " and " + std::to_string(e.sigma));
}
/// The perturbation of pair p in unroll u: sigma * normal, as a flat vector of n entries.
inline Array perturbation(random::Key key, int unroll, std::size_t pair, std::size_t n, double sigma) {
  return random::normal(random::fold_in(random::fold_in(key, static_cast<std::uint32_t>(unroll)),
                                        static_cast<std::uint32_t>(pair)),
                        {n}, 0.0, sigma);
}
/// The meta-loss of an unroll (a constant: nothing is traced).
template <class Opt, Task T, class X, class S>
Unrolled<X, S> run_unroll(const Opt& opt, const T& task, X x, S state, int first, int steps, const MetaOptions& o) {
  MetaOptions values_only = o;
  values_only.second_order = true;  // the inner gradients at x itself: the true dynamics (nothing is traced anyway)
  return unroll_optimizer(opt, task, std::move(x), std::move(state), first, steps, values_only);
}
}  // namespace detail

/// Antithetic ES estimate of the meta-gradient of one unroll of `steps` steps from (x, state), the first being step
/// `first` + 1 of its trajectory (see the top of this file). Pair p perturbs phi by eps_p from fold_in(fold_in(key, 0),
/// p). The trajectory itself goes on with phi: take the next (x, state) from unroll_optimizer with phi.
template <class Phi, class MakeOpt, Task T, class X, class S>
EsEstimate<Phi> es_meta_gradient(const Phi& phi, const MakeOpt& make_opt, const T& task, const X& x, const S& state,
                                 int first, int steps, random::Key key, const EsOptions& e = {},
                                 const MetaOptions& o = {}) {
  detail::check_es(e, "es_meta_gradient");
  auto [flat_phi, unravel] = tree::ravel(phi);
  Array g = xt::zeros<double>({flat_phi.size()});
  double loss = 0.0;
  for (std::size_t p = 0; p < e.pairs; ++p) {
    const Array eps = detail::perturbation(key, 0, p, flat_phi.size(), e.sigma);
    const double plus =
        detail::run_unroll(make_opt(unravel(flat_phi + eps)), task, x, state, first, steps, o).meta_loss.item();
    const double minus =
        detail::run_unroll(make_opt(unravel(flat_phi - eps)), task, x, state, first, steps, o).meta_loss.item();
    g += ((plus - minus) / (2.0 * e.sigma * e.sigma)) * eps;
    loss += 0.5 * (plus + minus);
  }
  const double n = static_cast<double>(e.pairs);
  return {loss / n, unravel(Array(g / n))};
}

/// The perturbed trajectories PES keeps alive: for each antithetic pair, the parameters and optimizer state of its
/// phi + eps and phi - eps runs, and the number of unrolls done.
template <class X, class S>
struct PesState {
  std::vector<X> x_plus, x_minus;
  std::vector<S> state_plus, state_minus;
  int unrolls = 0;  ///< unrolls done since pes_init: the index of the next one (its perturbations' key)
};

/// PES at the start of a trajectory: every particle at task.init() with make_opt(phi)'s initial state.
template <class Phi, class MakeOpt, Task T>
auto pes_init(const MakeOpt& make_opt, const Phi& phi, const T& task, std::size_t pairs) {
  using X = std::remove_cvref_t<decltype(task.init())>;
  using S = decltype(make_opt(phi).init(std::declval<const X&>()));
  const X x = task.init();
  const S s = make_opt(phi).init(x);
  PesState<X, S> st;
  st.x_plus.assign(pairs, x);
  st.x_minus.assign(pairs, x);
  st.state_plus.assign(pairs, s);
  st.state_minus.assign(pairs, s);
  return st;
}

/// One PES estimate: unroll number pes.unrolls of the trajectory (steps `first` + 1 .. `first` + `steps`), each pair's
/// two particles advanced by `steps` steps with phi +- eps_u; returns (L+ - L-) xi_u / (2 sigma^2) averaged over the
/// pairs, and advances `pes`. The sum of these estimates over a whole trajectory is unbiased for the gradient of the
/// smoothed full-trajectory meta-loss. e.pairs must match pes_init's.
template <class Phi, class MakeOpt, Task T, class X, class S>
EsEstimate<Phi> pes_meta_gradient(const Phi& phi, const MakeOpt& make_opt, const T& task, PesState<X, S>& pes,
                                  int first, int steps, random::Key key, const EsOptions& e = {},
                                  const MetaOptions& o = {}) {
  detail::check_es(e, "pes_meta_gradient");
  if (pes.x_plus.size() != e.pairs)
    throw ValueError("xgrad::learn::pes_meta_gradient: the PES state has " + std::to_string(pes.x_plus.size()) +
                     " pairs, the options " + std::to_string(e.pairs));
  auto [flat_phi, unravel] = tree::ravel(phi);
  const std::size_t n = flat_phi.size();
  Array g = xt::zeros<double>({n});
  double loss = 0.0;
  const int u = pes.unrolls;
  for (std::size_t p = 0; p < e.pairs; ++p) {
    const Array eps = detail::perturbation(key, u, p, n, e.sigma);
    Array xi = eps;  // eps_0 + ... + eps_u, regenerated from the keys
    for (int v = 0; v < u; ++v) xi += detail::perturbation(key, v, p, n, e.sigma);
    auto plus = detail::run_unroll(make_opt(unravel(flat_phi + eps)), task, std::move(pes.x_plus[p]),
                                   std::move(pes.state_plus[p]), first, steps, o);
    auto minus = detail::run_unroll(make_opt(unravel(flat_phi - eps)), task, std::move(pes.x_minus[p]),
                                    std::move(pes.state_minus[p]), first, steps, o);
    const double lp = plus.meta_loss.item(), lm = minus.meta_loss.item();
    g += ((lp - lm) / (2.0 * e.sigma * e.sigma)) * xi;
    loss += 0.5 * (lp + lm);
    pes.x_plus[p] = std::move(plus.params);
    pes.state_plus[p] = std::move(plus.state);
    pes.x_minus[p] = std::move(minus.params);
    pes.state_minus[p] = std::move(minus.state);
  }
  ++pes.unrolls;
  const double count = static_cast<double>(e.pairs);
  return {loss / count, unravel(Array(g / count))};
}

}  // namespace xgrad::learn
