// LineSearch (search.hpp): the one place that dispatches to the chosen search.
#include "xgrad/optim/search.hpp"

namespace xgrad::optim {

LineSearch::LineSearch(LineSearchKind kind) : LineSearch(of(kind)) { by_kind_ = true; }

LineSearch LineSearch::of(LineSearchKind kind, double c2, LineSearchCondition backtracking_condition) {
  switch (kind) {
    case LineSearchKind::zoom: return ZoomLineSearch{.c2 = c2};
    case LineSearchKind::backtracking: return BacktrackingLineSearch{.condition = backtracking_condition, .c2 = c2};
    case LineSearchKind::more_thuente: return MoreThuenteLineSearch{.c2 = c2};
    case LineSearchKind::hager_zhang: return HagerZhangLineSearch{.c2 = c2};
  }
  return ZoomLineSearch{.c2 = c2};
}

LineSearchResult LineSearch::search(FlatObjectiveRef vg, const Array& x, double f0, const Array& g0, const Array& d,
                                    double t0) const {
  return std::visit([&](const auto& s) { return s.search(vg, x, f0, g0, d, t0); }, options_);
}

}  // namespace xgrad::optim
