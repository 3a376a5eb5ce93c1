#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "optim/common.hpp"

using namespace xgrad;
namespace opt = xgrad::optim;

namespace {
double v(const opt::Schedule& s, int step) { return s(step).item(); }
}  // namespace

TEST_CASE("constant and linear (optax.linear_schedule), including the boundaries") {
  CHECK(v(opt::constant(0.3), 0) == 0.3);
  CHECK(v(opt::constant(0.3), 1000) == 0.3);
  auto s = opt::linear(1.0, 0.0, 10, 5);
  CHECK(v(s, 0) == doctest::Approx(1.0));
  CHECK(v(s, 5) == doctest::Approx(1.0));
  CHECK(v(s, 6) == doctest::Approx(0.9));
  CHECK(v(s, 10) == doctest::Approx(0.5));
  CHECK(v(s, 15) == doctest::Approx(0.0));
  CHECK(v(s, 40) == doctest::Approx(0.0));
  CHECK(v(opt::linear(2.0, 1.0, 0), 7) == 2.0);  // no transition: the initial value
  auto p = opt::polynomial(1.0, 0.0, 2.0, 10);
  CHECK(v(p, 5) == doctest::Approx(0.25));
}

TEST_CASE("exponential_decay: smooth, staircase, delayed start, end value") {
  auto s = opt::exponential_decay(1.0, 10, 0.5);
  CHECK(v(s, 0) == doctest::Approx(1.0));
  CHECK(v(s, 10) == doctest::Approx(0.5));
  CHECK(v(s, 15) == doctest::Approx(std::pow(0.5, 1.5)));
  auto st = opt::exponential_decay(1.0, 10, 0.5, 0, true);
  CHECK(v(st, 9) == doctest::Approx(1.0));
  CHECK(v(st, 10) == doctest::Approx(0.5));
  CHECK(v(st, 19) == doctest::Approx(0.5));
  CHECK(v(st, 20) == doctest::Approx(0.25));
  auto d = opt::exponential_decay(1.0, 10, 0.5, 5);
  CHECK(v(d, 3) == doctest::Approx(1.0));
  CHECK(v(d, 5) == doctest::Approx(1.0));
  CHECK(v(d, 15) == doctest::Approx(0.5));
  auto e = opt::exponential_decay(1.0, 10, 0.5, 0, false, 0.3);
  CHECK(v(e, 10) == doctest::Approx(0.5));
  CHECK(v(e, 20) == doctest::Approx(0.3));  // 0.25 is held at the end value
  auto g = opt::exponential_decay(1.0, 10, 2.0, 0, false, 3.0);
  CHECK(v(g, 10) == doctest::Approx(2.0));
  CHECK(v(g, 20) == doctest::Approx(3.0));  // growth is capped
  CHECK(v(opt::exponential_decay(0.7, 0, 0.5), 100) == 0.7);
}

TEST_CASE("cosine_decay and warmup_cosine_decay against the closed form") {
  auto c = opt::cosine_decay(2.0, 10, 0.1);
  CHECK(v(c, 0) == doctest::Approx(2.0));
  CHECK(v(c, 5) == doctest::Approx(2.0 * (0.9 * 0.5 + 0.1)));
  CHECK(v(c, 3) == doctest::Approx(2.0 * (0.9 * 0.5 * (1 + std::cos(std::numbers::pi * 0.3))) + 0.2));
  CHECK(v(c, 10) == doctest::Approx(0.2));
  CHECK(v(c, 25) == doctest::Approx(0.2));
  CHECK(v(opt::cosine_decay(2.0, 10, 0.1, 2.0), 5) == doctest::Approx(2.0 * (0.9 * 0.25 + 0.1)));
  CHECK_THROWS_AS(opt::cosine_decay(1.0, 0), ValueError);

  auto w = opt::warmup_cosine_decay(0.0, 1.0, 10, 110, 0.1);
  CHECK(v(w, 0) == doctest::Approx(0.0));
  CHECK(v(w, 5) == doctest::Approx(0.5));
  CHECK(v(w, 10) == doctest::Approx(1.0));
  CHECK(v(w, 60) == doctest::Approx(0.1 + 0.9 * 0.5));
  CHECK(v(w, 110) == doctest::Approx(0.1));
  CHECK(v(w, 500) == doctest::Approx(0.1));
  CHECK_THROWS_AS(opt::warmup_cosine_decay(0.0, 1.0, 10, 10), ValueError);
}

TEST_CASE("piecewise_constant: scales apply from their boundary on") {
  auto s = opt::piecewise_constant(1.0, {{20, 0.5}, {10, 0.1}});
  CHECK(v(s, 0) == doctest::Approx(1.0));
  CHECK(v(s, 9) == doctest::Approx(1.0));
  CHECK(v(s, 10) == doctest::Approx(0.1));
  CHECK(v(s, 19) == doctest::Approx(0.1));
  CHECK(v(s, 20) == doctest::Approx(0.05));
  CHECK(v(opt::piecewise_constant(0.4), 99) == doctest::Approx(0.4));
}

TEST_CASE("join: each schedule restarts its count at its boundary") {
  auto s = opt::join({opt::constant(3.0), opt::linear(1.0, 0.0, 10), opt::constant(-1.0)}, {5, 15});
  CHECK(v(s, 4) == 3.0);
  CHECK(v(s, 5) == doctest::Approx(1.0));
  CHECK(v(s, 10) == doctest::Approx(0.5));
  CHECK(v(s, 14) == doctest::Approx(0.1));
  CHECK(v(s, 15) == -1.0);
  CHECK_THROWS_AS(opt::join({opt::constant(1.0)}, {3}), ValueError);
}

TEST_CASE("Scalar: a number, a schedule, a lambda or a Tensor") {
  opt::Scalar a = 0.5;
  CHECK(a(7).item() == 0.5);
  CHECK_FALSE(a.is_schedule());
  opt::Scalar b = opt::constant(2.0);
  CHECK(b.is_schedule());
  opt::Scalar c = [](int step) { return 1.0 / (1 + step); };
  CHECK(c(3).item() == doctest::Approx(0.25));
  opt::Scalar d = Tensor(4.0);
  CHECK(d(1).item() == 4.0);
  CHECK_THROWS_AS(opt::Scalar(opt::Schedule()), ValueError);
  // a Scalar holding a traced Tensor carries derivatives
  auto f = [](const Tensor& t) {
    opt::Scalar s = t;
    return s(3) * s(4);
  };
  CHECK(grad(f)(Tensor(3.0)).item() == doctest::Approx(6.0));
}
