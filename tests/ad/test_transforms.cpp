#include <doctest/doctest.h>

#include <thread>
#include <xgrad/ad/ad.hpp>
#include <xgrad/core/parallel.hpp>
#include <xgrad/core/random.hpp>

using namespace xgrad;

namespace {
struct Linear {
  Tensor weight;
  Tensor bias;
};
struct Model {
  Linear layer;
  std::vector<Tensor> extra;
  int width = 4;  // static
};
double at(const Tensor& t, std::size_t i) { return t.value().data()[i]; }
}  // namespace

TEST_CASE("grad of simple functions matches hand derivatives") {
  auto f = [](const Tensor& x) { return sum(x * x * x); };  // d/dx = 3x^2
  Tensor x(Array{1.0, -2.0, 3.0});
  Tensor g = grad(f)(x);
  CHECK(at(g, 0) == doctest::Approx(3.0));
  CHECK(at(g, 1) == doctest::Approx(12.0));
  CHECK(at(g, 2) == doctest::Approx(27.0));
  auto [v, g2] = value_and_grad(f)(x);
  CHECK(v.item() == doctest::Approx(1.0 - 8.0 + 27.0));
  CHECK(at(g2, 1) == doctest::Approx(12.0));
  CHECK_FALSE(v.is_traced());
  CHECK(ad::tape_size() == 0);
  CHECK(ad::live_levels() == 0);
}

TEST_CASE("extra arguments pass through and are not differentiated") {
  auto f = [](const Tensor& w, const Tensor& x, double c) { return sum(w * x) * c; };
  Tensor w(Array{1.0, 2.0}), x(Array{3.0, 4.0});
  Tensor g = grad(f)(w, x, 2.0);
  CHECK(at(g, 0) == doctest::Approx(6.0));
  CHECK(at(g, 1) == doctest::Approx(8.0));
}

TEST_CASE("grad of grad, and grad of a function that calls grad") {
  auto f = [](const Tensor& x) { return sum(pow(x, 4.0)); };  // f' = 4x^3, f'' = 12x^2
  auto df = [&](const Tensor& x) { return sum(grad(f)(x)); };
  Tensor x(Array{2.0});
  CHECK(grad(df)(x).item() == doctest::Approx(48.0));
  auto d2 = grad([&](const Tensor& y) { return sum(grad(df)(y)); });  // f''' = 24x
  CHECK(d2(x).item() == doctest::Approx(48.0));
  CHECK(ad::tape_size() == 0);
}

TEST_CASE("no perturbation confusion: d/dx [x * d/dy (x + y)] = 1") {
  auto outer = [](const Tensor& x) {
    auto inner = [&](const Tensor& y) { return sum(x + y); };
    return sum(x * grad(inner)(Tensor(1.0)));
  };
  for (double x0 : {0.0, 1.0, -3.5}) CHECK(grad(outer)(Tensor(x0)).item() == doctest::Approx(1.0));
  // and the classic one: d/dx [x * d/dy (x * y)] at y=any = 2x
  auto outer2 = [](const Tensor& x) {
    auto inner = [&](const Tensor& y) { return sum(x * y); };
    return sum(x * grad(inner)(Tensor(5.0)));
  };
  CHECK(grad(outer2)(Tensor(3.0)).item() == doctest::Approx(6.0));
}

TEST_CASE("pytree arguments: structs and vectors come back as the same type") {
  Model m{{Tensor(Array{{1.0, 2.0}}), Tensor(Array{0.5})}, {Tensor(3.0)}, 7};
  auto loss = [](const Model& p, const Tensor& x) {
    return sum(square(matmul(p.layer.weight, x) + p.layer.bias)) + sum(p.extra[0] * p.extra[0]);
  };
  Tensor x(Array{1.0, 1.0});
  Model g = grad(loss)(m, x);
  // r = w.x + b = 3.5; d/dw = 2 r x = 7, d/db = 2r = 7; d/dextra = 6
  CHECK(g.layer.weight.shape() == Shape{1, 2});
  CHECK(at(g.layer.weight, 0) == doctest::Approx(7.0));
  CHECK(at(g.layer.bias, 0) == doctest::Approx(7.0));
  CHECK(g.extra[0].item() == doctest::Approx(6.0));
  CHECK(g.width == 7);

  std::vector<Tensor> v{Tensor(1.0), Tensor(Array{2.0, 3.0})};
  auto gv = grad([](const std::vector<Tensor>& p) { return sum(p[0] * p[1]); })(v);
  REQUIRE(gv.size() == 2);
  CHECK(gv[0].item() == doctest::Approx(5.0));
  CHECK(at(gv[1], 1) == doctest::Approx(1.0));
}

TEST_CASE("value_and_grad_aux returns the aux untraced") {
  auto f = [](const Tensor& x) { return std::pair<Tensor, Tensor>(sum(x * x), x * 2.0); };
  auto [v, aux, g] = value_and_grad_aux(f)(Tensor(Array{1.0, 2.0}));
  CHECK(v.item() == doctest::Approx(5.0));
  CHECK(at(aux, 1) == doctest::Approx(4.0));
  CHECK_FALSE(aux.is_traced());
  CHECK(at(g, 1) == doctest::Approx(4.0));
}

