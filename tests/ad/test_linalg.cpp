#include "check.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::sample;

namespace {
// A (1, 1) array (Array{{v}} is ambiguous in xtensor).
Array one_by_one(double v) { return Array(xt::ones<double>({1, 1}) * v); }
// C = A B by loops; 1-D operands as numpy.matmul treats them (row on the left, column on the right, dropped after).
Array ref_matmul(const Array& a, const Array& b) {
  const bool av = a.dimension() == 1, bv = b.dimension() == 1;
  const std::size_t m = av ? 1 : a.shape()[0], k = av ? a.shape()[0] : a.shape()[1];
  const std::size_t n = bv ? 1 : b.shape()[1];
  Shape out;
  if (!av) out.push_back(m);
  if (!bv) out.push_back(n);
  Array c = xt::zeros<double>(out);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (std::size_t q = 0; q < k; ++q) s += a.data()[i * k + q] * b.data()[q * n + j];
      c.data()[i * n + j] = s;
    }
  return c;
}
// numpy.matmul by loops for any ndim >= 1: 1-D operands promoted, both broadcast to the full batch, then one
// product per batch element, and the promoted axes dropped.
Array ref_batched_matmul(const Array& a, const Array& b) {
  Shape as = shape_of(a), bs = shape_of(b);
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const std::size_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const Shape full = broadcast_shapes(Shape(as.begin(), as.end() - 2), Shape(bs.begin(), bs.end() - 2));
  Shape fa = full, fb = full, fc = full;
  fa.insert(fa.end(), {m, k});
  fb.insert(fb.end(), {k, n});
  fc.insert(fc.end(), {m, n});
  Array a2 = a, b2 = b;
  a2.reshape(as);
  b2.reshape(bs);
  const Array A = broadcast_array(a2, fa), B = broadcast_array(b2, fb);
  Array c = xt::zeros<double>(fc);
  for (std::size_t t = 0; t < shape_size(full); ++t)
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0.0;
        for (std::size_t q = 0; q < k; ++q) s += A.data()[(t * m + i) * k + q] * B.data()[(t * k + q) * n + j];
        c.data()[(t * m + i) * n + j] = s;
      }
  Shape out = full;
  if (a.dimension() > 1) out.push_back(m);
  if (b.dimension() > 1) out.push_back(n);
  c.reshape(out);
  return c;
}
Array eye(std::size_t n) {
  Array e = xt::zeros<double>({n, n});
  for (std::size_t i = 0; i < n; ++i) e(i, i) = 1.0;
  return e;
}
// A well-conditioned (n, n) matrix: a sample plus n on the diagonal.
Array well_conditioned(std::size_t n, std::uint64_t seed) {
  return Array(sample({n, n}, -1.0, 1.0, seed) + static_cast<double>(n) * eye(n));
}
// A symmetric positive definite matrix M M^T + n I.
Array spd(std::size_t n, std::uint64_t seed) {
  const Array m = sample({n, n}, -1.0, 1.0, seed);
  return Array(ref_matmul(m, Array(xt::transpose(m))) + static_cast<double>(n) * eye(n));
}
}  // namespace

TEST_CASE("matmul: 2-D x 2-D, 1-D x 2-D, 2-D x 1-D, 1-D x 1-D; values and derivatives") {
  const std::vector<std::pair<Shape, Shape>> shapes{{{2, 3}, {3, 4}}, {{3}, {3, 2}},    {{2, 3}, {3}},
                                                    {{3}, {3}},       {{1, 1}, {1, 1}}, {{4, 1}, {1, 3}}};
  for (const auto& [sa, sb] : shapes) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    const Array a = sample(sa, -1.0, 1.0, 3), b = sample(sb, -1.0, 1.0, 5);
    check_close(matmul(Tensor(a), Tensor(b)).value(), ref_matmul(a, b));
    XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& y) { return matmul(x, y); },
                      std::make_tuple(Tensor(a), Tensor(b)));
  }
  const Tensor a(Array{{1.0, 2.0}, {3.0, 4.0}});
  check_close(matmul(a, a).value(), Array{{7.0, 10.0}, {15.0, 22.0}});
  check_close(matmul(Tensor(Array{1.0, 2.0}), a).value(), Array{7.0, 10.0});
  check_close(matmul(a, Tensor(Array{1.0, 2.0})).value(), Array{5.0, 11.0});
  CHECK(matmul(Tensor(Array{1.0, 2.0}), Tensor(Array{3.0, 4.0})).shape() == Shape{});
  CHECK(matmul(Tensor(Array{1.0, 2.0}), Tensor(Array{3.0, 4.0})).item() == 11.0);
  // The same tensor on both sides, and products inside nonlinearities (second derivatives that are not zero).
  XGRAD_CHECK_GRADS([](const Tensor& x) { return tanh(matmul(x, transpose(x))); }, Tensor(sample({2, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return matmul(matmul(x, x), x); }, Tensor(sample({2, 2})));
  // Empty inner dimension: zeros.
  check_close(matmul(Tensor(Array::from_shape({2, 0})), Tensor(Array::from_shape({0, 3}))).value(),
              xt::zeros<double>({2, 3}));
  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({2, 3})), Tensor(sample({4, 2}))),
                       doctest::Contains("shapes (2,3) and (4,2)"), ShapeError);
  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({3})), Tensor(sample({2}))), doctest::Contains("(3) and (2)"), ShapeError);
  CHECK_THROWS_AS(matmul(Tensor(sample({2, 3})), Tensor(sample({2}))), ShapeError);
  CHECK_THROWS_AS(matmul(Tensor(2.0), Tensor(sample({2}))), ShapeError);
  // (2,2,2) @ (2,2) is a batched product (numpy.matmul), no longer an error: each slice times the matrix.
  const Array a3{{{1.0, 2.0}, {3.0, 4.0}}, {{0.0, 1.0}, {1.0, 0.0}}};
  check_close(matmul(Tensor(a3), a).value(), Array{{{7.0, 10.0}, {15.0, 22.0}}, {{3.0, 4.0}, {1.0, 2.0}}});
}

