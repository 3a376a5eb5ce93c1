#pragma once
// L-BFGS-B: limited-memory BFGS with box bounds l <= x <= u (Byrd, Lu, Nocedal and Zhu, "A limited memory algorithm
// for bound constrained optimization", SIAM J. Sci. Comput. 16(5), 1995; the subspace step of Morales and Nocedal's
// 2011 remark, as scipy's v3.0), written from the paper. Each iteration:
//
//   1. the generalized Cauchy point: the first local minimiser of the quadratic model m(x) = f + g^T (x - x_k) +
//      1/2 (x - x_k)^T B (x - x_k) along the projected steepest-descent path P(x_k - t g), segment by segment between
//      the breakpoints where coordinates hit their bounds (B in the compact form theta I - W M W^T);
//   2. subspace minimisation: the model minimised over the coordinates still free at that point, the others held,
//      by the direct primal method (Sherman-Morrison-Woodbury on the compact form); the step is projected onto the box,
//      or truncated to it when the projection is not a descent direction;
//   3. a Moré-Thuente line search (c1 = 1e-3, c2 = 0.9, as L-BFGS-B) along d = x_bar - x_k, at most to the box's edge;
//      the first iteration starts at min(1, 1/||d||) unless every coordinate has both bounds;
//   4. the pair (s, y) joins the memory if <s, y> > eps (-<g, s>) (curvature_pair.hpp), theta = <y, y> / <s, y>.
//
// When the direction is not a descent direction or the search fails, the memory is dropped and the iteration redone
// from the projected steepest-descent path. state.error is the projected gradient's norm ||P(x - g) - x||_2 (0 exactly
// at a stationary point on the box); `tol` is compared with it. run() starts from the initial parameters projected
// onto the box (as scipy).
//
//   optim::LBFGSB solver{.tol = 1e-10, .bounds = optim::Bounds::of(0.0, 1.0)};      // or {.lower = {...}, .upper = {...}}
//   auto [x, state] = solver.run(f, x0, args...);
#include <vector>

#include "xgrad/core/flat.hpp"
#include "xgrad/core/tree.hpp"
#include "xgrad/optim/bounds.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/solver_state.hpp"

namespace xgrad::optim {

/// State of LBFGSB: the shared record and the limited memory.
template <class P>
struct LBFGSBState : SolverState<P> {
  std::vector<Array> s_history{};  ///< the last steps s_i (oldest first)
  std::vector<Array> y_history{};  ///< the matching gradient changes y_i
  double theta = 1.0;              ///< the scaling <y, y> / <s, y> of the newest pair
  int restarts = 0;                ///< iterations redone after dropping the memory
  /// S^T S and the lower triangle of S^T Y with its diagonal (k x k; what the compact form needs), updated by one
  /// row and column per new pair as lbfgsb.f does, instead of k^2 dot products of length n per iteration;
  /// recomputed when their size does not match the memory's. After editing the pairs by hand, reset sts to Array().
  Array sts{}, sty{};
};

namespace detail {
/// The generalized Cauchy point alone (step 1), for tests.
Array lbfgsb_cauchy_point(const Array& x, const Array& g, const Array& l, const Array& u,
                          const std::vector<Array>& S, const std::vector<Array>& Y, double theta);
/// The flat L-BFGS-B step from x (gradient g) on [l, u] with the memory (S, Y, theta) and its products S^T S and
/// S^T Y (lower triangle): the point x_bar that steps 1-2 of the header comment give (the generalized Cauchy point,
/// then the subspace minimiser).
Array lbfgsb_subspace_point(const Array& x, const Array& g, const Array& l, const Array& u,
                            const std::vector<Array>& S, const std::vector<Array>& Y, const Array& sts,
                            const Array& sty, double theta);
/// The largest t <= cap with l <= x + t d <= u.
double max_feasible_step(const Array& x, const Array& d, const Array& l, const Array& u, double cap);
}  // namespace detail

/// The L-BFGS-B solver; options are public fields with defaults (designated initializers work).
struct LBFGSB {
  int maxiter = 500;          ///< most iterations for run()
  double tol = 1e-5;          ///< converged when ||P(x - g) - x||_2 <= tol (scipy's pgtol uses the max norm)
  double ftol = 0.0;          ///< also converged when f_k - f_{k+1} <= ftol max(|f_k|, |f_{k+1}|, 1) (scipy's factr eps)
  double xtol = 0.0;          ///< also converged when ||x_{k+1} - x_k||_2 <= xtol max(1, ||x_k||_2) (0: off)
  int stall_iterations = 10;  ///< Status::stalled after this many iterations without progress (0: off)
  int history_size = 10;      ///< pairs (s, y) kept (scipy's maxcor)
  Bounds bounds{};            ///< the box (bounds.hpp); default: none (then it is LBFGS with a More-Thuente search)
  int maxls = 20;             ///< most evaluations per line search (scipy's maxls)
  double curvature_eps = 2.220446049250313e-16;  ///< pairs with <s, y> <= curvature_eps (-<g, s>) are skipped
  bool verbose = false;       ///< print one line per iteration (iter, value, error, stepsize, evals) to stdout
  Callback callback{};        ///< called after each iteration; returning true stops run()

  XGRAD_OPTIM_SOLVER_INTERFACE(LBFGSB, LBFGSBState)

  /// run() starts from the initial parameters projected onto the box.
  template <class P>
  P start(const P& params) const {
    auto [x, unravel] = tree::ravel(params);
    auto [l, u] = bounds.expand(x.size(), "xgrad::optim::LBFGSB");
    return unravel(project_onto(x, l, u));
  }

  /// The projected gradient's norm ||P(x - g) - x||_2.
  double error(const Array& x, const Array& g) const {
    auto [l, u] = bounds.expand(x.size(), "xgrad::optim::LBFGSB");
    return projected_gradient_norm(x, g, l, u);
  }

  /// Checks the options, the bounds' sizes and that the parameters are inside them.
  template <class P>
  void init(LBFGSBState<P>& s, const P& params) const {
    check(flat::values(params));
    s.theta = 1.0;
  }

  /// Steps 1-4 of the header comment.
  template <class P, class It>
  LineSearchResult step(LBFGSBState<P>& s, const It& it) const {
    return step_flat(s, it.x(), s.value, it.g, it);
  }

 private:
  void check(const Array& x) const;
  LineSearchResult step_flat(LBFGSBState<Array>& s, const Array& x, double f, const Array& g,
                             FlatObjectiveRef vg) const;
  template <class P>
  LineSearchResult step_flat(LBFGSBState<P>& s, const Array& x, double f, const Array& g, FlatObjectiveRef vg) const {
    // The memory and counters live in the typed state; the flat step works on a view of them.
    LBFGSBState<Array> flat_state;
    static_cast<IterationInfo&>(flat_state) = static_cast<const IterationInfo&>(s);
    flat_state.s_history = std::move(s.s_history);
    flat_state.y_history = std::move(s.y_history);
    flat_state.theta = s.theta;
    flat_state.restarts = s.restarts;
    flat_state.sts = std::move(s.sts);
    flat_state.sty = std::move(s.sty);
    LineSearchResult r = step_flat(flat_state, x, f, g, vg);
    static_cast<IterationInfo&>(s) = static_cast<const IterationInfo&>(flat_state);
    s.s_history = std::move(flat_state.s_history);
    s.y_history = std::move(flat_state.y_history);
    s.theta = flat_state.theta;
    s.restarts = flat_state.restarts;
    s.sts = std::move(flat_state.sts);
    s.sty = std::move(flat_state.sty);
    return r;
  }
};

}  // namespace xgrad::optim
