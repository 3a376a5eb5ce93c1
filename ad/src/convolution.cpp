#include "xgrad/ad/convolution.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <limits>
#include <string>
#include <vector>

#include "value_cache.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/linalg.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/ad/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;

namespace {

// The geometry of a 2-D patch extraction: input (N, C, H, W), window (kh, kw), stride, padding, dilation; output
// positions (Ho, Wo). Stored in a node's ints in this order.
struct Patches {
  std::size_t n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo;

  std::vector<std::ptrdiff_t> ints() const {
    return {static_cast<std::ptrdiff_t>(n),  static_cast<std::ptrdiff_t>(c),  static_cast<std::ptrdiff_t>(h),
            static_cast<std::ptrdiff_t>(w),  static_cast<std::ptrdiff_t>(kh), static_cast<std::ptrdiff_t>(kw),
            static_cast<std::ptrdiff_t>(sh), static_cast<std::ptrdiff_t>(sw), static_cast<std::ptrdiff_t>(ph),
            static_cast<std::ptrdiff_t>(pw), static_cast<std::ptrdiff_t>(dh), static_cast<std::ptrdiff_t>(dw),
            static_cast<std::ptrdiff_t>(ho), static_cast<std::ptrdiff_t>(wo)};
  }
  static Patches of(const Node& nd) {
    const auto& i = nd.ints();
    auto u = [&](std::size_t k) { return static_cast<std::size_t>(i[k]); };
    return {u(0), u(1), u(2), u(3), u(4), u(5), u(6), u(7), u(8), u(9), u(10), u(11), u(12), u(13)};
  }
  Shape image() const { return {n, c, h, w}; }
  // (C kh kw, N Ho Wo): the whole batch side by side, so a convolution is one gemm (Caffe's layout).
  Shape columns() const { return {c * kh * kw, n * ho * wo}; }

  // Calls f(column offset, image offset) for every column element that lies inside the image (the rest is padding).
  template <class F>
  void each(F f) const {
    const std::size_t cols = n * ho * wo;
    for (std::size_t b = 0; b < n; ++b)
      for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t i = 0; i < kh; ++i)
          for (std::size_t j = 0; j < kw; ++j) {
            const std::size_t row = (ch * kh + i) * kw + j;
            const std::size_t col0 = row * cols + b * ho * wo, img0 = (b * c + ch) * h * w;
            for (std::size_t oy = 0; oy < ho; ++oy) {
              const auto y = static_cast<std::ptrdiff_t>(oy * sh + i * dh) - static_cast<std::ptrdiff_t>(ph);
              if (y < 0 || y >= static_cast<std::ptrdiff_t>(h)) continue;
              for (std::size_t ox = 0; ox < wo; ++ox) {
                const auto x = static_cast<std::ptrdiff_t>(ox * sw + j * dw) - static_cast<std::ptrdiff_t>(pw);
                if (x < 0 || x >= static_cast<std::ptrdiff_t>(w)) continue;
                f(col0 + oy * wo + ox, img0 + static_cast<std::size_t>(y) * w + static_cast<std::size_t>(x));
              }
            }
          }
  }
};

Tensor col2im(const Tensor& cols, const Patches& p);

// (N, C, H, W) -> (C kh kw, N Ho Wo): column (b, oy, ox) of row (c, i, j) is x[b, c, oy sh + i dh - ph, ox sw + j dw - pw].
// Large arrays come from the value cache (ad/src/value_cache.hpp), zeroed: a fresh allocation of megabytes costs
// its page faults on every call.
std::shared_ptr<Array> zeros_from_cache(const Shape& s) {
  auto a = ad::cache::take(Array::shape_type(s.begin(), s.end()));
  std::fill(a->begin(), a->end(), 0.0);
  return a;
}

Tensor im2col(const Tensor& x, const Patches& p) {
  auto out = zeros_from_cache(p.columns());
  const double* src = x.value().data();
  double* dst = out->data();
  p.each([&](std::size_t col, std::size_t img) { dst[col] = src[img]; });
  return make("im2col", std::move(out), {x},
              [](const Node& nd, const Tensor& g, Grads& d) { d(0, col2im(g, Patches::of(nd))); },
              {.ints = p.ints()});
}

// The adjoint of im2col: each column element added back where it came from.
Tensor col2im(const Tensor& cols, const Patches& p) {
  auto out = zeros_from_cache(p.image());
  const double* src = cols.value().data();
  double* dst = out->data();
  p.each([&](std::size_t col, std::size_t img) { dst[img] += src[col]; });
  return make("col2im", std::move(out), {cols},
              [](const Node& nd, const Tensor& g, Grads& d) { d(0, im2col(g, Patches::of(nd))); },
              {.ints = p.ints()});
}