TEST_CASE("matmul: n-d operands (batched, broadcast batch axes, 1-D promotion); values, derivatives, errors") {
  // Values against the loop reference: plain batches, broadcast batches (size-1 and missing axes, on either side),
  // 1-D operands, 2-D against batched (the folded single-gemm paths), and zero extents in batch, m, n and k.
  const std::vector<std::pair<Shape, Shape>> shapes{
      {{3, 2, 4}, {3, 4, 5}}, {{2, 1, 3, 4}, {5, 4, 6}}, {{4}, {2, 4, 3}},    {{2, 3, 4}, {4}},
      {{1, 3, 4}, {2, 4, 2}}, {{5, 3, 4}, {4, 2}},       {{3, 4}, {2, 4, 5}}, {{2, 2, 2}, {2, 2}},
      {{2, 1, 1, 3}, {3, 3, 1}}, {{3}, {2, 1, 3, 2}},    {{2, 3, 1}, {2, 1, 4}},
      {{0, 3, 4}, {4, 2}},    {{2, 1, 3, 4}, {0, 4, 2}}, {{2, 3, 0}, {2, 0, 4}}, {{2, 0, 3}, {3, 4}},
      {{2, 3, 4}, {1, 4, 0}}, {{0}, {2, 0, 3}},          {{1, 3, 0}, {0, 2}}};
  for (const auto& [sa, sb] : shapes) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    const Array a = sample(sa, -1.0, 1.0, 3), b = sample(sb, -1.0, 1.0, 5);
    check_close(matmul(Tensor(a), Tensor(b)).value(), ref_batched_matmul(a, b));
  }
  CHECK(matmul(Tensor(sample({2, 1, 3, 4})), Tensor(sample({5, 4, 6}))).shape() == Shape{2, 5, 3, 6});
  CHECK(matmul(Tensor(sample({4})), Tensor(sample({2, 4, 3}))).shape() == Shape{2, 3});
  CHECK(matmul(Tensor(sample({2, 3, 4})), Tensor(sample({4}))).shape() == Shape{2, 3});
  CHECK(matmul(Tensor(sample({2, 3, 0})), Tensor(sample({2, 0, 4}))).shape() == Shape{2, 3, 4});

  // First and second derivatives: plain and broadcast batches, 1-D operands on either side, 2-D against batched
  // (whose cotangents are summed over the batch), and batched results inside nonlinearities.
  const std::vector<std::pair<Shape, Shape>> grad_shapes{
      {{2, 2, 3}, {2, 3, 2}}, {{2, 1, 2, 3}, {3, 3, 2}}, {{1, 2, 3}, {2, 3, 2}}, {{3}, {2, 3, 2}},
      {{2, 2, 3}, {3}},       {{3, 2, 3}, {3, 2}},       {{2, 3}, {2, 3, 2}}};
  for (const auto& [sa, sb] : grad_shapes) {
    CAPTURE(shape_str(sa));
    CAPTURE(shape_str(sb));
    XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& y) { return matmul(x, y); },
                      std::make_tuple(Tensor(sample(sa, -1.0, 1.0, 3)), Tensor(sample(sb, -1.0, 1.0, 5))));
    XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& y) { return tanh(matmul(x, y)); },
                      std::make_tuple(Tensor(sample(sa, -1.0, 1.0, 7)), Tensor(sample(sb, -1.0, 1.0, 8))));
  }
  XGRAD_CHECK_GRADS([](const Tensor& x) { return tanh(matmul(x, transpose(x, {0, 2, 1}))); },
                    Tensor(sample({2, 2, 3})));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return matmul(matmul(x, x), x); }, Tensor(sample({2, 2, 2})));
  XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& w) { return sin(matmul(tanh(matmul(x, w)), w)); },
                    std::make_tuple(Tensor(sample({2, 1, 2, 2})), Tensor(sample({3, 2, 2}, -1.0, 1.0, 9))));
  // The gradient of sum(x @ W) over a batch sums the batch: d/dW = sum_i x_i^T 1.
  const Array x = sample({4, 3, 2}), w = sample({2, 5}, -1.0, 1.0, 6);
  const Tensor gw = grad([&](const Tensor& v) { return sum(matmul(Tensor(x), v)); })(Tensor(w));
  Array want = xt::zeros<double>({2, 5});
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t q = 0; q < 2; ++q)
        for (std::size_t j = 0; j < 5; ++j) want(q, j) += x(i, r, q);
  check_close(gw.value(), want);

  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({2, 3, 4})), Tensor(sample({2, 5, 2}))),
                       doctest::Contains("xgrad::matmul: shapes (2,3,4) and (2,5,2) are not aligned"), ShapeError);
  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({4})), Tensor(sample({2, 3, 2}))),
                       doctest::Contains("xgrad::matmul: shapes (4) and (2,3,2)"), ShapeError);
  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({2, 3, 4})), Tensor(sample({3}))),
                       doctest::Contains("xgrad::matmul: shapes (2,3,4) and (3)"), ShapeError);
  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({2, 3, 4})), Tensor(sample({3, 4, 5}))),
                       doctest::Contains("xgrad::matmul: shapes (2,3,4) and (3,4,5)"), ShapeError);
  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({2, 1, 3, 4})), Tensor(sample({3, 3, 4, 5}))),
                       doctest::Contains("shapes (2,1,3,4) and (3,3,4,5): batch dimensions (2,1) and (3,3)"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(matmul(Tensor(2.0), Tensor(sample({2, 2, 2}))),
                       doctest::Contains("xgrad::matmul: operands must be at least 1-D, got shapes () and (2,2,2)"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(matmul(Tensor(sample({2, 2, 2})), Tensor(3.0)), doctest::Contains("(2,2,2) and ()"),
                       ShapeError);
  // dot stays at most 2-D, as documented.
  CHECK_THROWS_WITH_AS(dot(Tensor(sample({2, 2, 2})), Tensor(sample({2, 2}))), doctest::Contains("xgrad::dot"),
                       ShapeError);
}

TEST_CASE("linear: x W + b by loops, 2-D and 1-D x; derivatives of all three operands; errors") {
  struct Case {
    Shape x, W;
  };
  for (const Case& c : {Case{{5, 3}, {3, 4}}, Case{{3}, {3, 4}}, Case{{6, 4}, {4, 1}}, Case{{1, 4}, {4, 3}},
                        Case{{0, 3}, {3, 2}}, Case{{2, 0}, {0, 3}}}) {
    CAPTURE(shape_str(c.x));
    CAPTURE(shape_str(c.W));
    const Array x = sample(c.x, -1, 1, 5), W = sample(c.W, -1, 1, 6), b = sample({c.W[1]}, -1, 1, 7);
    Array want = ref_matmul(x, W);
    for (std::size_t i = 0; i < want.size(); ++i) want.data()[i] += b.data()[i % c.W[1]];
    check_close(linear(Tensor(x), Tensor(W), Tensor(b)).value(), want, 1e-12);
    if (x.size() == 0 || W.size() == 0) continue;
    XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& W, const Tensor& b) { return tanh(linear(x, W, b)); },
                      std::make_tuple(Tensor(x), Tensor(W), Tensor(b)));
  }
  // Its gradient is the one of the unfused spelling, also inside a composition.
  const Tensor x(sample({4, 3}, -1, 1, 8)), W(sample({3, 5}, -1, 1, 9)), b(sample({5}, -1, 1, 10));
  auto fused = [](const Tensor& x, const Tensor& W, const Tensor& b) { return sum(square(tanh(linear(x, W, b)))); };
  auto plain = [](const Tensor& x, const Tensor& W, const Tensor& b) {
    return sum(square(tanh(matmul(x, W) + b)));
  };
  check_close(grad(fused)(x, W, b).value(), grad(plain)(x, W, b).value(), 1e-12);
  check_close(hvp([&](const Tensor& w) { return fused(x, w, b); }, W, Tensor(sample({3, 5}, -1, 1, 11))).value(),
              hvp([&](const Tensor& w) { return plain(x, w, b); }, W, Tensor(sample({3, 5}, -1, 1, 11))).value(),
              1e-10);
  CHECK_THROWS_WITH_AS(linear(x, Tensor(sample({4, 5})), b), doctest::Contains("(4,3), (4,5) and (5)"), ShapeError);
  CHECK_THROWS_WITH_AS(linear(x, W, Tensor(sample({4}))), doctest::Contains("xgrad::linear"), ShapeError);
  CHECK_THROWS_AS(linear(x, W, Tensor(sample({1, 5}))), ShapeError);
  CHECK_THROWS_AS(linear(Tensor(sample({2, 4, 3})), W, b), ShapeError);
}

