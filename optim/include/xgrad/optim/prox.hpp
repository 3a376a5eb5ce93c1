#pragma once
// Proximal operators, as jaxopt.prox: prox_{s g}(x) = argmin_z 1/2 ||z - x||^2 + s g(z) for a convex, possibly
// non-smooth g, on the flat view of the parameters (core/flat.hpp). ProximalGradient minimises f(x) + g(x) with
// them: f smooth (the objective it differentiates), g given by its prox. The regularisation strengths are captured
// when the Prox is made; `scaling` s is the step ProximalGradient takes.
//
//   ProximalGradient{.prox = optim::prox_lasso(0.1)}.run(f, w0, X, y);      // f(w) + 0.1 ||w||_1
//
// Negative strengths throw ValueError when the prox is made.
#include <functional>
#include <type_traits>
#include <utility>

#include "xgrad/ad/tensor.hpp"
#include "xgrad/core/array.hpp"
#include "xgrad/optim/projection.hpp"

namespace xgrad::optim {

/// A proximal operator on the flat view: (x, scaling s) -> prox_{s g}(x), and, where it has one, the same map written
/// with ops on the flat Tensor (`differentiable`): implicit::argmin differentiates a ProximalGradient solution through
/// the fixed point of the proximal gradient map with it, as jaxopt. The factories below give both, except
/// make_prox_from_projection (pass the projection's Tensor form as its second argument). A Prox made from a plain
/// function (x, s) -> Array has no differentiable form. The strengths are constants: derivatives are with respect to
/// the smooth part's hyperparameters.
struct Prox {
  std::function<Array(const Array& x, double scaling)> apply;
  std::function<Tensor(const Tensor& x, double scaling)> differentiable{};

  Prox() = default;
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, Prox> && std::is_invocable_r_v<Array, const F&, const Array&, double>)
  Prox(F f) : apply(std::move(f)) {}  // NOLINT: implicit, so a lambda is a Prox
  Prox(std::function<Array(const Array&, double)> a, std::function<Tensor(const Tensor&, double)> d)
      : apply(std::move(a)), differentiable(std::move(d)) {}

  Array operator()(const Array& x, double scaling) const { return apply(x, scaling); }
  explicit operator bool() const { return static_cast<bool>(apply); }
};

/// g = 0: the identity (ProximalGradient is then gradient descent).
Prox prox_none();
/// g = l1reg ||x||_1 (the lasso): soft thresholding, sign(x) max(|x| - s l1reg, 0).
Prox prox_lasso(double l1reg);
/// g = l1reg ||x||_1 + indicator(x >= 0): max(x - s l1reg, 0).
Prox prox_non_negative_lasso(double l1reg);
/// g = l1reg ||x||_1 + l2reg / 2 ||x||_2^2 (the elastic net): soft thresholding, then division by 1 + s l2reg.
Prox prox_elastic_net(double l1reg, double l2reg);
/// g = l2reg / 2 ||x||_2^2 (ridge): x / (1 + s l2reg).
Prox prox_ridge(double l2reg);
/// g = l2reg ||x||_2 over the whole flat view as one group (the group lasso of one group; for several groups, make
/// one ProximalGradient variable per group or compose): x max(0, 1 - s l2reg / ||x||_2).
Prox prox_group_lasso(double l2reg);
/// g = the indicator of a convex set: the prox is the projection, whatever the scaling (projected gradient). With
/// `differentiable`, the projection written with ops (e.g. clip(x, 0, 1) for projection_box(0, 1)), it can be
/// differentiated through by implicit::argmin.
Prox make_prox_from_projection(Projection projection, std::function<Tensor(const Tensor&)> differentiable = {});

}  // namespace xgrad::optim
