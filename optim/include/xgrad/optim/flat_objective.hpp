#pragma once
// An objective on pytrees seen through the flat view (core/flat.hpp): x (flat, in tree::ravel order of the
// parameters it was made at) -> {f, flat gradient}, what the line searches take, plus the flat point itself and
// Hessian-vector products there. The solver driver builds one per iteration; `flat_objective(f, params, args...)`
// makes one for a line search run by hand.
#include <tuple>
#include <utility>

#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/array.hpp"
#include "xgrad/core/flat.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::optim {

/// fun(params, args...) on flat arrays, at the point `params`. Holds references to fun, params and args: they must
/// outlive it.
template <class F, class P, class... Args>
class FlatObjective {
 public:
  FlatObjective(const F& fun, const P& params, const Args&... args)
      : fun_(fun), params_(params), args_(args...), raveled_(tree::ravel(params)) {}

  /// The flat parameters it was made at.
  const Array& x() const { return raveled_.first; }
  /// The pytree of flat v (params' type and shapes).
  P unravel(const Array& v) const { return raveled_.second(v); }
  /// {f, flat grad f} at flat x.
  std::pair<double, Array> operator()(const Array& x) const {
    const P p = unravel(x);
    auto [y, g] = std::apply([&](const auto&... a) { return value_and_grad(fun_)(p, a...); }, args_);
    return {y.item(), flat::values(g)};
  }
  /// H v at the parameters it was made at, flat (exact: xgrad::hvp, reverse over reverse).
  Array hvp(const Array& v) const {
    auto hv = [&](const auto&... a) { return xgrad::hvp(fun_, params_, unravel(v), a...); };
    return flat::values(std::apply(hv, args_));
  }
  /// The objective on pytrees and the parameters.
  const F& fun() const { return fun_; }
  const P& params() const { return params_; }

 private:
  const F& fun_;
  const P& params_;
  std::tuple<const Args&...> args_;
  decltype(tree::ravel(std::declval<const P&>())) raveled_;
};

/// The objective fun(params, args...) seen through the flat view at `params` (see FlatObjective).
template <class F, class P, class... Args>
FlatObjective<F, P, Args...> flat_objective(const F& fun, const P& params, const Args&... args) {
  return FlatObjective<F, P, Args...>(fun, params, args...);
}

}  // namespace xgrad::optim