TEST_CASE("dot and outer") {
  const Tensor u(Array{1.0, 2.0, 3.0}), v(Array{4.0, -5.0, 6.0});
  const Tensor d = dot(u, v);
  CHECK(d.shape() == Shape{});
  CHECK(d.item() == 12.0);
  check_close(dot(Tensor(2.0), u).value(), Array{2.0, 4.0, 6.0});
  const Array m = sample({2, 3});
  check_close(dot(Tensor(m), v).value(), ref_matmul(m, v.value()));
  check_close(dot(Tensor(m), Tensor(Array(xt::transpose(m)))).value(), ref_matmul(m, Array(xt::transpose(m))));
  CHECK_THROWS_WITH_AS(dot(u, Tensor(Array{1.0, 2.0})), doctest::Contains("xgrad::dot: shapes (3) and (2)"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(dot(Tensor(m), Tensor(Array{1.0, 2.0})), doctest::Contains("xgrad::dot: shapes (2,3) and (2)"),
                       ShapeError);
  CHECK_THROWS_WITH_AS(dot(Tensor(sample({2, 2, 2})), u), doctest::Contains("xgrad::dot"), ShapeError);
  XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& y) { return dot(x, y); },
                    std::make_tuple(Tensor(sample({3})), Tensor(sample({3}, -1, 1, 4))));
  XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& y) { return dot(x, y); },
                    std::make_tuple(Tensor(sample({2, 3})), Tensor(sample({3}, -1, 1, 4))));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return square(dot(x, x)); }, Tensor(sample({3})));

  const Tensor o = outer(u, Tensor(Array{1.0, -1.0}));
  check_close(o.value(), Array{{1.0, -1.0}, {2.0, -2.0}, {3.0, -3.0}});
  CHECK(outer(Tensor(sample({2, 2})), u).shape() == Shape{4, 3});  // operands are flattened
  CHECK(outer(Tensor(2.0), u).shape() == Shape{1, 3});
  XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& y) { return outer(x, y); },
                    std::make_tuple(Tensor(sample({3})), Tensor(sample({2}, -1, 1, 4))));
  XGRAD_CHECK_GRADS([](const Tensor& x) { return outer(x, x) * outer(x, x); }, Tensor(sample({2})));
}

TEST_CASE("solve: A x == b for b 1-D and 2-D, derivatives, singular and misshapen inputs") {
  for (const auto& sb : std::vector<Shape>{{3}, {3, 2}, {1}}) {
    CAPTURE(shape_str(sb));
    const std::size_t n = sb[0];
    const Array A = well_conditioned(n, 11), b = sample(sb, -1.0, 1.0, 12);
    const Tensor x = solve(Tensor(A), Tensor(b));
    REQUIRE(x.shape() == sb);
    check_close(ref_matmul(A, x.value()), b, 1e-12);
    XGRAD_CHECK_GRADS([](const Tensor& a, const Tensor& y) { return solve(a, y); },
                      std::make_tuple(Tensor(A), Tensor(b)));
  }
  // A hand-solved system, which needs a row exchange (A(0,0) = 0).
  check_close(solve(Tensor(Array{{0.0, 2.0}, {1.0, 1.0}}), Tensor(Array{4.0, 3.0})).value(), Array{1.0, 2.0});
  // d/db of sum(solve(A, b)) = A^{-T} 1: for A = [[2, 0], [1, 4]], A^{-T} 1 = (3/8, 1/4).
  const Tensor A(Array{{2.0, 0.0}, {1.0, 4.0}});
  const Tensor gb = grad([&](const Tensor& y) { return sum(solve(A, y)); })(Tensor(Array{1.0, 1.0}));
  check_close(gb.value(), Array{0.375, 0.25});
  // Solving with the same matrix twice and through a nonlinearity.
  XGRAD_CHECK_GRADS([](const Tensor& a) { return solve(a, solve(a, sum(a, {1}))); }, Tensor(well_conditioned(2, 13)));
  CHECK_THROWS_AS(solve(Tensor(Array{{1.0, 2.0}, {2.0, 4.0}}), Tensor(Array{1.0, 1.0})), ValueError);
  CHECK_THROWS_AS(solve(Tensor(xt::zeros<double>({3, 3})), Tensor(Array{1.0, 1.0, 1.0})), ValueError);
  CHECK_THROWS_AS(solve(Tensor(sample({2, 3})), Tensor(Array{1.0, 1.0})), ShapeError);
  CHECK_THROWS_WITH_AS(solve(Tensor(eye(2)), Tensor(Array{1.0, 1.0, 1.0})), doctest::Contains("(2,2) and (3)"),
                       ShapeError);
}

