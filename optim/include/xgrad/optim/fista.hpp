#pragma once
// FISTA's acceleration (Beck and Teboulle 2009) with O'Donoghue and Candes' gradient restart, shared by
// GradientDescent and ProximalGradient: the next step is taken from the extrapolated point
// y_{k+1} = x_{k+1} + (t_k - 1) / t_{k+1} (x_{k+1} - x_k), t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2, and the momentum
// restarts (y = x, t = 1) whenever the step from y points against the motion, <y_k - x_{k+1}, x_{k+1} - x_k> > 0.
// The test reads only points: it holds for f + g (the value of f alone may rise while f + g falls), and it stays
// exact where values differ only by rounding.
#include <cmath>
#include <utility>

#include "xgrad/core/flat.hpp"
#include "xgrad/optim/linesearch.hpp"

namespace xgrad::optim {

/// The extrapolated point a FISTA solver's state carries (flat).
struct FistaState {
  Array aux_params{};      ///< acceleration: the extrapolated point y (flat), else unused
  double aux_value = 0.0;  ///< acceleration: f(y)
  Array aux_grad{};        ///< acceleration: grad f(y) (flat)
  double momentum = 1.0;   ///< acceleration: FISTA's t_k
};

namespace detail {

/// The first extrapolated point is the starting point.
template <class S, class P>
void fista_init(S& s, const P& params) {
  s.aux_params = flat::values(params);
  s.aux_value = s.value;
  s.aux_grad = flat::values(s.grad);
}

/// After the accepted step r from s.aux_params (y) at it.x(): the next extrapolated point, evaluated once (counted
/// in s); restarted when the step opposed the motion or f(y) is not finite.
template <class S, class It>
void fista_extrapolate(S& s, const It& it, const LineSearchResult& r) {
  double tn = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * s.momentum * s.momentum));
  Array yn;
  double fyn = 0.0;
  Array gyn;
  const Array motion = flat::sub(r.params, it.x());
  bool restart = s.aux_params.size() != motion.size() || flat::dot(flat::sub(s.aux_params, r.params), motion) > 0.0;
  if (!restart) {
    yn = flat::axpy(r.params, (s.momentum - 1.0) / tn, motion);
    auto [f2, g2] = it(yn);
    ++s.num_fun_eval;
    ++s.num_grad_eval;
    restart = !std::isfinite(f2) || !flat::all_finite(g2);
    fyn = f2;
    gyn = std::move(g2);
  }
  if (restart) {
    tn = 1.0;
    yn = r.params;
    fyn = r.value;
    gyn = r.grad;
  }
  s.momentum = tn;
  s.aux_params = std::move(yn);
  s.aux_value = fyn;
  s.aux_grad = std::move(gyn);
}

}  // namespace detail
}  // namespace xgrad::optim
