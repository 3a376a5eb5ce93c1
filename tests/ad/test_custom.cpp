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
