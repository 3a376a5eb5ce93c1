#pragma once
// Implicit differentiation (like jaxopt.implicit_diff.custom_root): the solution x*(theta) of F(x, theta) = 0,
// recorded on the tape as one node whose backward rule is the implicit function theorem,
//
//     dx*/dtheta = -(dF/dx)^{-1} dF/dtheta,   so   theta_bar = -(dF/dtheta)^T u   with   (dF/dx)^T u = x_bar,
//
// solved matrix-free: (dF/dx)^T u and (dF/dtheta)^T u are vector-Jacobian products of F from the AD core, and u
// comes from a linear solver (linear_solve.hpp). The solver's iterations are never on the tape, so the tape does
// not grow with the number of inner iterations.
//
//   // Ridge: F = grad of the inner objective; solve_fn runs any solver on constants.
//   auto F = [](const Tensor& w, const Tensor& alpha) { return grad(inner)(w, alpha); };
//   auto solve = [](const Tensor& w0, const Tensor& alpha) { return LBFGS{.tol = 1e-10}.run(inner, w0, alpha); };
//   auto w_star = custom_root(F)(solve);            // w_star(init, alpha) -> {params, state}
//   Tensor g = grad([&](const Tensor& a) { return outer(w_star(w0, a).params); })(alpha);
//
// solve_fn(init, theta...) returns x* (a pytree of Tensors) or a solver's {params, state}; it is called with
// constant copies of its arguments (theta's derivatives come from the rule, not from the solver's iterations), and
// the initial guess gets no gradient. Higher order works: when the backward pass is itself recorded (hvp, grad of
// grad, jvp), the adjoint u is recorded as an implicit node of its own linear system, so its derivatives are again
// linear solves. Forward mode (jvp) works by the same transposition as everywhere in the AD core: it ends up solving
// dF/dx t_x = -dF/dtheta t_theta.
//
// Honesty: a derivative through x* is only right if the inner solve converged and the adjoint solve did. Both are
// recorded in an ImplicitReport; by default (on_failure = raise) taking a derivative through an unconverged solve
// throws, `warn` prints to stderr and goes on, `ignore` only records.
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/ravel.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/ad/transforms.hpp"
#include "xgrad/implicit/linear_solve.hpp"
#include "xgrad/optim/status.hpp"

