#pragma once
// The line search a solver takes, as a value (optimistix's "search"): one of the four searches with its options,
//
//   xgrad::optim::LBFGS{.linesearch = xgrad::optim::ZoomLineSearch{.c2 = 0.5}}
//
// or a LineSearchKind alone, which means that search with the options the solver recommends for it (each solver's
// `recommended_linesearch`: curvature c2 = 0.1 for NonlinearCG, strong-Wolfe backtracking for the quasi-Newton
// solvers, Armijo backtracking for NewtonCG):
//
//   xgrad::optim::NonlinearCG{.linesearch = xgrad::optim::LineSearchKind::backtracking}
//
// The dispatch to the chosen search is written once, in optim/src/search.cpp.
#include <variant>

#include "xgrad/optim/hager_zhang.hpp"
#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/more_thuente.hpp"

namespace xgrad::optim {

/// A line search chosen at run time: the options of one of the four searches, or only its kind (see above).
class LineSearch {
 public:
  /// The alternatives, in LineSearchKind's order.
  using Options = std::variant<ZoomLineSearch, BacktrackingLineSearch, MoreThuenteLineSearch, HagerZhangLineSearch>;

  LineSearch(ZoomLineSearch s) : options_(s) {}          ///< that search, those options
  LineSearch(BacktrackingLineSearch s) : options_(s) {}  ///< that search, those options
  LineSearch(MoreThuenteLineSearch s) : options_(s) {}   ///< that search, those options
  LineSearch(HagerZhangLineSearch s) : options_(s) {}    ///< that search, those options
  /// The search of that kind with the options the solver recommends for it (resolved when the solver runs).
  LineSearch(LineSearchKind kind);

  /// The search of `kind` with curvature constant c2 (and, for backtracking, `backtracking_condition`).
  static LineSearch of(LineSearchKind kind, double c2 = 0.9,
                       LineSearchCondition backtracking_condition = LineSearchCondition::strong_wolfe);

  /// Which of the four searches.
  LineSearchKind kind() const { return static_cast<LineSearchKind>(options_.index()); }
  /// Given by kind alone: the solver substitutes its recommended options.
  bool by_kind() const { return by_kind_; }
  /// The options, e.g. `solver.linesearch.get<ZoomLineSearch>().c2` (throws std::bad_variant_access for another kind).
  template <class T>
  const T& get() const {
    return std::get<T>(options_);
  }
  /// The alternatives.
  const Options& options() const { return options_; }
  /// This search, or `recommended(kind())` when it was given by kind alone.
  LineSearch resolve(LineSearch (*recommended)(LineSearchKind)) const {
    return by_kind_ ? recommended(kind()) : *this;
  }

  /// Runs the search: from flat x (value f0, gradient g0) along d, first trying step t0 (see linesearch.hpp).
  LineSearchResult search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0, const Array& d,
                          double t0 = 1.0) const;

  /// Same kind.
  friend bool operator==(const LineSearch& a, LineSearchKind k) { return a.kind() == k; }

 private:
  Options options_;
  bool by_kind_ = false;
};

}  // namespace xgrad::optim
