// L-BFGS-B on flat arrays (lbfgsb.hpp): the compact form of the limited-memory matrix, the generalized Cauchy point,
// the subspace minimisation and the step with its line search. Notation of Byrd, Lu, Nocedal and Zhu (1995).
#include "xgrad/optim/lbfgsb.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>
#include <utility>
#include <xtensor-blas/xlinalg.hpp>

#include "xgrad/optim/curvature_pair.hpp"
#include "xgrad/optim/more_thuente.hpp"

namespace xgrad::optim {

namespace detail {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

// B = theta I - W M W^T with W = [Y, theta S] (n x 2k) and M = [[-D, L^T], [L, theta S^T S]]^{-1} (2k x 2k),
// D = diag(s_i^T y_i), L the strictly lower triangle of S^T Y (section 3 of the paper). W is never formed: its rows
// are read from the pairs where they are needed (one per breakpoint and per free coordinate), which saves an n x 2k
// copy per iteration.
struct Compact {
  std::size_t k = 0;
  double theta = 1.0;
  const std::vector<Array>* S = nullptr;
  const std::vector<Array>* Y = nullptr;
  Array M;
  // Row i of W into out[0, 2k).
  void row(std::size_t i, double* out) const {
    for (std::size_t j = 0; j < k; ++j) {
      out[j] = (*Y)[j].data()[i];
      out[k + j] = theta * (*S)[j].data()[i];
    }
  }
  // W^T v.
  Array transpose_times(const Array& v) const {
    Array out = Array::from_shape({2 * k});
    for (std::size_t j = 0; j < k; ++j) {
      out(j) = flat::dot((*Y)[j], v);
      out(k + j) = theta * flat::dot((*S)[j], v);
    }
    return out;
  }
  // M v: plain loops over 2k <= 2 history, called per breakpoint, where a BLAS call and a fresh Array would cost
  // more than the arithmetic.
  void times_M(const double* v, double* out) const {
    const std::size_t k2 = 2 * k;
    for (std::size_t i = 0; i < k2; ++i) {
      double s = 0.0;
      for (std::size_t j = 0; j < k2; ++j) s += M(i, j) * v[j];
      out[i] = s;
    }
  }
  Array times_M(const Array& v) const {
    Array out = Array::from_shape({2 * k});
    times_M(v.data(), out.data());
    return out;
  }
};

// S^T S and the lower triangle of S^T Y with its diagonal (all that M needs; the upper triangle is left 0), from
// scratch.
std::pair<Array, Array> products(const std::vector<Array>& S, const std::vector<Array>& Y) {
  const std::size_t k = S.size();
  Array sts = Array::from_shape({k, k}), sty = xt::zeros<double>({k, k});
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      sts(i, j) = sts(j, i) = flat::dot(S[i], S[j]);
      sty(i, j) = flat::dot(S[i], Y[j]);
    }
  return {std::move(sts), std::move(sty)};
}

Compact compact_form(const std::vector<Array>& S, const std::vector<Array>& Y, const Array& sts, const Array& sty,
                     double theta) {
  Compact c;
  c.k = S.size();
  c.theta = theta;
  c.S = &S;
  c.Y = &Y;
  const std::size_t k = c.k;
  if (k == 0) {
    c.M = xt::zeros<double>({0, 0});
    return c;
  }
  Array Minv = xt::zeros<double>({2 * k, 2 * k});
  for (std::size_t i = 0; i < k; ++i) {
    Minv(i, i) = -sty(i, i);
    for (std::size_t j = 0; j <= i; ++j) {
      Minv(k + i, k + j) = Minv(k + j, k + i) = theta * sts(i, j);
      if (i > j) Minv(k + i, j) = Minv(j, k + i) = sty(i, j);
    }
  }
  c.M = xt::linalg::inv(Minv);
  return c;
}

struct Cauchy {
  Array xcp;  // the generalized Cauchy point
  Array c;    // W^T (xcp - x)
};

// Algorithm CP of the paper: the first local minimiser of the model along P(x - t g), breakpoint by breakpoint.
Cauchy cauchy_point(const Array& x, const Array& g, const Array& l, const Array& u, const Compact& C, double theta) {
  const std::size_t n = x.size(), k2 = 2 * C.k;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> t(n, inf);
  Array d = xt::zeros<double>({n});
  for (std::size_t i = 0; i < n; ++i) {
    if (g(i) < 0.0 && u(i) < inf) t[i] = (x(i) - u(i)) / g(i);
    else if (g(i) > 0.0 && l(i) > -inf) t[i] = (x(i) - l(i)) / g(i);
    if (t[i] > 0.0) d(i) = -g(i);
    else t[i] = 0.0;
  }
  Cauchy out{x, Array(xt::zeros<double>({k2}))};
  double fp = -flat::dot(d, d);
  if (fp == 0.0) return out;  // the projected gradient is zero: x is the Cauchy point
  Array p = C.transpose_times(d);
  double fpp = -theta * fp - (k2 ? flat::dot(p, C.times_M(p)) : 0.0);
  const double fpp0 = fpp;
  if (!(fpp > 0.0)) fpp = kEps * std::abs(fp);  // B is positive definite in exact arithmetic
  double dtmin = -fp / fpp, told = 0.0;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < n; ++i)
    if (t[i] > 0.0 && t[i] < inf) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return t[a] < t[b]; });
  std::vector<double> wb(k2), Mc(k2), Mp(k2), Mw(k2);  // row b of W; M c, M p, M w_b at each breakpoint
  for (std::size_t b : order) {
    const double dt = t[b] - told;
    if (dtmin < dt) break;  // the minimiser lies on this segment
    // Pass breakpoint b: coordinate b stays at its bound from here on.
    out.xcp(b) = d(b) > 0.0 ? u(b) : l(b);
    const double zb = out.xcp(b) - x(b), gb = g(b);
    fp += dt * fpp + gb * gb + theta * gb * zb;
    fpp -= theta * gb * gb;
    if (k2) {
      for (std::size_t j = 0; j < k2; ++j) out.c(j) += dt * p(j);
      C.row(b, wb.data());
      C.times_M(out.c.data(), Mc.data());
      C.times_M(p.data(), Mp.data());
      C.times_M(wb.data(), Mw.data());
      fp -= gb * flat::dot(wb.data(), Mc.data(), k2);
      fpp -= 2.0 * gb * flat::dot(wb.data(), Mp.data(), k2) + gb * gb * flat::dot(wb.data(), Mw.data(), k2);
      for (std::size_t j = 0; j < k2; ++j) p(j) += gb * wb[j];
    }
    fpp = std::max(kEps * std::abs(fpp0), fpp);
    d(b) = 0.0;
    dtmin = -fp / fpp;
    told = t[b];
  }
  dtmin = std::max(dtmin, 0.0);
  told += dtmin;
  for (std::size_t i = 0; i < n; ++i)
    if (d(i) != 0.0) out.xcp(i) = std::clamp(x(i) + told * d(i), l(i), u(i));
  if (k2) out.c += dtmin * p;
  return out;
}

