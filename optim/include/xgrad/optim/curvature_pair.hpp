#pragma once
// The curvature pair (s, y) of an accepted step, what the quasi-Newton updates (LBFGS, BFGS) learn from, and the
// test that decides whether an update may use it. Written once so that both solvers skip the same pairs.
#include "xgrad/core/array.hpp"

namespace xgrad::optim {

/// s = x+ - x and y = g+ - g (flat), with <s, y> and <y, y>.
struct CurvaturePair {
  Array s;               ///< the step
  Array y;               ///< the change of gradient
  double sy = 0.0;       ///< <s, y>
  double yy = 0.0;       ///< <y, y>
  bool usable = false;   ///< <y, y> > 0 and <s, y> > curvature_eps (-<g, s>)
};

/// The pair of the step from x (gradient g) to x_new (gradient g_new). It is usable when <y, y> > 0 and
/// <s, y> > curvature_eps (-<g, s>): scipy L-BFGS-B's test (lbfgsb.f, `dr <= epsmch * ddum` skips), whose two sides
/// are both in f's units, so it does not depend on the problem's scaling (the former `<s, y> <= 1e-10 <y, y>`
/// dropped every pair once the curvature exceeded 1e10).
CurvaturePair curvature_pair(const Array& x, const Array& g, const Array& x_new, const Array& g_new,
                             double curvature_eps);

}  // namespace xgrad::optim