TEST_CASE("cholesky: L L^T == A, lower triangular; not SPD throws; derivatives through symmetric inputs") {
  // A hand factorisation: [[4, 2], [2, 5]] = [[2, 0], [1, 2]] [[2, 1], [0, 2]].
  check_close(cholesky(Tensor(Array{{4.0, 2.0}, {2.0, 5.0}})).value(), Array{{2.0, 0.0}, {1.0, 2.0}});
  for (std::size_t n : {1, 3, 4}) {
    CAPTURE(n);
    const Array A = spd(n, 21);
    const Array L = cholesky(Tensor(A)).value();
    REQUIRE(L.shape() == A.shape());
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(L(i, i) > 0.0);
      for (std::size_t j = i + 1; j < n; ++j) CHECK(L(i, j) == 0.0);
    }
    check_close(ref_matmul(L, Array(xt::transpose(L))), A, 1e-12);
  }
  // Only the lower triangle is read.
  check_close(cholesky(Tensor(Array{{4.0, 99.0}, {2.0, 5.0}})).value(), Array{{2.0, 0.0}, {1.0, 2.0}});
  CHECK_THROWS_AS(cholesky(Tensor(Array{{1.0, 2.0}, {2.0, 1.0}})), ValueError);  // eigenvalues 3 and -1
  CHECK_THROWS_AS(cholesky(Tensor(one_by_one(-1.0))), ValueError);
  CHECK_THROWS_AS(cholesky(Tensor(sample({2, 3}))), ShapeError);
  // d L / d a for a 1x1 matrix: L = sqrt(a), so d/da = 1 / (2 sqrt(a)) = 0.25 at a = 4.
  CHECK(grad([](const Tensor& a) { return sum(cholesky(a)); })(Tensor(one_by_one(4.0))).item() ==
        doctest::Approx(0.25));
  // The gradient returned is symmetric, as documented.
  const Tensor gs = grad([](const Tensor& a) {
    return sum(cholesky(a) * Tensor(Array{{1.0, 0.0}, {2.0, 3.0}}));
  })(Tensor(Array{{4.0, 2.0}, {2.0, 5.0}}));
  CHECK(gs.value()(0, 1) == doctest::Approx(gs.value()(1, 0)));
  // cholesky reads only the lower triangle, so perturbations are kept symmetric by the wrappers.
  auto f = [](const Tensor& m) {
    const double n = static_cast<double>(m.shape()[0]);
    return cholesky(matmul(m, transpose(m)) + n * Tensor(eye(m.shape()[0])));
  };
  auto g = [](const Tensor& a) { return cholesky(0.5 * (a + transpose(a))); };
  for (std::size_t n : {1, 2, 3}) {
    CAPTURE(n);
    XGRAD_CHECK_GRADS(f, Tensor(sample({n, n}, -1.0, 1.0, 31)));
    XGRAD_CHECK_GRADS(g, Tensor(Array(spd(n, 32) + sample({n, n}, -0.3, 0.3, 33))));
  }
  // A log-determinant through cholesky: log det A = 2 sum(log(diag L)); its gradient is A^{-1}.
  const Array A = Array{{4.0, 2.0}, {2.0, 5.0}};
  const Tensor gl = grad([](const Tensor& a) {
    const Tensor L = cholesky(a);
    return 2.0 * (log(take(L, {0})) + log(take(L, {3})));
  })(Tensor(A));
  check_close(gl.value(), Array{{5.0 / 16, -2.0 / 16}, {-2.0 / 16, 4.0 / 16}}, 1e-12);
}

TEST_CASE("solve_triangular and cho_solve: A x == b reading one triangle, derivatives, errors") {
  const Array full = well_conditioned(3, 41);
  for (bool lower : {true, false}) {
    CAPTURE(lower);
    const Array T = lower ? Array(xt::tril(full)) : Array(xt::triu(full));
    for (const auto& sb : std::vector<Shape>{{3}, {3, 2}}) {
      const Array b = sample(sb, -1.0, 1.0, 42);
      // The other triangle is not read: filling it with 99 changes nothing.
      const Array junk = lower ? Array(T + xt::triu(xt::ones<double>({3, 3}) * 99.0, 1))
                               : Array(T + xt::tril(xt::ones<double>({3, 3}) * 99.0, -1));
      const Tensor x = solve_triangular(Tensor(junk), Tensor(b), lower);
      check_close(ref_matmul(T, x.value()), b, 1e-12);
      XGRAD_CHECK_GRADS([lower](const Tensor& a, const Tensor& y) { return solve_triangular(a, y, lower); },
                        std::make_tuple(Tensor(junk), Tensor(b)));
    }
  }
  // The other triangle gets an exact zero derivative.
  const Tensor g = grad([](const Tensor& a) { return sum(solve_triangular(a, Tensor(Array{1.0, 2.0}), true)); })(
      Tensor(Array{{2.0, 5.0}, {1.0, 4.0}}));
  CHECK(g.value()(0, 1) == 0.0);
  // cho_solve with cholesky's factor solves A x = b.
  const Array A = spd(4, 43), b = sample({4}, -1.0, 1.0, 44);
  check_close(ref_matmul(A, cho_solve(cholesky(Tensor(A)), Tensor(b)).value()), b, 1e-12);
  XGRAD_CHECK_GRADS([](const Tensor& L, const Tensor& y) { return cho_solve(L, y); },
                    std::make_tuple(Tensor(Array(xt::tril(well_conditioned(3, 45)))), Tensor(sample({3, 2}))));
  CHECK_THROWS_WITH_AS(solve_triangular(Tensor(Array{{1.0, 0.0}, {2.0, 0.0}}), Tensor(Array{1.0, 1.0}), true),
                       doctest::Contains("diagonal position 1"), ValueError);
  CHECK_THROWS_AS(solve_triangular(Tensor(sample({2, 3})), Tensor(Array{1.0, 1.0})), ShapeError);
}

