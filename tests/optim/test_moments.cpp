#include <doctest/doctest.h>

#include <cmath>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

// Two steps of each rescaling on g1 then g2 (one element), against the formulas written out by hand.
namespace {
const double g1 = 0.5, g2 = -2.0;
template <class T>
std::pair<double, double> two_steps(const T& t) {
  Tensor p(Array{1.0});
  auto r1 = t.update(Tensor(Array{g1}), t.init(p), p);
  auto r2 = t.update(Tensor(Array{g2}), r1.state, p);
  return {r1.updates.item(), r2.updates.item()};
}
}  // namespace

TEST_CASE("scale_by_adam with eps_root, and its state") {
  const double b1 = 0.8, b2 = 0.9, eps = 1e-3, er = 1e-2;
  auto [u1, u2] = two_steps(opt::scale_by_adam({.b1 = b1, .b2 = b2, .eps = eps, .eps_root = er}));
  double m = (1 - b1) * g1, v = (1 - b2) * g1 * g1;
  CHECK(u1 == doctest::Approx(m / (1 - b1) / (std::sqrt(v / (1 - b2) + er) + eps)));
  m = b1 * m + (1 - b1) * g2;
  v = b2 * v + (1 - b2) * g2 * g2;
  CHECK(u2 == doctest::Approx(m / (1 - b1 * b1) / (std::sqrt(v / (1 - b2 * b2) + er) + eps)));
  auto t = opt::scale_by_adam();
  Tensor p(Array{1.0, 2.0});
  auto s = t.update(p, t.init(p), p).state;
  CHECK(s.count.item() == 1.0);
  CHECK(at(s.mu, 1) == doctest::Approx(0.2));
  CHECK(at(s.nu, 1) == doctest::Approx(0.004));
}

namespace {
struct AdamTree {
  Tensor a, b;
};
}  // namespace

TEST_CASE("scale_by_adam: the one-pass update of untraced leaves equals the ops' update bit for bit") {
  // Untraced leaves take one pass per leaf (detail::adam_leaf); under grad the same update runs as ops. Three steps
  // of each, plain and Nesterov, on a pytree with leaves of several shapes and an eps_root: the values must agree
  // exactly, and the traced run must still carry derivatives.
  using P = AdamTree;
  const P g0{Tensor(Array{{0.5, -2.0, 1e-3}, {3.0, -0.25, 7.0}}), Tensor(Array{-1.5, 1e-8})};
  for (const bool nesterov : {false, true}) {
    const auto t = opt::scale_by_adam({.b1 = 0.8, .b2 = 0.95, .eps = 1e-6, .eps_root = 1e-9, .nesterov = nesterov});
    auto s_plain = t.init(g0);
    auto s_traced = s_plain;
    for (int step = 1; step <= 3; ++step) {
      const double scale = 1.0 + 0.5 * step;
      const P g{g0.a * scale, g0.b * (-scale)};
      auto plain = t.update(g, s_plain, g);
      P traced_u;
      opt::ScaleByAdamState<P> traced_s;
      const Tensor dk = grad([&](const Tensor& k) {
        const P gk{g.a * k, g.b * k};  // k = 1: the same gradients, traced
        auto r = t.update(gk, s_traced, gk);
        CHECK(r.updates.a.is_traced());
        traced_u = P{stop_gradient(r.updates.a), stop_gradient(r.updates.b)};
        traced_s = {r.state.count, P{stop_gradient(r.state.mu.a), stop_gradient(r.state.mu.b)},
                    P{stop_gradient(r.state.nu.a), stop_gradient(r.state.nu.b)}};
        return sum(r.updates.a) + sum(r.updates.b);
      })(Tensor(1.0));
      CHECK(std::isfinite(dk.item()));
      CHECK_FALSE(plain.updates.a.is_traced());
      CHECK(tree::ravel(plain.updates).first == tree::ravel(traced_u).first);
      CHECK(tree::ravel(plain.state.mu).first == tree::ravel(traced_s.mu).first);
      CHECK(tree::ravel(plain.state.nu).first == tree::ravel(traced_s.nu).first);
      s_plain = plain.state;
      s_traced = traced_s;
    }
  }
}

TEST_CASE("scale_by_belief uses the new first moment in the prediction error") {
  const double b1 = 0.9, b2 = 0.99, eps = 1e-6, er = 1e-4;
  auto [u1, u2] = two_steps(opt::scale_by_belief({.b1 = b1, .b2 = b2, .eps = eps, .eps_root = er}));
  double m = (1 - b1) * g1, s = (1 - b2) * (g1 - m) * (g1 - m) + er;
  CHECK(u1 == doctest::Approx(m / (1 - b1) / (std::sqrt(s / (1 - b2)) + eps)));
  m = b1 * m + (1 - b1) * g2;
  s = b2 * s + (1 - b2) * (g2 - m) * (g2 - m) + er;
  CHECK(u2 == doctest::Approx(m / (1 - b1 * b1) / (std::sqrt(s / (1 - b2 * b2)) + eps)));
}

TEST_CASE("scale_by_rms and scale_by_stddev") {
  const double d = 0.5, eps = 0.01;
  auto [r1, r2] = two_steps(opt::scale_by_rms({.decay = d, .eps = eps, .initial_scale = 0.2}));
  double v = d * 0.2 + (1 - d) * g1 * g1;
  CHECK(r1 == doctest::Approx(g1 / std::sqrt(v + eps)));
  v = d * v + (1 - d) * g2 * g2;
  CHECK(r2 == doctest::Approx(g2 / std::sqrt(v + eps)));
  auto [c1, c2] = two_steps(opt::scale_by_stddev({.decay = d, .eps = eps, .eps_in_sqrt = false}));
  double m = (1 - d) * g1;
  v = (1 - d) * g1 * g1;
  CHECK(c1 == doctest::Approx(g1 / (std::sqrt(v - m * m) + eps)));
  m = d * m + (1 - d) * g2;
  v = d * v + (1 - d) * g2 * g2;
  CHECK(c2 == doctest::Approx(g2 / (std::sqrt(v - m * m) + eps)));
}

TEST_CASE("scale_by_rss: zero accumulator gives zero updates") {
  auto [a1, a2] = two_steps(opt::scale_by_rss(0.1, 1e-7));
  CHECK(a1 == doctest::Approx(g1 / std::sqrt(0.1 + g1 * g1 + 1e-7)));
  CHECK(a2 == doctest::Approx(g2 / std::sqrt(0.1 + g1 * g1 + g2 * g2 + 1e-7)));
  auto t = opt::scale_by_rss(0.0);
  Tensor p(Array{0.0, 1.0});
  auto u = t.update(p, t.init(p), p).updates;
  CHECK(at(u, 0) == 0.0);
  CHECK(at(u, 1) == doctest::Approx(1.0 / std::sqrt(1.0 + 1e-7)));
}

TEST_CASE("scale_by_lion: sign of the interpolation, then the momentum update") {
  auto [l1, l2] = two_steps(opt::scale_by_lion(0.9, 0.99));
  CHECK(l1 == 1.0);
  // mu = 0.01 * g1 = 0.005; 0.1 * g2 + 0.9 * 0.005 < 0
  CHECK(l2 == -1.0);
  auto [m1, m2] = two_steps(opt::scale_by_lion(0.999, 0.99));
  CHECK(m1 == 1.0);
  CHECK(m2 == 1.0);  // 0.001 * -2 + 0.999 * 0.005 > 0
}