// Direct primal subspace minimisation (section 5.1) over the coordinates free at the Cauchy point, then the step
// projected onto the box, or truncated to it when the projected point is not a descent direction from x.
Array subspace_minimum(const Array& x, const Array& g, const Array& l, const Array& u, const Compact& C, double theta,
                       const Cauchy& cp) {
  const std::size_t n = x.size(), k2 = 2 * C.k;
  std::vector<std::size_t> free;
  for (std::size_t i = 0; i < n; ++i)
    if (cp.xcp(i) > l(i) && cp.xcp(i) < u(i)) free.push_back(i);
  if (free.empty()) return cp.xcp;
  const std::size_t nf = free.size();
  const Array Mc = k2 ? C.times_M(cp.c) : Array(xt::zeros<double>({0}));
  Array r = xt::zeros<double>({nf});
  Array WF = xt::zeros<double>({nf, k2});  // the rows of W of the free coordinates
  for (std::size_t j = 0; j < nf; ++j) {
    const std::size_t i = free[j];
    r(j) = g(i) + theta * (cp.xcp(i) - x(i));
    if (k2) {
      C.row(i, WF.data() + j * k2);
      r(j) -= flat::dot(WF.data() + j * k2, Mc.data(), k2);
    }
  }
  Array dhat = -r / theta;
  if (k2) {
    Array v = C.times_M(Array(xt::linalg::dot(xt::transpose(WF), r)));
    Array N = -xt::linalg::dot(C.M, Array(xt::linalg::dot(xt::transpose(WF), WF))) / theta;
    for (std::size_t i = 0; i < k2; ++i) N(i, i) += 1.0;
    v = xt::linalg::solve(N, v);
    dhat -= Array(xt::linalg::dot(WF, v)) / (theta * theta);
  }
  Array xbar = cp.xcp;
  for (std::size_t j = 0; j < nf; ++j) xbar(free[j]) = std::clamp(cp.xcp(free[j]) + dhat(j), l(free[j]), u(free[j]));
  double dd = 0.0;
  for (std::size_t i = 0; i < n; ++i) dd += (xbar(i) - x(i)) * g(i);
  if (dd <= 0.0) return xbar;
  // Truncation: the largest alpha <= 1 keeping xcp + alpha dhat in the box.
  double alpha = 1.0;
  for (std::size_t j = 0; j < nf; ++j) {
    const std::size_t i = free[j];
    if (dhat(j) < 0.0) alpha = std::min(alpha, (l(i) - cp.xcp(i)) / dhat(j));
    else if (dhat(j) > 0.0) alpha = std::min(alpha, (u(i) - cp.xcp(i)) / dhat(j));
  }
  alpha = std::max(alpha, 0.0);
  xbar = cp.xcp;
  for (std::size_t j = 0; j < nf; ++j) xbar(free[j]) = cp.xcp(free[j]) + alpha * dhat(j);
  return xbar;
}

}  // namespace