TEST_CASE("inv, det and slogdet: identities, hand values, derivatives (d det = det A^-T), singular inputs") {
  // Hand values: det [[1, 2], [3, 4]] = -2; a row exchange flips the sign.
  CHECK(det(Tensor(Array{{1.0, 2.0}, {3.0, 4.0}})).item() == doctest::Approx(-2.0).epsilon(1e-14));
  CHECK(det(Tensor(Array{{0.0, 1.0}, {1.0, 0.0}})).item() == doctest::Approx(-1.0).epsilon(1e-14));
  CHECK(det(Tensor(Array::from_shape({0, 0}))).item() == 1.0);  // numpy: the empty product
  const auto [s, l] = slogdet(Tensor(Array{{1.0, 2.0}, {3.0, 4.0}}));
  CHECK(s() == -1.0);
  CHECK(l.item() == doctest::Approx(std::log(2.0)).epsilon(1e-14));
  for (std::size_t n : {1, 3, 4}) {
    CAPTURE(n);
    const Array A = well_conditioned(n, 51);
    const Array Ai = inv(Tensor(A)).value();
    check_close(ref_matmul(A, Ai), eye(n), 1e-12);
    // det of a triangular matrix is the product of its diagonal.
    const Array T = xt::triu(A);
    double prod = 1.0;
    for (std::size_t i = 0; i < n; ++i) prod *= T(i, i);
    CHECK(det(Tensor(T)).item() == doctest::Approx(prod).epsilon(1e-12));
    CHECK(std::exp(slogdet(Tensor(A)).logabsdet.item()) == doctest::Approx(std::abs(det(Tensor(A)).item())).epsilon(1e-12));
    XGRAD_CHECK_GRADS([](const Tensor& a) { return inv(a); }, Tensor(A));
    XGRAD_CHECK_GRADS([](const Tensor& a) { return det(a); }, Tensor(A));
    XGRAD_CHECK_GRADS([](const Tensor& a) { return slogdet(a).logabsdet; }, Tensor(A));
  }
  // d det / dA = det(A) A^{-T}: for [[1, 2], [3, 4]], the cofactor matrix [[4, -3], [-2, 1]].
  check_close(grad([](const Tensor& a) { return det(a); })(Tensor(Array{{1.0, 2.0}, {3.0, 4.0}})).value(),
              Array{{4.0, -3.0}, {-2.0, 1.0}}, 1e-12);
  const auto [s0, l0] = slogdet(Tensor(Array{{1.0, 2.0}, {2.0, 4.0}}));
  CHECK(s0() == 0.0);
  CHECK(std::isinf(l0.item()));
  CHECK(det(Tensor(Array{{1.0, 2.0}, {2.0, 4.0}})).item() == 0.0);
  CHECK_THROWS_AS(inv(Tensor(Array{{1.0, 2.0}, {2.0, 4.0}})), ValueError);
  CHECK_THROWS_AS(grad([](const Tensor& a) { return det(a); })(Tensor(Array{{1.0, 2.0}, {2.0, 4.0}})), ValueError);
  CHECK_THROWS_WITH_AS(det(Tensor(sample({2, 3}))), doctest::Contains("(2,3)"), ShapeError);
  CHECK_THROWS_AS(inv(Tensor(Array{1.0, 2.0})), ShapeError);
}

TEST_CASE("eigh: A V == V diag(w), V orthonormal, ascending; hand values; derivatives of w and of V") {
  const auto [w2, V2] = eigh(Tensor(Array{{2.0, 1.0}, {1.0, 2.0}}));
  check_close(w2.value(), Array{1.0, 3.0}, 1e-14);
  CHECK(std::abs(V2.value()(0, 1)) == doctest::Approx(std::sqrt(0.5)).epsilon(1e-14));
  for (std::size_t n : {1, 3, 5}) {
    CAPTURE(n);
    const Array A = spd(n, 61) - 2.0 * eye(n);  // symmetric, eigenvalues of both signs
    const auto [w, V] = eigh(Tensor(A));
    REQUIRE(w.shape() == Shape{n});
    REQUIRE(V.shape() == Shape{n, n});
    for (std::size_t i = 1; i < n; ++i) CHECK(w.value()(i - 1) <= w.value()(i));
    check_close(ref_matmul(A, V.value()), Array(V.value() * xt::reshape_view(w.value(), {std::size_t(1), n})), 1e-10);
    check_close(ref_matmul(Array(xt::transpose(V.value())), V.value()), eye(n), 1e-12);
    // First and second order: the eigenvalues, and a function of the eigenvectors that does not depend on their
    // signs (the projector onto the first eigenvector).
    XGRAD_CHECK_GRADS([](const Tensor& a) { return eigh(a).eigenvalues; }, Tensor(A));
    XGRAD_CHECK_GRADS(
        [](const Tensor& a) {
          const Tensor v = slice(eigh(a).eigenvectors, 1, 0, 1);
          return matmul(v, transpose(v));
        },
        Tensor(A));
  }
  // d w_i / dA = v_i v_i^T (symmetric A): the largest eigenvalue of [[2, 1], [1, 2]] has v = (1, 1) / sqrt 2.
  const Tensor g = grad([](const Tensor& a) { return slice(eigh(a).eigenvalues, 0, 1, 2); })(
      Tensor(Array{{2.0, 1.0}, {1.0, 2.0}}));
  check_close(g.value(), Array{{0.5, 0.5}, {0.5, 0.5}}, 1e-12);
  CHECK_THROWS_AS(eigh(Tensor(sample({2, 3}))), ShapeError);
  CHECK_THROWS_AS(eigh(Tensor(Array{{NAN, 0.0}, {0.0, 1.0}})), ValueError);
}