namespace xgrad::implicit {

/// What to do when a derivative is taken through a solve that did not converge.
enum class OnFailure {
  raise,   ///< throw xgrad::Error (the default: never a silently wrong hypergradient)
  warn,    ///< print a warning to stderr, record it in the report, go on
  ignore,  ///< only record it in the report
};

/// An estimated bound on the error of one implicit vector-Jacobian product, theta_bar = -(dF/dtheta)^T u with
/// (dF/dx)^T u = x_bar, against the exact one at the exact solution for the same cotangent x_bar (derivation and
/// assumptions: docs/ARCHITECTURE.md, "Error bound"):
///
///   ||theta_bar - theta_bar*|| <= safety * (||B|| (adjoint_residual + a) / sigma_min + b)
///
/// with B = dF/dtheta, the solution's error eps_x = inner_residual / sigma_min, and a, b what (dF/dx)^T u and
/// (dF/dtheta)^T u change by when x moves by eps_x along the estimated error direction J^{-1} F. The constants are
/// estimates (sigma_min from Krylov spaces, from above; ||B|| by power iteration, from below), and `safety` = 2
/// covers their error (without it, the closest of the tests' 1 500 cases came to 1.13x the true error). An outer loss whose x_bar itself depends on x adds at most
/// sensitivity * L * solution_error, L the Lipschitz constant of x_bar in x.
struct ErrorBound {
  static constexpr double safety = 2.0;  ///< the factor on the estimate (see above)
  double bound = std::numeric_limits<double>::infinity();  ///< the bound on ||theta_bar - theta_bar*||_2 (inf: none)
  double solution_error = std::numeric_limits<double>::infinity();  ///< eps_x, a bound on ||x_hat - x*||_2
  double inner_residual = 0.0;     ///< ||F(x_hat, theta)||_2
  double adjoint_residual = 0.0;   ///< ||(dF/dx)^T u - x_bar||_2, the adjoint solve's true residual
  double sigma_min = std::numeric_limits<double>::quiet_NaN();  ///< estimate of sigma_min(dF/dx) (SolveInfo::sigma_min)
  double jacobian_theta_norm = 0.0;  ///< ||B||_2 = ||dF/dtheta||_2 (power iteration, 4 steps)
  double sensitivity = 0.0;          ///< ||B|| / sigma_min, a bound on ||dx*/dtheta||_2
  double adjoint_curvature = 0.0;    ///< a: ||((dF/dx)(x_hat) - (dF/dx)(x_hat - e))^T u||
  double theta_curvature = 0.0;      ///< b: ||((dF/dtheta)(x_hat) - (dF/dtheta)(x_hat - e))^T u||
  double seconds = 0.0;              ///< what computing the bound cost (wall time)
  double cotangent_norm = 0.0;       ///< ||x_bar||, the cotangent received
  double target = 0.0;               ///< with automatic tolerances: max(hypergradient_tol, rtol ||theta_bar||)
  bool within_target = false;        ///< with automatic tolerances: bound <= target
  std::string note;                  ///< why there is no bound, when bound is inf
};

/// The convergence of the solves behind an implicit function's derivatives.
struct ImplicitReport {
  std::string inner_status = "unknown";  ///< status of the last inner solve ("unknown" if solve_fn reports none)
  bool inner_converged = true;           ///< false if the last inner solve reported anything but converged by gtol
  SolveInfo adjoint{};                   ///< the last adjoint linear solve
  int adjoint_solves = 0;                ///< adjoint solves done
  int adjoint_failures = 0;              ///< of which did not converge
  ErrorBound error_bound{};              ///< of the last first-order derivative, when ImplicitOptions::error_bound
  double inner_tol = 0.0;                ///< automatic tolerances: the next inner solve's (0: the solver's own)
  Array last_adjoint{};                  ///< automatic tolerances: the last adjoint, the next solve's start
  /// Both solves converged so far.
  bool ok() const { return inner_converged && adjoint_failures == 0; }
};

/// Options of custom_root, custom_fixed_point, argmin, root, fixed_point.
struct ImplicitOptions {
  LinearSolver solver{};                      ///< solves the adjoint systems (dF/dx)^T u = v (default gmres)
  OnFailure on_failure = OnFailure::raise;    ///< see OnFailure
  std::shared_ptr<ImplicitReport> report{};   ///< where to record the solves (custom_root makes one if unset)
  /// Estimate a bound on each first-order derivative's error (ImplicitReport::error_bound). Costs one rough solve
  /// with dF/dx, one more evaluation of F and about ten vector-Jacobian products per backward pass.
  bool error_bound = false;
  /// Automatic tolerances (argmin, root, fixed_point; HOAG, Pedregosa 2016): when either is > 0, each derivative's
  /// error bound is computed and aimed at max(hypergradient_tol, hypergradient_rtol ||theta_bar||). The adjoint
  /// solve starts from the last adjoint and goes on until its part of the bound is within half the target; the next
  /// inner solve's `tol` is scaled by how far the inner part was from a quarter of the target. The first inner solve
  /// runs at the solver's own tol (at most hypergradient_tol / 10 when there is no relative target). So in an outer loop the solves are as loose as the target allows and tighten as it shrinks; a single
  /// call reports in error_bound.within_target whether its target was met.
  double hypergradient_tol = 0.0;
  double hypergradient_rtol = 0.0;  ///< see hypergradient_tol (e.g. 0.1: one digit, as an outer descent needs)
  /// Automatic tolerances: also keep the error of the outer value, about ||x_bar|| ||x_hat - x*||, within this (a
  /// line search on the outer problem compares values; Bilevel sets it from the outer solver's last decrease).
  double value_tol = 0.0;
};

namespace detail {

using FlatF = std::function<Tensor(const Tensor& z, const std::vector<Tensor>& theta)>;

// Everything the backward rule of one implicit node needs: F on the flat view, the options, the inner status.
struct RootCore {
  FlatF F;
  ImplicitOptions options;
  bool inner_converged = true;
  std::string inner_status;
  const char* caller = "implicit::custom_root";  // the user's call, for error messages
};

/// Record z (the flat solution, computed without the tape) as one node over the Tensors `theta`.
Tensor root_node(std::shared_ptr<const RootCore> core, Array z, std::vector<Tensor> theta);

template <class T>
using is_tensor = std::is_same<std::remove_cvref_t<T>, Tensor>;
template <class T>
inline constexpr bool is_tree_v = tree::is_leaf_v<T> || tree::is_node_v<T>;

// Apply fn to the Tensor leaves of x, if x is a tree; anything else (a double, a string) passes unchanged.
template <class T, class Fn>
T map_tensor_leaves(const T& x, Fn&& fn) {
  if constexpr (is_tensor<T>::value)
    return fn(x);
  else if constexpr (is_tree_v<T>)
    return xgrad::map_tensors(x, fn);
  else
    return x;
}
template <class T>
T stop(const T& x) {
  return map_tensor_leaves(x, [](const Tensor& t) { return stop_gradient(t); });
}
template <class T>
void collect_tensors(const T& x, std::vector<Tensor>& out) {
  if constexpr (is_tree_v<T>)
    tree::for_each([&](const auto& leaf) {
      if constexpr (is_tensor<decltype(leaf)>::value) out.push_back(leaf);
    }, x);
}
template <class T>
T replace_tensors(const T& x, const std::vector<Tensor>& th, std::size_t& k) {
  return map_tensor_leaves(x, [&](const Tensor&) { return th[k++]; });
}

template <class R>
concept SolverResult = requires(const R& r) {
  r.params;
  r.state.status;
};

}  // namespace detail

/// An implicit function x*(init, theta...) made by custom_root. Copies share one report.
template <class F, class Solve>
class ImplicitFunction {
 public:
  /// `name` is what error messages call it (argmin, root, ... pass their own).
  ImplicitFunction(F optimality, Solve solve, ImplicitOptions options, const char* name = "implicit::custom_root")
      : F_(std::move(optimality)), solve_(std::move(solve)), options_(std::move(options)), name_(name) {
    if (!options_.report) options_.report = std::make_shared<ImplicitReport>();
  }

