#pragma once
// Unrolled differentiation, the alternative to implicit differentiation: run `steps` iterations of an optax-style
// transform on traced Tensors, so the result's derivatives with respect to theta go through every iteration (like
// differentiating through a jax.lax.fori_loop). With `truncate = K > 0` only the last K iterations are recorded:
// the first steps - K run on constants and their end point is treated as a constant (truncated backpropagation).
//
//   auto w = xgrad::implicit::unroll(xgrad::optim::sgd(0.1), inner, w0, {.steps = 100}, alpha, X, y);
//
// The tape grows with the recorded iterations (implicit differentiation's does not), and the derivative is that of
// the K-step algorithm, which equals the implicit one only as the iteration converges.
#include <algorithm>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/implicit/custom_root.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::implicit {

/// How many iterations unroll runs and how many it records.
struct UnrollOptions {
  int steps = 100;   ///< iterations
  int truncate = 0;  ///< record only the last `truncate` iterations (0: all)
};

/// `steps` iterations x <- x + opt.update(grad_x f(x, theta...)) from init; the result is differentiable in theta
/// (through the last `truncate` iterations, or all).
template <class Opt, class Fn, class X, class... Th>
X unroll(const Opt& opt, const Fn& f, const X& init, const UnrollOptions& u, const Th&... theta) {
  X x = init;
  auto state = opt.init(x);
  auto step = [&](const auto&... th) {
    auto g = grad(f)(x, th...);
    auto [updates, next] = opt.update(g, state, x);
    x = optim::apply_updates(x, updates);
    state = std::move(next);
  };
  const int untraced = u.truncate > 0 ? std::max(0, u.steps - u.truncate) : 0;
  if (untraced > 0) {
    x = detail::stop(x);
    state = detail::stop(state);
    for (int k = 0; k < untraced; ++k) step(detail::stop(theta)...);
  }
  for (int k = untraced; k < u.steps; ++k) step(theta...);
  return x;
}

}  // namespace xgrad::implicit