namespace {
// numpy.einsum by loops over every letter, for the checks below: `letters` are all the letters used, each with its
// extent; out[o] = sum over the rest of prod of the operands.
Array einsum_loops(const std::vector<std::string>& ins, const std::string& out, const std::vector<Array>& ops) {
  std::string letters;
  std::vector<std::size_t> ext;
  for (std::size_t k = 0; k < ins.size(); ++k)
    for (std::size_t i = 0; i < ins[k].size(); ++i)
      if (letters.find(ins[k][i]) == std::string::npos) {
        letters.push_back(ins[k][i]);
        ext.push_back(ops[k].shape()[i]);
      }
  Shape os;
  for (char c : out) os.push_back(ext[letters.find(c)]);
  Array result = xt::zeros<double>(os);
  std::vector<std::size_t> at(letters.size(), 0);
  std::size_t total = 1;
  for (auto e : ext) total *= e;
  for (std::size_t flat = 0; flat < total; ++flat) {
    std::size_t r = flat;
    for (std::size_t i = letters.size(); i-- > 0;) {
      at[i] = r % ext[i];
      r /= ext[i];
    }
    double term = 1.0;
    for (std::size_t k = 0; k < ins.size(); ++k) {
      std::size_t off = 0;
      for (char c : ins[k]) off = off * ext[letters.find(c)] + at[letters.find(c)];
      term *= ops[k].data()[off];
    }
    std::size_t o = 0;
    for (char c : out) o = o * ext[letters.find(c)] + at[letters.find(c)];
    result.data()[o] += term;
  }
  return result;
}
}  // namespace

TEST_CASE("einsum and tensordot: against loops over every letter, derivatives, errors") {
  const Array a = sample({2, 3, 4}, -1, 1, 71), b = sample({4, 3, 5}, -1, 1, 72), m = sample({3, 3}, -1, 1, 73);
  const Array v = sample({3}, -1, 1, 74), w = sample({4}, -1, 1, 75);
  struct Case {
    std::string subscripts, in0, in1, out;
    Array x, y;
  };
  const std::vector<Case> two{
      {"ijk,kjl->il", "ijk", "kjl", "il", a, b},         // contract two letters
      {"ijk,kjl->lji", "ijk", "kjl", "lji", a, b},       // batch j, output reordered
      {"ijk,kjl", "ijk", "kjl", "il", a, b},             // implicit output: i, l
      {"ij,j->i", "ij", "j", "i", m, v},                 // matrix-vector
      {"i,i->", "i", "i", "", v, v},                     // inner product
      {"i,k->ik", "i", "k", "ik", v, w},                 // outer product
      {"ijk,k->ij", "ijk", "k", "ij", a, w},
      {"ii,i->i", "ii", "i", "i", m, v},                 // a diagonal inside the plan
      {"ijk,lk->", "ijk", "lk", "", a, sample({6, 4}, -1, 1, 76)},  // j summed in a alone, l in b alone
  };
  for (const auto& c : two) {
    CAPTURE(c.subscripts);
    check_close(einsum(c.subscripts, Tensor(c.x), Tensor(c.y)).value(), einsum_loops({c.in0, c.in1}, c.out, {c.x, c.y}),
                1e-12);
    XGRAD_CHECK_GRADS([&](const Tensor& x, const Tensor& y) { return einsum(c.subscripts, x, y); },
                      std::make_tuple(Tensor(c.x), Tensor(c.y)));
  }
  for (const auto& [subs, in, out] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"ijk->kji", "ijk", "kji"}, {"ijk->j", "ijk", "j"}, {"ijk", "ijk", "ijk"}, {"ijk->", "ijk", ""}}) {
    CAPTURE(subs);
    check_close(einsum(subs, Tensor(a)).value(), einsum_loops({in}, out, {a}), 1e-12);
    XGRAD_CHECK_GRADS([subs](const Tensor& x) { return einsum(subs, x); }, Tensor(a));
  }
  check_close(einsum("ii->", Tensor(m)).value(), Array(m(0, 0) + m(1, 1) + m(2, 2)), 1e-14);  // the trace
  check_close(einsum("ii->i", Tensor(m)).value(), Array{m(0, 0), m(1, 1), m(2, 2)});
  check_close(einsum("ji", Tensor(m)).value(), Array(xt::transpose(m)));  // implicit: alphabetical, a transpose

  // tensordot: numpy's default (the last two axes of a against the first two of b) and explicit pairs.
  const Array c = sample({3, 4, 2}, -1, 1, 77);
  check_close(tensordot(Tensor(a), Tensor(c), 2).value(), einsum_loops({"ijk", "jkl"}, "il", {a, c}), 1e-12);
  check_close(tensordot(Tensor(a), Tensor(b), {1, 2}, {1, 0}).value(), einsum_loops({"ijk", "kjl"}, "il", {a, b}),
              1e-12);
  check_close(tensordot(Tensor(v), Tensor(w), 0).value(), einsum_loops({"i", "k"}, "ik", {v, w}));
  XGRAD_CHECK_GRADS([](const Tensor& x, const Tensor& y) { return tensordot(x, y, {2, 1}, {0, 1}); },
                    std::make_tuple(Tensor(a), Tensor(b)));

  CHECK_THROWS_WITH_AS(einsum("ij,jk->ik", Tensor(a), Tensor(b)), doctest::Contains("(2,3,4)"), ShapeError);
  CHECK_THROWS_WITH_AS(einsum("ijk,jlm->il", Tensor(a), Tensor(b)), doctest::Contains("'j'"), ShapeError);
  CHECK_THROWS_AS(einsum("...k,kjl->jl", Tensor(a), Tensor(b)), ValueError);
  CHECK_THROWS_AS(einsum("ijk,kjl->ii", Tensor(a), Tensor(b)), ValueError);
  CHECK_THROWS_AS(einsum("ijk,kjl->z", Tensor(a), Tensor(b)), ValueError);
  CHECK_THROWS_AS(einsum("ijk", Tensor(a), Tensor(b)), ValueError);
  CHECK_THROWS_AS(tensordot(Tensor(a), Tensor(b), {0}, {0}), ShapeError);
  CHECK_THROWS_AS(tensordot(Tensor(a), Tensor(b), 4), ShapeError);
}

