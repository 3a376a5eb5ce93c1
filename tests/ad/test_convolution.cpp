#include "check.hpp"

using namespace xgrad;
using xgrad::testing::check_close;
using xgrad::testing::sample;

namespace {
// conv2d by its definition: out[n, o, y, x] = b[o] + sum_{c,i,j} in[n, c, y sh + i dh - ph, x sw + j dw - pw] w[o, c, i, j].
Array conv2d_loops(const Array& in, const Array& w, const Array* b, Conv2dOptions o) {
  const std::size_t N = in.shape()[0], C = in.shape()[1], H = in.shape()[2], W = in.shape()[3];
  const std::size_t O = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  const std::size_t Ho = (H + 2 * o.padding[0] - o.dilation[0] * (kh - 1) - 1) / o.stride[0] + 1;
  const std::size_t Wo = (W + 2 * o.padding[1] - o.dilation[1] * (kw - 1) - 1) / o.stride[1] + 1;
  Array out = xt::zeros<double>({N, O, Ho, Wo});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t oc = 0; oc < O; ++oc)
      for (std::size_t y = 0; y < Ho; ++y)
        for (std::size_t x = 0; x < Wo; ++x) {
          double acc = b ? (*b)(oc) : 0.0;
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t i = 0; i < kh; ++i)
              for (std::size_t j = 0; j < kw; ++j) {
                const auto yy = static_cast<std::ptrdiff_t>(y * o.stride[0] + i * o.dilation[0]) - static_cast<std::ptrdiff_t>(o.padding[0]);
                const auto xx = static_cast<std::ptrdiff_t>(x * o.stride[1] + j * o.dilation[1]) - static_cast<std::ptrdiff_t>(o.padding[1]);
                if (yy < 0 || xx < 0 || yy >= static_cast<std::ptrdiff_t>(H) || xx >= static_cast<std::ptrdiff_t>(W)) continue;
                acc += in(n, c, static_cast<std::size_t>(yy), static_cast<std::size_t>(xx)) * w(oc, c, i, j);
              }
          out(n, oc, y, x) = acc;
        }
  return out;
}
}  // namespace

TEST_CASE("conv2d: against the definition with strides, padding and dilation; derivatives of x, w, b; errors") {
  const Array x = sample({2, 3, 6, 5}, -1, 1, 81), w = sample({4, 3, 3, 2}, -1, 1, 82), b = sample({4}, -1, 1, 83);
  for (const Conv2dOptions o : {Conv2dOptions{}, Conv2dOptions{.stride = {2, 1}, .padding = {1, 2}},
                                Conv2dOptions{.stride = {1, 2}, .padding = {2, 0}, .dilation = {2, 1}}}) {
    CAPTURE(o.stride[0]);
    CAPTURE(o.padding[1]);
    check_close(conv2d(Tensor(x), Tensor(w), Tensor(b), o).value(), conv2d_loops(x, w, &b, o), 1e-12);
    check_close(conv2d(Tensor(x), Tensor(w), o).value(), conv2d_loops(x, w, nullptr, o), 1e-12);
  }
  const Conv2dOptions o{.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}};
  const Array xs = sample({1, 2, 5, 5}, -1, 1, 84), ws = sample({2, 2, 2, 2}, -1, 1, 85), bs = sample({2}, -1, 1, 86);
  XGRAD_CHECK_GRADS([o](const Tensor& a, const Tensor& k, const Tensor& c) { return square(conv2d(a, k, c, o)); },
                    std::make_tuple(Tensor(xs), Tensor(ws), Tensor(bs)));
  CHECK_THROWS_WITH_AS(conv2d(Tensor(x), Tensor(sample({4, 2, 3, 3}))), doctest::Contains("(2,3,6,5)"), ShapeError);
  CHECK_THROWS_AS(conv2d(Tensor(x), Tensor(w), Tensor(sample({3}))), ShapeError);
  CHECK_THROWS_WITH_AS(conv2d(Tensor(x), Tensor(sample({1, 3, 7, 1}))), doctest::Contains("larger than"), ShapeError);
  CHECK_THROWS_AS(conv2d(Tensor(x), Tensor(w), {.stride = {0, 1}}), ValueError);
}