  /// Runs solve_fn(init, theta...) on constants and returns its result with the solution made differentiable with
  /// respect to every Tensor leaf of theta (theta: any pytrees; other arguments pass through).
  template <class Init, class... Th>
  auto operator()(const Init& init, const Th&... theta) const {
    auto result = solve_(detail::stop(init), detail::stop(theta)...);
    auto& x = params(result);
    using X = std::remove_cvref_t<decltype(x)>;
    auto core = std::make_shared<detail::RootCore>();
    core->options = options_;
    core->caller = name_;
    if constexpr (detail::SolverResult<decltype(result)>) {
      core->inner_converged = result.state.status == optim::Status::converged;
      core->inner_status = optim::to_string(result.state.status);
      // An ftol or xtol stop does not certify a stationary point, which the implicit function theorem needs.
      if constexpr (requires { result.state.converged_by; }) {
        if (core->inner_converged && result.state.converged_by != optim::ConvergenceTest::gtol) {
          core->inner_converged = false;
          core->inner_status += " by " + optim::to_string(result.state.converged_by);
        }
      }
    } else {
      core->inner_status = "unknown";
    }
    options_.report->inner_converged = core->inner_converged;
    options_.report->inner_status = core->inner_status;

    std::vector<Tensor> th;
    (detail::collect_tensors(theta, th), ...);
    bool traced = false;
    for (const auto& t : th) traced = traced || t.is_traced();
    if (!traced) return result;  // nothing to differentiate: no node

    tree::for_each([](const auto& leaf) {
      static_assert(detail::is_tensor<decltype(leaf)>::value,
                    "xgrad::implicit::custom_root: the solution must be a pytree of Tensors");
    }, x);
    core->F = [f = F_, protos = std::make_tuple(detail::stop(theta)...), proto = detail::stop(x)](
                  const Tensor& z, const std::vector<Tensor>& thv) {
      std::size_t k = 0;
      // A braced list evaluates left to right, so the leaves are handed out in order.
      auto args = std::apply([&](const auto&... p) { return std::tuple<Th...>{detail::replace_tensors(p, thv, k)...}; },
                             protos);
      const X xz = unravel_tensors(z, proto);
      return ravel_tensors(std::apply([&](const auto&... a) { return f(xz, a...); }, args));
    };
    const Tensor z = detail::root_node(core, tree::ravel(x).first, std::move(th));
    x = unravel_tensors(z, x);
    return result;
  }

  /// The convergence of the last solves (shared by copies of this function).
  const ImplicitReport& report() const { return *options_.report; }

 private:
  template <class R>
  static auto& params(R& r) {
    if constexpr (detail::SolverResult<R>)
      return r.params;
    else
      return r;
  }
  F F_;
  Solve solve_;
  ImplicitOptions options_;
  const char* name_;
};

/// custom_root(F, options)(solve_fn): see the top of this header. F(x, theta...) returns a pytree like x.
/// `name` is what its error messages call it.
template <class F>
auto custom_root(F optimality, ImplicitOptions options = {}, const char* name = "implicit::custom_root") {
  return [optimality, options, name](auto solve) {
    return ImplicitFunction<F, decltype(solve)>(optimality, std::move(solve), options, name);
  };
}

/// custom_fixed_point(T, options)(solve_fn): custom_root with F(x, theta...) = T(x, theta...) - x.
template <class T>
auto custom_fixed_point(T map, ImplicitOptions options = {}, const char* name = "implicit::custom_fixed_point") {
  auto F = [map](const auto& x, const auto&... theta) {
    return tree::map([](const Tensor& a, const Tensor& b) { return a - b; }, map(x, theta...), x);
  };
  return custom_root(std::move(F), std::move(options), name);
}

}  // namespace xgrad::implicit
