#include <cmath>

#include "check.hpp"

using namespace xgrad;
using xgrad::testing::sample;

namespace {
double sig(double a) { return 1.0 / (1.0 + std::exp(-a)); }

// The LSTM step written with concatenate, matmul, slices and elementwise ops (what lstm_cell fuses), for an x whose
// first I columns are read.
Tensor unfused(const Tensor& x, const Tensor& hc, const Tensor& w, const Tensor& b) {
  const auto H = static_cast<std::ptrdiff_t>(hc.shape()[1] / 2), I = static_cast<std::ptrdiff_t>(w.shape()[0]) - H;
  const Tensor z = matmul(concatenate({slice(x, 1, 0, I), slice(hc, 1, 0, H)}, 1), w) + b;
  const Tensor i = sigmoid(slice(z, 1, 0, H)), f = sigmoid(slice(z, 1, H, 2 * H)),
               g = tanh(slice(z, 1, 2 * H, 3 * H)), o = sigmoid(slice(z, 1, 3 * H, 4 * H));
  const Tensor c2 = f * slice(hc, 1, H, 2 * H) + i * g;
  return concatenate({o * tanh(c2), c2}, 1);
}

struct Case {
  std::size_t N, H, I, X;  // rows, hidden units, inputs read, columns of x
};
using Args = std::tuple<Tensor, Tensor, Tensor, Tensor>;
Args args_for(const Case& k, std::uint64_t seed) {
  return {Tensor(sample({k.N, k.X}, -1.5, 1.5, seed)), Tensor(sample({k.N, 2 * k.H}, -1, 1, seed + 1)),
          Tensor(sample({k.I + k.H, 4 * k.H}, -0.8, 0.8, seed + 2)), Tensor(sample({4 * k.H}, -0.5, 0.5, seed + 3))};
}
const std::vector<Case> cases{{1, 1, 1, 1}, {3, 2, 2, 2}, {2, 3, 3, 6}, {4, 2, 0, 1}, {5, 3, 2, 2}};
}  // namespace

TEST_CASE("lstm_cell: values against the cell's formulas, element by element") {
  const std::size_t N = 3, H = 4, I = 2, X = 5;
  const auto [xt_, hct, wt, bt] = args_for({N, H, I, X}, 7);
  const Array &x = xt_.value(), &hc = hct.value(), &w = wt.value(), &b = bt.value();
  const Tensor out = lstm_cell(xt_, hct, wt, bt);
  REQUIRE(out.shape() == Shape{N, 2 * H});
  for (std::size_t r = 0; r < N; ++r)
    for (std::size_t j = 0; j < H; ++j) {
      double z[4];
      for (std::size_t gate = 0; gate < 4; ++gate) {
        const std::size_t col = gate * H + j;
        z[gate] = b(col);
        for (std::size_t k = 0; k < I; ++k) z[gate] += x(r, k) * w(k, col);
        for (std::size_t k = 0; k < H; ++k) z[gate] += hc(r, k) * w(I + k, col);
      }
      const double c2 = sig(z[1]) * hc(r, H + j) + sig(z[0]) * std::tanh(z[2]);
      CHECK(out.value()(r, H + j) == doctest::Approx(c2).epsilon(1e-13));
      CHECK(out.value()(r, j) == doctest::Approx(sig(z[3]) * std::tanh(c2)).epsilon(1e-13));
    }
}

TEST_CASE("lstm_cell: first and second derivatives against finite differences") {
  for (const Case& k : cases) {
    CAPTURE(k.N);
    CAPTURE(k.H);
    CAPTURE(k.I);
    CAPTURE(k.X);
    XGRAD_CHECK_GRADS(lstm_cell, args_for(k, 3));
    // Two steps stacked as the LSTM optimizer stacks them (the second cell reads the first one's h from its [h | c]),
    // then the next time step: cotangents reach x, hc, w and b along several paths.
    const auto two_layers = [](const Tensor& x, const Tensor& hc, const Tensor& w, const Tensor& b) {
      const Tensor h1 = lstm_cell(x, hc, w, b);
      const Tensor h2 = lstm_cell(x, h1, w, b);
      return h2 * h1;
    };
    XGRAD_CHECK_GRADS(two_layers, args_for(k, 11));
  }
}