Array lbfgsb_cauchy_point(const Array& x, const Array& g, const Array& l, const Array& u,
                          const std::vector<Array>& S, const std::vector<Array>& Y, double theta) {
  const auto [sts, sty] = products(S, Y);
  return cauchy_point(x, g, l, u, compact_form(S, Y, sts, sty, theta), theta).xcp;
}

Array lbfgsb_subspace_point(const Array& x, const Array& g, const Array& l, const Array& u,
                            const std::vector<Array>& S, const std::vector<Array>& Y, const Array& sts,
                            const Array& sty, double theta) {
  const Compact C = compact_form(S, Y, sts, sty, theta);
  return subspace_minimum(x, g, l, u, C, theta, cauchy_point(x, g, l, u, C, theta));
}

namespace {

// Appends the pair (s, y) to the memory, after dropping the oldest pair if the memory is full (lbfgsb.f's order),
// with its row and column of S^T S and its row of S^T Y's lower triangle: 2k dot products of length n.
void push_pair(LBFGSBState<Array>& st, Array s, Array y, std::size_t history) {
  const std::size_t drop = st.s_history.size() >= history ? 1 : 0;
  if (drop) {
    st.s_history.erase(st.s_history.begin());
    st.y_history.erase(st.y_history.begin());
  }
  const std::size_t k = st.s_history.size();
  Array sts = Array::from_shape({k + 1, k + 1}), sty = xt::zeros<double>({k + 1, k + 1});
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      sts(i, j) = st.sts(i + drop, j + drop);
      sty(i, j) = st.sty(i + drop, j + drop);
    }
  for (std::size_t j = 0; j < k; ++j) {
    sts(k, j) = sts(j, k) = flat::dot(s, st.s_history[j]);
    sty(k, j) = flat::dot(s, st.y_history[j]);
  }
  sts(k, k) = flat::dot(s, s);
  sty(k, k) = flat::dot(s, y);
  st.s_history.push_back(std::move(s));
  st.y_history.push_back(std::move(y));
  st.sts = std::move(sts);
  st.sty = std::move(sty);
}

}  // namespace

double max_feasible_step(const Array& x, const Array& d, const Array& l, const Array& u, double cap) {
  double t = cap;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (d(i) < 0.0 && std::isfinite(l(i))) t = std::min(t, std::max(0.0, (l(i) - x(i)) / d(i)));
    else if (d(i) > 0.0 && std::isfinite(u(i))) t = std::min(t, std::max(0.0, (u(i) - x(i)) / d(i)));
  }
  return t;
}

}  // namespace detail