TEST_CASE("svd: U diag(S) Vh == A, orthonormal factors, descending S; derivatives of S and of A's reconstruction") {
  for (const auto& s : std::vector<Shape>{{4, 3}, {3, 5}, {3, 3}, {1, 4}}) {
    CAPTURE(shape_str(s));
    const Array A = sample(s, -1, 1, 101);
    const auto [U, S, Vh] = svd(Tensor(A));
    const std::size_t k = std::min(s[0], s[1]);
    REQUIRE(U.shape() == Shape{s[0], k});
    REQUIRE(S.shape() == Shape{k});
    REQUIRE(Vh.shape() == Shape{k, s[1]});
    for (std::size_t i = 1; i < k; ++i) CHECK(S.value()(i - 1) >= S.value()(i));
    check_close(ref_matmul(Array(U.value() * xt::reshape_view(S.value(), {std::size_t(1), k})), Vh.value()), A, 1e-12);
    check_close(ref_matmul(Array(xt::transpose(U.value())), U.value()), eye(k), 1e-12);
    check_close(ref_matmul(Vh.value(), Array(xt::transpose(Vh.value()))), eye(k), 1e-12);
    XGRAD_CHECK_GRADS([](const Tensor& a) { return svd(a).S; }, Tensor(A));
    // Sign-invariant functions of the vectors: the projector onto the leading left and right singular vectors.
    auto projector = [](const Tensor& a) {
      const Svd f = svd(a);
      return matmul(slice(f.U, 1, 0, 1), slice(f.Vh, 0, 0, 1)) * sum(f.S);
    };
    XGRAD_CHECK_GRADS(projector, Tensor(A));
  }
  // The singular values of a diagonal matrix are its absolute diagonal, in descending order.
  check_close(svd(Tensor(Array{{-3.0, 0.0}, {0.0, 5.0}})).S.value(), Array{5.0, 3.0}, 1e-14);
  // d s_max / dA = u v^T.
  const Tensor g = grad([](const Tensor& a) { return slice(svd(a).S, 0, 0, 1); })(Tensor(Array{{-3.0, 0.0}, {0.0, 5.0}}));
  check_close(g.value(), Array{{0.0, 0.0}, {0.0, 1.0}}, 1e-12);
  CHECK_THROWS_AS(svd(Tensor(Array{1.0, 2.0})), ShapeError);
  CHECK_THROWS_WITH_AS(svd(Tensor(Array{{NAN, 1.0}})), doctest::Contains("NaN"), ValueError);
}

TEST_CASE("qr: Q R == A, Q orthonormal, R upper triangular; derivatives for tall and square A; errors") {
  for (const auto& s : std::vector<Shape>{{5, 3}, {3, 3}, {3, 5}}) {
    CAPTURE(shape_str(s));
    const Array A = sample(s, -1, 1, 111);
    const auto [Q, R] = qr(Tensor(A));
    const std::size_t k = std::min(s[0], s[1]);
    REQUIRE(Q.shape() == Shape{s[0], k});
    REQUIRE(R.shape() == Shape{k, s[1]});
    check_close(ref_matmul(Q.value(), R.value()), A, 1e-12);
    check_close(ref_matmul(Array(xt::transpose(Q.value())), Q.value()), eye(k), 1e-12);
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < i; ++j) CHECK(R.value()(i, j) == 0.0);
    if (s[0] >= s[1]) {
      XGRAD_CHECK_GRADS([](const Tensor& a) { return qr(a).Q; }, Tensor(A));
      XGRAD_CHECK_GRADS([](const Tensor& a) { return qr(a).R; }, Tensor(A));
    }
  }
  CHECK_THROWS_AS(grad([](const Tensor& a) { return sum(qr(a).R); })(Tensor(sample({2, 3}))), ValueError);
  CHECK_THROWS_AS(qr(Tensor(Array{1.0})), ShapeError);
}

TEST_CASE("lstsq and matrix_norm: normal equations, least norm, rank; numpy's norms; derivatives") {
  const Array A = sample({6, 3}, -1, 1, 121), b = sample({6}, -1, 1, 122);
  const auto [x, rank, s] = lstsq(Tensor(A), Tensor(b));
  CHECK(rank == 3);
  // The residual is orthogonal to A's columns: A^T (A x - b) = 0.
  const Array r = ref_matmul(A, x.value()) - b;
  check_close(Array(ref_matmul(Array(xt::transpose(A)), r) + 1.0), Array(xt::ones<double>({3})), 1e-12);
  XGRAD_CHECK_GRADS([](const Tensor& a, const Tensor& y) { return lstsq(a, y).x; }, std::make_tuple(Tensor(A), Tensor(b)));
  // A rank-deficient A: the solution of least norm, and rank 1.
  const Array D{{1.0, 1.0}, {1.0, 1.0}, {1.0, 1.0}};
  const auto sol = lstsq(Tensor(D), Tensor(Array{{1.0, 2.0}, {1.0, 2.0}, {1.0, 2.0}}));
  CHECK(sol.rank == 1);
  check_close(sol.x.value(), Array{{0.5, 1.0}, {0.5, 1.0}}, 1e-12);
  // Norms of [[1, -2], [3, 4]]: fro sqrt(30), 1: max column sum 6, inf: max row sum 7, -1: 3, -inf: 3.
  const Tensor M(Array{{1.0, -2.0}, {3.0, 4.0}});
  CHECK(matrix_norm(M).item() == doctest::Approx(std::sqrt(30.0)));
  CHECK(matrix_norm(M, "1").item() == 6.0);
  CHECK(matrix_norm(M, "-1").item() == 4.0);
  CHECK(matrix_norm(M, "inf").item() == 7.0);
  CHECK(matrix_norm(M, "-inf").item() == 3.0);
  const Array sv = svd(M).S.value();
  CHECK(matrix_norm(M, "2").item() == doctest::Approx(sv(0)));
  CHECK(matrix_norm(M, "-2").item() == doctest::Approx(sv(1)));
  CHECK(matrix_norm(M, "nuc").item() == doctest::Approx(sv(0) + sv(1)));
  CHECK(sv(0) * sv(1) == doctest::Approx(10.0));  // |det|
  for (const char* ord : {"fro", "nuc", "2", "-2", "1", "inf"}) {
    CAPTURE(ord);
    XGRAD_CHECK_GRADS([ord](const Tensor& a) { return matrix_norm(a, ord); }, Tensor(sample({3, 4}, -1, 1, 123)));
  }
  CHECK_THROWS_WITH_AS(matrix_norm(M, "3"), doctest::Contains("\"3\""), ValueError);
  CHECK_THROWS_AS(lstsq(Tensor(A), Tensor(Array{1.0, 2.0})), ShapeError);
}