// y's values seen as (a, b, l) -> (b, a, l), contiguous runs of l copied, in the given shape: a convolution's gemm
// result (O, N Ho Wo) to (N, O, Ho, Wo) without a reshape's copy, and back in the backward pass (the swap the other
// way is its adjoint).
Tensor swap_leading(const Tensor& y, std::size_t a, std::size_t b, std::size_t l, const Shape& shape) {
  auto out = ad::cache::take(Array::shape_type(shape.begin(), shape.end()));
  const double* src = y.value().data();
  double* dst = out->data();
  for (std::size_t i = 0; i < a; ++i)
    for (std::size_t j = 0; j < b; ++j) std::copy(src + (i * b + j) * l, src + (i * b + j + 1) * l, dst + (j * a + i) * l);
  return make("swap_leading", std::move(out), {y},
              [](const Node& nd, const Tensor& g, Grads& d) {
                const auto& i = nd.ints();
                d(0, swap_leading(g, static_cast<std::size_t>(i[1]), static_cast<std::size_t>(i[0]),
                                  static_cast<std::size_t>(i[2]), nd.in(0).shape()));
              },
              {.ints = {static_cast<std::ptrdiff_t>(a), static_cast<std::ptrdiff_t>(b), static_cast<std::ptrdiff_t>(l)}});
}

// The sum of g, seen as (N, O, L), over N and L, in one pass (a bias's gradient); its adjoint broadcasts back.
Tensor channel_sum(const Tensor& g, std::size_t n, std::size_t o, std::size_t l) {
  Array out = xt::zeros<double>({o});
  const double* src = g.value().data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < o; ++c) {
      const double* row = src + (i * o + c) * l;
      double acc = 0.0;
      for (std::size_t k = 0; k < l; ++k) acc += row[k];
      out(c) += acc;
    }
  return make("channel_sum", std::move(out), {g}, [](const Node& nd, const Tensor& gb, Grads& d) {
    const Shape in = nd.in(0).shape();
    std::vector<std::ptrdiff_t> one_channel(in.size(), 1);
    one_channel[1] = static_cast<std::ptrdiff_t>(in[1]);
    d(0, broadcast_to(reshape(gb, one_channel), in));
  });
}

// y's values seen as (O, N, L) -> (N, O, L) in the given shape, with b[o] added, in one pass (numpy broadcasting of
// (1, O, 1, 1) would take the strided path, and a separate swap one more pass). Adjoints: the swap back of the
// cotangent, and its channel sums.
Tensor to_nchw(const Tensor& y, const Tensor& b, std::size_t n, std::size_t l, const Shape& shape) {
  const std::size_t o = b.size();
  auto out = ad::cache::take(Array::shape_type(shape.begin(), shape.end()));
  const double* src = y.value().data();
  const double* bias = b.value().data();
  double* dst = out->data();
  for (std::size_t c = 0; c < o; ++c)
    for (std::size_t i = 0; i < n; ++i) {
      const double* from = src + (c * n + i) * l;
      double* to = dst + (i * o + c) * l;
      for (std::size_t k = 0; k < l; ++k) to[k] = from[k] + bias[c];
    }
  return make("to_nchw", std::move(out), {y, b},
              [](const Node& nd, const Tensor& g, Grads& d) {
                const auto n = static_cast<std::size_t>(nd.ints()[0]), l = static_cast<std::size_t>(nd.ints()[1]);
                const std::size_t o = nd.in(1).size();
                if (d.needs(0)) d(0, swap_leading(g, n, o, l, nd.in(0).shape()));
                if (d.needs(1)) d(1, channel_sum(g, n, o, l));
              },
              {.ints = {static_cast<std::ptrdiff_t>(n), static_cast<std::ptrdiff_t>(l)}});
}

// Gather and scatter over flat indices into x, each the other's adjoint: max pooling's selection of each window's
// maximum without a reshape of x. The indices are shared between the nodes, not copied.
using Indices = std::vector<std::size_t>;
Tensor scatter_flat(const Tensor& g, std::shared_ptr<const Indices> at, const Shape& shape);