TEST_CASE("vjp, jvp, hvp, jacobian, hessian") {
  auto f = [](const Tensor& x) { return x * x * sin(x); };
  Tensor x(Array{0.3, -1.2, 2.0});
  auto fp = [](double a) { return 2 * a * std::sin(a) + a * a * std::cos(a); };
  auto [y, pb] = vjp(f, x);
  Tensor ct(Array{1.0, 2.0, 3.0});
  Tensor gx = pb(ct);
  for (std::size_t i = 0; i < 3; ++i) CHECK(at(gx, i) == doctest::Approx(at(ct, i) * fp(at(x, i))));
  Tensor gx2 = pb(ct);  // callable twice
  CHECK(at(gx2, 2) == doctest::Approx(at(gx, 2)));

  Tensor t(Array{1.0, 0.5, -1.0});
  auto [y2, ydot] = jvp(f, x, t);
  for (std::size_t i = 0; i < 3; ++i) CHECK(at(ydot, i) == doctest::Approx(at(t, i) * fp(at(x, i))));
  CHECK(at(y2, 0) == doctest::Approx(at(y, 0)));

  auto s = [](const Tensor& x) { return sum(x * x * x) + sum(x) * sum(x); };  // H = diag(6x) + 2 1 1^T
  Tensor v(Array{1.0, 0.0, 2.0});
  Tensor hv = hvp(s, x, v);
  for (std::size_t i = 0; i < 3; ++i) CHECK(at(hv, i) == doctest::Approx(6 * at(x, i) * at(v, i) + 2.0 * 3.0));
  Array H = hessian(s)(x);
  REQUIRE(H.shape()[0] == 3);
  REQUIRE(H.shape()[1] == 3);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) CHECK(H(i, j) == doctest::Approx((i == j ? 6 * at(x, i) : 0.0) + 2.0));

  Array J = jacobian(f)(x);  // square: reverse
  for (std::size_t i = 0; i < 3; ++i) CHECK(J(i, i) == doctest::Approx(fp(at(x, i))));
  CHECK(J(0, 1) == doctest::Approx(0.0));
  auto wide = [](const Tensor& x) { return concatenate({x, 2.0 * x, x * x}); };  // 9 x 3: forward mode
  Array J2 = jacobian(wide)(x);
  CHECK(J2.shape()[0] == 9);
  CHECK(J2(4, 1) == doctest::Approx(2.0));
  CHECK(J2(8, 2) == doctest::Approx(2 * at(x, 2)));
  CHECK(J2(8, 1) == doctest::Approx(0.0));
  CHECK(ad::live_levels() == 1);  // the pullback `pb` keeps its level alive...
}

TEST_CASE("a pullback's level ends with it") {
  {
    auto [y, pb] = vjp([](const Tensor& x) { return exp(x); }, Tensor(1.0));
    CHECK(ad::live_levels() == 1);
    CHECK(pb(Tensor(1.0)).item() == doctest::Approx(std::exp(1.0)));
  }
  CHECK(ad::live_levels() == 0);  // ... and frees it, with its tape, when destroyed
  CHECK(ad::tape_size() == 0);
}

TEST_CASE("misuse is an exception") {
  CHECK_THROWS_AS(Tensor(Array{1.0, 2.0}).item(), MisuseError);
  CHECK_THROWS_AS(grad([](const Tensor& x) { return x * 2.0; })(Tensor(Array{1.0, 2.0})), MisuseError);
  Tensor leaked;
  auto f = [&](const Tensor& x) {
    leaked = x * 3.0;
    return sum(x);
  };
  grad(f)(Tensor(1.0));
  CHECK(leaked.item() == doctest::Approx(3.0));  // the value stays usable
  // ... but using it inside another transform, as if it were traced, is an error.
  CHECK_THROWS_AS(grad([&](const Tensor& x) { return sum(x * leaked); })(Tensor(2.0)), MisuseError);
  CHECK(ad::tape_size() == 0);
}

TEST_CASE("stop_gradient blocks derivatives") {
  auto f = [](const Tensor& x) { return sum(x * stop_gradient(x)); };
  CHECK(grad(f)(Tensor(3.0)).item() == doctest::Approx(3.0));
}

TEST_CASE("threads: independent gradients at once") {
  std::vector<double> results(4, 0.0);
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k)
    ts.emplace_back([k, &results] {
      double acc = 0;
      for (int it = 0; it < 200; ++it) {
        Tensor x(static_cast<double>(k + 1));
        auto f = [](const Tensor& y) { return sum(exp(y) * y); };
        acc = grad(grad(f))(x).item();  // (y + 2) e^y
      }
      results[static_cast<std::size_t>(k)] = acc;
    });
  for (auto& t : ts) t.join();
  for (int k = 0; k < 4; ++k) CHECK(results[static_cast<std::size_t>(k)] == doctest::Approx((k + 3) * std::exp(k + 1)));
}

TEST_CASE("threads: a data-parallel gradient through parallel::map_reduce is the same bit for bit on 1, 2, 4 threads") {
  struct Model {
    Tensor w, b;
  };
  const Tensor X(random::normal(random::key(3), {64, 5})), y(random::normal(random::key(4), {64}));
  const Model m{Tensor(random::normal(random::key(5), {5})), Tensor(0.3)};
  auto loss = [](const Model& p, const Tensor& x, const Tensor& t) {
    return sum(square(tanh(matmul(x, p.w) + p.b) - t));
  };
  auto shard_grad = [&](std::size_t s) {
    return grad(loss)(m, slice(X, 0, 8 * s, 8 * s + 8), slice(y, 0, 8 * s, 8 * s + 8));
  };
  const Model g1 = parallel::map_reduce(8, shard_grad, 1);
  for (std::size_t threads : {2, 4}) {
    const Model g = parallel::map_reduce(8, shard_grad, threads);
    CHECK(xt::all(xt::equal(g.w.value(), g1.w.value())));
    CHECK(g.b.item() == g1.b.item());
  }
  // The sum of the shards' gradients is the full batch's gradient (up to rounding).
  const Model full = grad(loss)(m, X, y);
  CHECK(xt::allclose(g1.w.value(), full.w.value(), 1e-12, 1e-12));
  CHECK(ad::tape_size() == 0);
}