namespace {
// Matrices stacked under a batch shape: block i is make(i).
template <class Make>
Array stacked(const Shape& batch, std::size_t m, std::size_t n, Make make) {
  Shape s = batch;
  s.push_back(m);
  s.push_back(n);
  Array out = Array::from_shape(s);
  for (std::size_t i = 0; i < out.size() / (m * n); ++i) {
    const Array b = make(i);
    std::copy(b.data(), b.data() + m * n, out.data() + i * m * n);
  }
  return out;
}
// Block i of a stack whose trailing axes are (m, n) (or (m,) when n == 0).
Array block(const Array& s, std::size_t i, std::size_t m, std::size_t n = 0) {
  Array b = n == 0 ? Array::from_shape({m}) : Array::from_shape({m, n});
  std::copy(s.data() + i * b.size(), s.data() + (i + 1) * b.size(), b.data());
  return b;
}
}  // namespace

TEST_CASE("stacks of matrices (numpy's (..., m, n)): per-matrix identities, broadcast solves, derivatives, errors") {
  constexpr std::size_t n = 3;
  const Shape batch{2, 3};
  const Array A = stacked(batch, n, n, [](std::size_t i) { return well_conditioned(n, 60 + i); });
  const Array S = stacked(batch, n, n, [](std::size_t i) { return spd(n, 70 + i); });
  const Tensor tA(A), tS(S);
  const Array Ai = inv(tA).value(), d = det(tA).value();
  const auto [sign, logabs] = slogdet(tA);
  const Array L = cholesky(tS).value();
  const auto [w, V] = eigh(tS);
  REQUIRE(shape_of(Ai) == Shape{2, 3, n, n});
  REQUIRE(shape_of(d) == batch);
  REQUIRE(shape_of(sign) == batch);
  REQUIRE(w.shape() == Shape{2, 3, n});
  const Array b = sample({n}, -1.0, 1.0, 80);
  const Array x = solve(tA, Tensor(b)).value();
  REQUIRE(shape_of(x) == Shape{2, 3, n});
  const Array lx = solve_triangular(tA, Tensor(b), true).value(), cx = cho_solve(Tensor(L), Tensor(b)).value();
  const Array B = sample({3, n, 2}, -1.0, 1.0, 81);  // batch (3,) broadcast against A's (2, 3)
  const Array X = solve(tA, Tensor(B)).value();
  REQUIRE(shape_of(X) == Shape{2, 3, n, 2});
  for (std::size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    const Array a = block(A, i, n, n), s = block(S, i, n, n);
    check_close(ref_matmul(a, block(Ai, i, n, n)), eye(n), 1e-12);
    CHECK(d.data()[i] == doctest::Approx(det(Tensor(a)).item()).epsilon(1e-13));
    CHECK(sign.data()[i] * std::exp(logabs.value().data()[i]) == doctest::Approx(d.data()[i]).epsilon(1e-12));
    const Array l = block(L, i, n, n);
    check_close(ref_matmul(l, Array(xt::transpose(l))), s, 1e-12);
    const Array v = block(V.value(), i, n, n), wi = block(w.value(), i, n);
    check_close(ref_matmul(s, v), Array(v * xt::reshape_view(wi, {std::size_t{1}, n})), 1e-11);
    check_close(ref_matmul(a, block(x, i, n)), b, 1e-12);
    check_close(ref_matmul(Array(xt::tril(a)), block(lx, i, n)), b, 1e-12);
    check_close(ref_matmul(s, block(cx, i, n)), b, 1e-12);
    check_close(ref_matmul(a, block(X, i, n, 2)), block(B, i % 3, n, 2), 1e-12);
  }
  // Rectangular stacks: svd, qr, matrix_norm.
  const Array R = sample({2, 4, 3}, -1.0, 1.0, 82);
  const auto [U, Sv, Vh] = svd(Tensor(R));
  const auto [Q, Rq] = qr(Tensor(R));
  const Array nuc = matrix_norm(Tensor(R), "nuc").value();
  REQUIRE(shape_of(nuc) == Shape{2});
  for (std::size_t i = 0; i < 2; ++i) {
    const Array r = block(R, i, 4, 3), u = block(U.value(), i, 4, 3), s = block(Sv.value(), i, 3);
    check_close(ref_matmul(Array(u * xt::reshape_view(s, {std::size_t{1}, std::size_t{3}})), block(Vh.value(), i, 3, 3)), r, 1e-12);
    check_close(ref_matmul(block(Q.value(), i, 4, 3), block(Rq.value(), i, 3, 3)), r, 1e-12);
    CHECK(nuc.data()[i] == doctest::Approx(xt::sum(s)()).epsilon(1e-12));
  }
  // Derivatives through the stacking, first and second order.
  const Tensor small(stacked({2}, 2, 2, [](std::size_t i) { return well_conditioned(2, 90 + i); }));
  const Tensor rhs(sample({2, 2, 1}, -1.0, 1.0, 92));
  auto solve_ab = [](const Tensor& a, const Tensor& v) { return solve(a, v); };
  XGRAD_CHECK_GRADS([](const Tensor& a) { return inv(a); }, small);
  XGRAD_CHECK_GRADS([](const Tensor& a) { return det(a); }, small);
  XGRAD_CHECK_GRADS([](const Tensor& a) { return eigh(a).eigenvalues; }, small);
  XGRAD_CHECK_GRADS([](const Tensor& a) { return svd(a).S; }, small);
  XGRAD_CHECK_GRADS(solve_ab, std::make_tuple(small, rhs));
  XGRAD_CHECK_GRADS(solve_ab, std::make_tuple(small, Tensor(sample({2, 1}, -1.0, 1.0, 93))));  // broadcast b
  // Errors: an empty stack, batch axes that do not broadcast, stacked matrices that are not square.
  CHECK_THROWS_WITH_AS(inv(Tensor(Array::from_shape({0, 2, 2}))), doctest::Contains("(0,2,2)"), ShapeError);
  CHECK_THROWS_AS(solve(tA, Tensor(sample({4, n, 1}))), ShapeError);
  CHECK_THROWS_WITH_AS(det(Tensor(sample({2, 2, 3}))), doctest::Contains("(2,3)"), ShapeError);
}