Tensor gather_flat(const Tensor& x, std::shared_ptr<const Indices> at, const Shape& shape) {
  Array out = Array::from_shape(shape);
  const double* v = x.value().data();
  for (std::size_t i = 0; i < at->size(); ++i) out.data()[i] = v[(*at)[i]];
  return make("gather_flat", std::move(out), {x},
              [](const Node& nd, const Tensor& g, Grads& d) {
                d(0, scatter_flat(g, std::static_pointer_cast<const Indices>(nd.extra.data), nd.in(0).shape()));
              },
              {.data = std::move(at)});
}

Tensor scatter_flat(const Tensor& g, std::shared_ptr<const Indices> at, const Shape& shape) {
  auto out = zeros_from_cache(shape);
  const double* v = g.value().data();
  double* dst = out->data();
  for (std::size_t i = 0; i < at->size(); ++i) dst[(*at)[i]] += v[i];
  return make("scatter_flat", std::move(out), {g},
              [](const Node& nd, const Tensor& gx, Grads& d) {
                d(0, gather_flat(gx, std::static_pointer_cast<const Indices>(nd.extra.data), nd.in(0).shape()));
              },
              {.data = std::move(at)});
}

std::size_t out_extent(std::size_t in, std::size_t k, std::size_t s, std::size_t pad, std::size_t dil, const char* op,
                       const Shape& shape) {
  if (s == 0 || dil == 0) throw ValueError(std::string("xgrad::") + op + ": stride and dilation must be positive");
  if (k == 0) throw ShapeError(std::string("xgrad::") + op + ": a window of extent 0 for input of shape " + shape_str(shape));
  const std::size_t span = dil * (k - 1) + 1;
  if (in + 2 * pad < span)
    throw ShapeError(std::string("xgrad::") + op + ": the window (extent " + std::to_string(k) + ", dilation " +
                     std::to_string(dil) + ") is larger than the padded input of shape " + shape_str(shape));
  return (in + 2 * pad - span) / s + 1;
}

Patches patches(const Shape& xs, std::size_t kh, std::size_t kw, std::array<std::size_t, 2> stride,
                std::array<std::size_t, 2> padding, std::array<std::size_t, 2> dilation, const char* op) {
  Patches p{xs[0], xs[1], xs[2], xs[3], kh, kw, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], 0, 0};
  p.ho = out_extent(p.h, kh, p.sh, p.ph, p.dh, op, xs);
  p.wo = out_extent(p.w, kw, p.sw, p.pw, p.dw, op, xs);
  shape_size(p.columns(), op);
  return p;
}

Tensor conv2d_impl(const Tensor& x, const Tensor& w, const Tensor* b, const Conv2dOptions& o, const char* op) {
  if (x.ndim() != 4 || w.ndim() != 4 || x.shape()[1] != w.shape()[1])
    throw ShapeError(std::string("xgrad::") + op + ": needs x (N, C, H, W) and w (O, C, kh, kw) with the same C; got " +
                     shape_str(x.shape()) + " and " + shape_str(w.shape()));
  if (b && (b->ndim() != 1 || b->shape()[0] != w.shape()[0]))
    throw ShapeError(std::string("xgrad::") + op + ": the bias of shape " + shape_str(b->shape()) +
                     " does not match the " + std::to_string(w.shape()[0]) + " output channels of w " +
                     shape_str(w.shape()));
  const Patches p = patches(x.shape(), w.shape()[2], w.shape()[3], o.stride, o.padding, o.dilation, op);
  const auto O = static_cast<std::ptrdiff_t>(w.shape()[0]), K = static_cast<std::ptrdiff_t>(p.c * p.kh * p.kw);
  // (O, K) @ (K, N Ho Wo) -> (O, N, Ho Wo): one gemm for the batch, then N and O trade places.
  const Tensor gemm = matmul(reshape(w, {O, K}), im2col(x, p));
  const Shape out{p.n, static_cast<std::size_t>(O), p.ho, p.wo};
  const std::size_t L = p.ho * p.wo;
  return b ? to_nchw(gemm, *b, p.n, L, out) : swap_leading(gemm, static_cast<std::size_t>(O), p.n, L, out);
}

Conv2dOptions as_2d(const Conv1dOptions& o) { return {{1, o.stride}, {0, o.padding}, {1, o.dilation}}; }

Tensor conv1d_impl(const Tensor& x, const Tensor& w, const Tensor* b, const Conv1dOptions& o) {
  if (x.ndim() != 3 || w.ndim() != 3)
    throw ShapeError("xgrad::conv1d: needs x (N, C, L) and w (O, C, k); got " + shape_str(x.shape()) + " and " +
                     shape_str(w.shape()));
  const Tensor y = conv2d_impl(expand_dims(x, 2), expand_dims(w, 2), b, as_2d(o), "conv1d");
  return squeeze(y, 2);
}