void LBFGSB::check(const Array& x) const {
  if (history_size < 0 || maxls < 1)
    throw ValueError("xgrad::optim::LBFGSB: needs history_size >= 0 and maxls >= 1");
  auto [l, u] = bounds.expand(x.size(), "xgrad::optim::LBFGSB");
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x(i) < l(i) || x(i) > u(i))
      throw ValueError("xgrad::optim::LBFGSB: the parameters are outside the bounds at coordinate " +
                       std::to_string(i) + " (" + std::to_string(x(i)) + " not in [" + std::to_string(l(i)) + ", " +
                       std::to_string(u(i)) + "]); run() projects them, init_state does not");
}

LineSearchResult LBFGSB::step_flat(LBFGSBState<Array>& s, const Array& x, double f, const Array& g,
                                   FlatObjectiveRef vg) const {
  const std::size_t n = x.size();
  auto [l, u] = bounds.expand(n, "xgrad::optim::LBFGSB");
  bool constrained = false, boxed = true;
  for (std::size_t i = 0; i < n; ++i) {
    constrained = constrained || std::isfinite(l(i)) || std::isfinite(u(i));
    boxed = boxed && std::isfinite(l(i)) && std::isfinite(u(i));
  }
  const std::size_t k = s.s_history.size();
  if (s.y_history.size() != k)
    throw ValueError("xgrad::optim::LBFGSB: the state's memory holds " + std::to_string(k) + " steps and " +
                     std::to_string(s.y_history.size()) + " gradient changes");
  if (s.sts.dimension() != 2 || s.sts.shape(0) != k || s.sts.shape(1) != k || s.sty.dimension() != 2 ||
      s.sty.shape(0) != k || s.sty.shape(1) != k)
    std::tie(s.sts, s.sty) = detail::products(s.s_history, s.y_history);  // a state made or edited by hand
  auto drop_memory = [&] {
    s.s_history.clear();
    s.y_history.clear();
    s.sts = Array::from_shape({0, 0});
    s.sty = Array::from_shape({0, 0});
    s.theta = 1.0;
    ++s.restarts;
  };
  LineSearchResult r;
  while (true) {
    const bool memory = !s.s_history.empty();
    const Array xbar = detail::lbfgsb_subspace_point(x, g, l, u, s.s_history, s.y_history, s.sts, s.sty, s.theta);
    const Array d = flat::sub(xbar, x);
    if (!(flat::dot(g, d) < 0.0)) {  // not a descent direction (rounding in the memory, or a stationary point)
      if (memory) {
        drop_memory();
        continue;
      }
      return r;  // ok = false: the driver reports line_search_failed (its error test ran before)
    }
    // As L-BFGS-B: the first iteration of a constrained problem tries at most the unit step to x_bar, later ones
    // may go to the box's edge; without bounds of every coordinate the first trial is min(1, 1/||d||).
    const double stpmax = !constrained ? 1e10 : s.iter_num <= 1 ? 1.0 : detail::max_feasible_step(x, d, l, u, 1e10);
    const double t0 = s.iter_num <= 1 && !boxed ? std::min(1.0 / flat::norm2(d), stpmax) : std::min(1.0, stpmax);
    const MoreThuenteLineSearch ls{.c1 = 1e-3, .c2 = 0.9, .max_stepsize = stpmax, .max_iterations = maxls};
    r = ls.search(vg, x, f, g, d, t0);
    s.num_fun_eval += r.evaluations;
    s.num_grad_eval += r.evaluations;
    s.num_linesearch_iter += r.evaluations;
    if (r.ok || r.unbounded || !memory) break;
    drop_memory();
  }
  if (!r.ok) return r;
  r.params = project_onto(r.params, l, u);  // the search may overshoot the edge by rounding
  if (history_size > 0) {
    CurvaturePair c = curvature_pair(x, g, r.params, r.grad, curvature_eps);
    if (c.usable) {
      detail::push_pair(s, std::move(c.s), std::move(c.y), static_cast<std::size_t>(history_size));
      s.theta = c.yy / c.sy;
    }
  }
  return r;
}

}  // namespace xgrad::optim