TEST_CASE("lstm_cell: the same gradients and hessian-vector products as the unfused cell") {
  const Case k{5, 3, 2, 4};
  const Args x = args_for(k, 21);
  const Tensor w(sample({k.N, 2 * k.H}, -1, 1, 5));
  const auto loss = [w](auto cell) {
    return [w, cell](const Args& a) { return sum(w * square(cell(std::get<0>(a), std::get<1>(a), std::get<2>(a), std::get<3>(a)))); };
  };
  const auto fused_loss = loss([](const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& d) {
    return lstm_cell(a, b, c, d);
  });
  const auto plain_loss = loss(unfused);
  const auto [vf, gf] = value_and_grad(fused_loss)(x);
  const auto [vp, gp] = value_and_grad(plain_loss)(x);
  CHECK(vf.item() == doctest::Approx(vp.item()).epsilon(1e-13));
  tree::for_each([](const auto& a, const auto& b) { xgrad::testing::check_close(a.value(), b.value(), 1e-12); }, gf, gp);
  // Second order: the gradient of <grad, v> (the traced rule) agrees too.
  const Args v = args_for(k, 31);
  const auto directional = [v](auto f) {
    return [f, v](const Args& a) {
      Tensor s(0.0);
      tree::for_each([&](const Tensor& g, const Tensor& u) { s = s + sum(g * u); }, grad(f)(a), v);
      return s;
    };
  };
  const Args hf = grad(directional(fused_loss))(x);
  const Args hp = grad(directional(plain_loss))(x);
  tree::for_each([](const auto& a, const auto& b) { xgrad::testing::check_close(a.value(), b.value(), 1e-11); }, hf, hp);
}

TEST_CASE("lstm_cell: one tape node per step") {
  const Case k{4, 3, 2, 2};
  const auto [x, hc, w, b] = args_for(k, 1);
  std::size_t fused_nodes = 0, plain_nodes = 0;
  (void)grad([&](const Tensor& ww) {
    const std::size_t before = ad::tape_size();
    const Tensor y = lstm_cell(x, hc, ww, b);
    fused_nodes = ad::tape_size() - before;
    return sum(y);
  })(w);
  (void)grad([&](const Tensor& ww) {
    const std::size_t before = ad::tape_size();
    const Tensor y = unfused(x, hc, ww, b);
    plain_nodes = ad::tape_size() - before;
    return sum(y);
  })(w);
  CHECK(fused_nodes == 1);
  CHECK(plain_nodes == 16);  // x and hc are constants here: their slices are not recorded
}

TEST_CASE("lstm_cell: bad shapes name the op and every shape") {
  const Tensor hc(sample({2, 6})), w(sample({5, 12})), b(sample({12})), x(sample({2, 2}));
  CHECK_NOTHROW((void)lstm_cell(x, hc, w, b));
  const std::vector<Args> bad{
      {Tensor(sample({2, 1})), hc, w, b},          // x narrower than I = 2
      {Tensor(sample({3, 2})), hc, w, b},          // rows differ
      {x, Tensor(sample({2, 5})), w, b},           // odd carry
      {x, hc, Tensor(sample({5, 10})), b},         // w not 4H wide
      {x, hc, Tensor(sample({2, 12})), b},         // fewer rows than H
      {x, hc, w, Tensor(sample({11}))},            // bias
      {Tensor(sample({2})), hc, w, b},             // x 1-D
  };
  for (const auto& [bx, bhc, bw, bb] : bad) {
    CAPTURE(shape_str(bx.shape()));
    CAPTURE(shape_str(bhc.shape()));
    try {
      (void)lstm_cell(bx, bhc, bw, bb);
      FAIL("no exception");
    } catch (const ShapeError& e) {
      const std::string m = e.what();
      CHECK(m.find("lstm_cell") != std::string::npos);
      for (const Tensor* t : {&bx, &bhc, &bw, &bb}) CHECK(m.find(shape_str(t->shape())) != std::string::npos);
    }
  }
}