// The pooling geometry: x (N, C, H, W) seen as N C images of one channel.
Patches windows_geometry(const Tensor& x, std::array<std::size_t, 2> window, const PoolOptions& o, const char* op) {
  if (x.ndim() != 4) throw ShapeError(std::string("xgrad::") + op + ": needs x (N, C, H, W), got " + shape_str(x.shape()));
  const std::array<std::size_t, 2> stride{o.stride[0] ? o.stride[0] : window[0], o.stride[1] ? o.stride[1] : window[1]};
  const Shape xs = x.shape();
  const Patches p = patches({xs[0] * xs[1], 1, xs[2], xs[3]}, window[0], window[1], stride, o.padding, {1, 1}, op);
  if (o.padding[0] * 2 > window[0] || o.padding[1] * 2 > window[1])
    throw ValueError(std::string("xgrad::") + op + ": padding must be at most half the window (as torch)");
  return p;
}

// The windows of x as (kh kw, N C Ho Wo).
Tensor windows(const Tensor& x, const Patches& p) {
  return im2col(reshape(x, {static_cast<std::ptrdiff_t>(p.n), 1, static_cast<std::ptrdiff_t>(p.h),
                            static_cast<std::ptrdiff_t>(p.w)}), p);
}

Tensor pooled(const Tensor& cols, const Shape& xs, const Patches& p) {
  return reshape(cols, {static_cast<std::ptrdiff_t>(xs[0]), static_cast<std::ptrdiff_t>(xs[1]),
                        static_cast<std::ptrdiff_t>(p.ho), static_cast<std::ptrdiff_t>(p.wo)});
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Conv2dOptions& o) { return conv2d_impl(x, w, nullptr, o, "conv2d"); }
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o) {
  return conv2d_impl(x, w, &b, o, "conv2d");
}
Tensor conv1d(const Tensor& x, const Tensor& w, const Conv1dOptions& o) { return conv1d_impl(x, w, nullptr, o); }
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dOptions& o) {
  return conv1d_impl(x, w, &b, o);
}

Tensor max_pool(const Tensor& x, std::array<std::size_t, 2> window, const PoolOptions& o) {
  const Patches p = windows_geometry(x, window, o, "max_pool");
  // The flat index in x of each window's largest element (the first, as torch; the first NaN if any, as numpy's
  // argmax); padding never wins. Then a gather of those elements, whose adjoint scatters each cotangent to its
  // window's maximum; the two are each other's adjoints, so derivatives compose to any order.
  const double* v = x.value().data();
  auto at = std::make_shared<Indices>();
  at->reserve(p.n * p.ho * p.wo);
  for (std::size_t img = 0; img < p.n; ++img)
    for (std::size_t oy = 0; oy < p.ho; ++oy)
      for (std::size_t ox = 0; ox < p.wo; ++ox) {
        std::ptrdiff_t best = -1;
        for (std::size_t i = 0; i < p.kh; ++i) {
          const auto y = static_cast<std::ptrdiff_t>(oy * p.sh + i) - static_cast<std::ptrdiff_t>(p.ph);
          if (y < 0 || y >= static_cast<std::ptrdiff_t>(p.h)) continue;
          for (std::size_t j = 0; j < p.kw; ++j) {
            const auto xx = static_cast<std::ptrdiff_t>(ox * p.sw + j) - static_cast<std::ptrdiff_t>(p.pw);
            if (xx < 0 || xx >= static_cast<std::ptrdiff_t>(p.w)) continue;
            const auto k = static_cast<std::ptrdiff_t>((img * p.h + static_cast<std::size_t>(y)) * p.w) + xx;
            if (best < 0 || (!std::isnan(v[best]) && (std::isnan(v[k]) || v[k] > v[best]))) best = k;
          }
        }
        at->push_back(static_cast<std::size_t>(best));
      }
  const Shape xs = x.shape();
  return gather_flat(x, std::move(at), {xs[0], xs[1], p.ho, p.wo});
}

Tensor avg_pool(const Tensor& x, std::array<std::size_t, 2> window, const PoolOptions& o) {
  const Patches p = windows_geometry(x, window, o, "avg_pool");
  return pooled(mean(windows(x, p), {0}), x.shape(), p);
}

}  // namespace xgrad