TEST_CASE("conv1d: as conv2d over a height of 1; derivatives") {
  const Array x = sample({2, 3, 9}, -1, 1, 87), w = sample({2, 3, 3}, -1, 1, 88), b = sample({2}, -1, 1, 89);
  const Conv1dOptions o{.stride = 2, .padding = 1, .dilation = 2};
  const Array want = conv2d_loops(Array(xt::reshape_view(x, {2, 3, 1, 9})), Array(xt::reshape_view(w, {2, 3, 1, 3})), &b,
                                  {.stride = {1, 2}, .padding = {0, 1}, .dilation = {1, 2}});
  const Tensor y = conv1d(Tensor(x), Tensor(w), Tensor(b), o);
  REQUIRE(y.shape() == Shape{2, 2, 4});
  check_close(y.value(), Array(xt::reshape_view(want, {2, 2, 4})), 1e-12);
  XGRAD_CHECK_GRADS([o](const Tensor& a, const Tensor& k) { return square(conv1d(a, k, o)); },
                    std::make_tuple(Tensor(x), Tensor(w)));
  CHECK_THROWS_AS(conv1d(Tensor(x), Tensor(sample({2, 3, 3, 1}))), ShapeError);
}

TEST_CASE("max_pool and avg_pool: hand values, padding, strides; derivatives; errors") {
  Array x = Array::from_shape({1, 1, 4, 4});
  for (std::size_t i = 0; i < 16; ++i) x.data()[i] = static_cast<double>((i * 7) % 16);  // 0 7 14 5 / 12 3 10 1 / ...
  // Windows 2x2, stride 2: the max and the mean of each quarter.
  const Array mp = max_pool(Tensor(x), {2, 2}).value();
  const Array ap = avg_pool(Tensor(x), {2, 2}).value();
  REQUIRE(mp.shape() == Shape{1, 1, 2, 2});
  for (std::size_t a = 0; a < 2; ++a)
    for (std::size_t b = 0; b < 2; ++b) {
      double m = -1, s = 0;
      for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j) {
          m = std::max(m, x(0, 0, 2 * a + i, 2 * b + j));
          s += x(0, 0, 2 * a + i, 2 * b + j);
        }
      CHECK(mp(0, 0, a, b) == m);
      CHECK(ap(0, 0, a, b) == doctest::Approx(s / 4));
    }
  // Padding: -inf for max (a window of negative values keeps its max), zeros for avg (count_include_pad).
  const Tensor neg(Array(-1.0 - xt::abs(sample({1, 2, 3, 3}, -1, 1, 90))));
  const Array mpp = max_pool(neg, {2, 2}, {.stride = {1, 1}, .padding = {1, 1}}).value();
  REQUIRE(mpp.shape() == Shape{1, 2, 4, 4});
  CHECK(mpp(0, 0, 0, 0) == neg.value()(0, 0, 0, 0));
  const Array app = avg_pool(neg, {2, 2}, {.stride = {1, 1}, .padding = {1, 1}}).value();
  CHECK(app(0, 1, 0, 0) == doctest::Approx(neg.value()(0, 1, 0, 0) / 4));
  const Array xr = sample({2, 2, 5, 4}, -1, 1, 91);
  XGRAD_CHECK_GRADS([](const Tensor& a) { return square(max_pool(a, {2, 2}, {.stride = {1, 1}})); }, Tensor(xr));
  XGRAD_CHECK_GRADS([](const Tensor& a) { return square(max_pool(a, {3, 2}, {.padding = {1, 1}})); }, Tensor(xr));
  XGRAD_CHECK_GRADS([](const Tensor& a) { return square(avg_pool(a, {2, 3}, {.stride = {2, 1}, .padding = {1, 1}})); },
                    Tensor(xr));
  CHECK_THROWS_AS(max_pool(Tensor(sample({2, 5, 4})), {2, 2}), ShapeError);
  CHECK_THROWS_AS(avg_pool(Tensor(xr), {2, 2}, {.padding = {2, 0}}), ValueError);
  CHECK_THROWS_AS(max_pool(Tensor(xr), {6, 2}), ShapeError);
}
