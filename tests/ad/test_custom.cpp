#include "check.hpp"

using namespace xgrad;
using xgrad::testing::sample;

TEST_CASE("custom_vjp: the user's backward rule is used, and composes to second order") {
  int bwd_calls = 0;
  // f(x, y) = x^2 * y with a hand-written rule.
  auto f = custom_vjp([](const Tensor& x, const Tensor& y) { return std::pair{x * x * y, std::tuple{x, y}}; },
                      [&](const std::tuple<Tensor, Tensor>& r, const Tensor& g) {
                        ++bwd_calls;
                        const auto& [x, y] = r;
                        return std::tuple{2.0 * g * x * y, g * x * x};
                      });
  Tensor x(Array{1.0, -2.0}), y(Array{3.0, 0.5});
  Tensor gx = grad([&](const Tensor& a) { return sum(f(a, y)); })(x);
  CHECK(bwd_calls == 1);
  CHECK(gx.value()(0) == doctest::Approx(6.0));
  CHECK(gx.value()(1) == doctest::Approx(-2.0));
  XGRAD_CHECK_GRADS(f, std::make_tuple(x, y));
}

TEST_CASE("custom_vjp can replace an unstable derivative") {
  // sqrt(x^2 + 0) has a NaN derivative at 0 through the chain rule; a custom rule gives 0 there.
  auto safe_norm = custom_vjp([](const Tensor& x) { return std::pair{sqrt(sum(x * x)), x}; },
                              [](const Tensor& x, const Tensor& g) {
                                const double n = std::sqrt(xt::sum(x.value() * x.value())());
                                return std::tuple{n == 0 ? Tensor(Array(xt::zeros<double>(x.value().shape()))) * g
                                                         : g * x / n};
                              });
  Tensor z(Array{0.0, 0.0});
  Tensor g = grad([&](const Tensor& a) { return safe_norm(a); })(z);
  CHECK(g.value()(0) == 0.0);
  Tensor g2 = grad([&](const Tensor& a) { return sqrt(sum(a * a)); })(z);
  CHECK(std::isnan(g2.value()(0)));
}

TEST_CASE("checkpoint: same derivatives, fewer nodes kept, recomputation in backward") {
  auto block = [](const Tensor& x) {
    Tensor y = x;
    for (int i = 0; i < 20; ++i) y = tanh(y * 1.1 + 0.1);
    return y;
  };
  Tensor x(sample({4}, -1, 1));
  auto plain = [&](const Tensor& a) { return sum(block(a)); };
  auto ckpt = [&](const Tensor& a) { return sum(checkpoint(block)(a)); };
  Tensor g1 = grad(plain)(x), g2 = grad(ckpt)(x);
  for (std::size_t i = 0; i < 4; ++i) CHECK(g2.value()(i) == doctest::Approx(g1.value()(i)).epsilon(1e-12));
  std::size_t n_plain = 0, n_ckpt = 0;
  grad([&](const Tensor& a) {
    Tensor r = plain(a);
    n_plain = ad::tape_size();
    return r;
  })(x);
  grad([&](const Tensor& a) {
    Tensor r = ckpt(a);
    n_ckpt = ad::tape_size();
    return r;
  })(x);
  CHECK(n_ckpt + 50 < n_plain);
  XGRAD_CHECK_GRADS([&](const Tensor& a) { return checkpoint(block)(a); }, x);
}

TEST_CASE("ad::make_closure records one node whose rule is any callable, and composes to second order") {
  int calls = 0;
  // y = x^3 with a capturing rule; the rule uses Tensor ops, so grad of grad goes through it.
  auto cube = [&](const Tensor& x) {
    return ad::make_closure("cube", Tensor(Array(x.value() * x.value() * x.value())), {x},
                            [&calls](const ad::Node& n, const Tensor& g, ad::Grads& d) {
                              ++calls;
                              if (d.needs(0)) d(0, 3.0 * g * n.in(0) * n.in(0));
                            });
  };
  const Tensor x(Array{2.0, -1.0});
  CHECK(cube(x).value()(0) == 8.0);  // no live level: a constant, no node
  const Tensor g = grad([&](const Tensor& a) { return sum(cube(a)); })(x);
  CHECK(calls == 1);
  CHECK(g.value()(0) == 12.0);
  CHECK(g.value()(1) == 3.0);
  auto first = [&](const Tensor& a) { return grad([&](const Tensor& b) { return sum(cube(b)); })(a); };
  const Tensor h = grad([&](const Tensor& a) { return sum(first(a)); })(x);
  CHECK(h.value()(0) == doctest::Approx(12.0));  // d/dx 3x^2 = 6x
  CHECK(h.value()(1) == doctest::Approx(-6.0));
}

TEST_CASE("ad::Pullback: one evaluation, cotangents of the chosen inputs only, recorded for higher order") {
  int evals = 0;
  const Tensor x(Array{1.0, 2.0}), t(Array{3.0, -1.0}), c(Array{0.5, 0.5});
  auto F = [&](const std::vector<Tensor>& in) {
    ++evals;
    return in[0] * in[0] * in[1] + in[2];  // x^2 t + c
  };
  const ad::Pullback pb({x, t, c}, {true, true, false}, F);
  CHECK(evals == 1);
  CHECK(pb.output().value()(1) == 4.0 * -1.0 + 0.5);
  const Tensor u(Array{1.0, 10.0});
  auto gx = pb(u, {0});  // (dF/dx)^T u = 2 x t u
  REQUIRE(gx.size() == 1);
  REQUIRE(gx[0]);
  CHECK(gx[0]->value()(0) == 6.0);
  CHECK(gx[0]->value()(1) == -40.0);
  auto both = pb(u, {1, 0});  // in the order asked: (dF/dt)^T u = x^2 u, then x's again
  REQUIRE(both.size() == 2);
  CHECK(both[0]->value()(1) == 40.0);
  CHECK(both[1]->value()(0) == 6.0);
  CHECK(evals == 1);
  CHECK_THROWS_AS(pb(u, {2}), MisuseError);           // c is not traced by the pullback
  CHECK_THROWS_AS(pb(Tensor(Array{1.0}), {0}), ShapeError);
  // Inside an enclosing transform the pullback is recorded: d/du sum((dF/dx)^T u) = 2 x t.
  const Tensor gu = grad([&](const Tensor& v) { return sum(*pb(v, {0})[0]); })(u);
  CHECK(gu.value()(0) == 6.0);
  CHECK(gu.value()(1) == -4.0);
  // An input the output does not depend on gives std::nullopt.
  const ad::Pullback none({x, t}, {true, true}, [](const std::vector<Tensor>& in) { return 2.0 * in[0]; });
  CHECK_FALSE(none(u, {1})[0].has_value());
}
