// The curvature pair of the quasi-Newton updates (curvature_pair.hpp), compiled once.
#include "xgrad/optim/curvature_pair.hpp"

#include "xgrad/core/flat.hpp"

namespace xgrad::optim {

CurvaturePair curvature_pair(const Array& x, const Array& g, const Array& x_new, const Array& g_new,
                             double curvature_eps) {
  CurvaturePair c;
  c.s = flat::sub(x_new, x);
  c.y = flat::sub(g_new, g);
  c.sy = flat::dot(c.s, c.y);
  c.yy = flat::dot(c.y, c.y);
  const double descent = -flat::dot(g, c.s);
  c.usable = c.yy > 0.0 && c.sy > curvature_eps * descent;
  return c;
}

}  // namespace xgrad::optim
