#include "xgrad/ad/manipulation.hpp"

#include <algorithm>
#include <numeric>
#include <xtensor/xmanipulation.hpp>

#include "xgrad/ad/tape.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

using ad::Grads;
using ad::make;
using ad::Node;

namespace {

std::vector<std::ptrdiff_t> to_ints(const Shape& s) { return {s.begin(), s.end()}; }

// (pre, n, post) view of a shape around `axis`: element (p, i, q) sits at (p * n + i) * post + q.
struct Split {
  std::size_t pre = 1, n = 1, post = 1;
  Split(const Shape& s, std::size_t axis) {
    for (std::size_t d = 0; d < s.size(); ++d) (d < axis ? pre : d == axis ? n : post) *= s[d];
  }
};

// out(p, j, q) = x(p, idx[j], q)
Array gather(const Array& x, std::size_t axis, const std::vector<std::size_t>& idx) {
  const Shape xs = shape_of(x);
  Split sp(xs, axis);
  Shape os = xs;
  os[axis] = idx.size();
  Array out = Array::from_shape(os);
  const double* src = x.data();
  double* dst = out.data();
  for (std::size_t p = 0; p < sp.pre; ++p)
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const double* row = src + (p * sp.n + idx[j]) * sp.post;
      std::copy(row, row + sp.post, dst + (p * idx.size() + j) * sp.post);
    }
  return out;
}

// out = zeros(shape); out(p, idx[j], q) += g(p, j, q)
Array scatter_add(const Array& g, const Shape& shape, std::size_t axis, const std::vector<std::size_t>& idx) {
  Split sp(shape, axis);
  Array out = xt::zeros<double>(shape);
  const double* src = g.data();
  double* dst = out.data();
  for (std::size_t p = 0; p < sp.pre; ++p)
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const double* row = src + (p * idx.size() + j) * sp.post;
      double* o = dst + (p * sp.n + idx[j]) * sp.post;
      for (std::size_t q = 0; q < sp.post; ++q) o[q] += row[q];
    }
  return out;
}

// ints layout for take and its adjoint: [axis, extent of the axis in the source, indices...]
std::vector<std::size_t> indices_of(const Node& n) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 2; i < n.ints().size(); ++i) idx.push_back(static_cast<std::size_t>(n.ints()[i]));
  return idx;
}

Tensor take_normalized(const Tensor& x, std::size_t axis, const std::vector<std::size_t>& idx, const char* op);

// Scatter-add of g into zeros of `shape` along `axis`: the adjoint of take, whose own adjoint is take.
Tensor take_adjoint(const Tensor& g, const Shape& shape, std::size_t axis, const std::vector<std::size_t>& idx) {
  std::vector<std::ptrdiff_t> ints{static_cast<std::ptrdiff_t>(axis), static_cast<std::ptrdiff_t>(shape[axis])};
  ints.insert(ints.end(), idx.begin(), idx.end());
  return make("take_adjoint", scatter_add(g.value(), shape, axis, idx), {g},
              [](const Node& n, const Tensor& g, Grads& d) {
                d(0, take_normalized(g, static_cast<std::size_t>(n.ints()[0]), indices_of(n), "take"));
              },
              {.ints = std::move(ints)});
}

Tensor take_normalized(const Tensor& x, std::size_t axis, const std::vector<std::size_t>& idx, const char* op) {
  std::vector<std::ptrdiff_t> ints{static_cast<std::ptrdiff_t>(axis), static_cast<std::ptrdiff_t>(x.shape()[axis])};
  ints.insert(ints.end(), idx.begin(), idx.end());
  return make(op, gather(x.value(), axis, idx), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                d(0, take_adjoint(g, n.in(0).shape(), static_cast<std::size_t>(n.ints()[0]), indices_of(n)));
              },
              {.ints = std::move(ints)});
}

}  // namespace

Tensor reshape(const Tensor& x, const std::vector<std::ptrdiff_t>& shape) {
  Shape s(shape.size(), 1);
  std::ptrdiff_t infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw ShapeError("xgrad::reshape: more than one -1 in the new shape");
      infer = static_cast<std::ptrdiff_t>(i);
    } else if (shape[i] < 0) {
      throw ShapeError("xgrad::reshape: negative extent " + std::to_string(shape[i]));
    } else {
      s[i] = static_cast<std::size_t>(shape[i]);
    }
  }
  const std::size_t known = shape_size(s, "reshape");  // the -1 counts as 1 here
  if (infer >= 0) s[static_cast<std::size_t>(infer)] = known == 0 ? 0 : x.size() / known;
  if (shape_size(s, "reshape") != x.size())
    throw ShapeError("xgrad::reshape: cannot reshape " + shape_str(x.shape()) + " (" + std::to_string(x.size()) +
                     " elements) to " + shape_str(s));
  if (s == x.shape()) return x;
  Array v = x.value();
  v.reshape(s);
  return make("reshape", std::move(v), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, reshape(g, to_ints(n.in(0).shape()))); });
}

Tensor transpose(const Tensor& x) {
  std::vector<std::size_t> perm(x.ndim());
  std::iota(perm.rbegin(), perm.rend(), std::size_t{0});
  return transpose(x, perm);
}

Tensor transpose(const Tensor& x, const std::vector<std::size_t>& perm) {
  std::vector<std::size_t> seen(perm.size(), 0);
  bool ok = perm.size() == x.ndim();
  for (auto p : perm) ok = ok && p < perm.size() && !seen[p]++;
  if (!ok)
    throw ShapeError("xgrad::transpose: the permutation is not a permutation of the " + std::to_string(x.ndim()) +
                     " axes of shape " + shape_str(x.shape()));
  if (std::is_sorted(perm.begin(), perm.end())) return x;
  Array v = xt::transpose(x.value(), perm);
  return make("transpose", std::move(v), {x},
              [](const Node& n, const Tensor& g, Grads& d) {
                std::vector<std::size_t> inv(n.ints().size());
                for (std::size_t i = 0; i < inv.size(); ++i) inv[static_cast<std::size_t>(n.ints()[i])] = i;
                d(0, transpose(g, inv));
              },
              {.ints = {perm.begin(), perm.end()}});
}

Tensor squeeze(const Tensor& x) {
  std::vector<std::ptrdiff_t> s;
  for (auto d : x.shape())
    if (d != 1) s.push_back(static_cast<std::ptrdiff_t>(d));
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, std::ptrdiff_t axis) {
  const std::size_t a = normalize_axis(axis, x.ndim(), "squeeze");
  if (x.shape()[a] != 1)
    throw ShapeError("xgrad::squeeze: axis " + std::to_string(axis) + " of shape " + shape_str(x.shape()) +
                     " does not have size 1");
  auto s = to_ints(x.shape());
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(a));
  return reshape(x, s);
}

Tensor expand_dims(const Tensor& x, std::ptrdiff_t axis) {
  const std::size_t a = normalize_axis(axis, x.ndim() + 1, "expand_dims");
  auto s = to_ints(x.shape());
  s.insert(s.begin() + static_cast<std::ptrdiff_t>(a), 1);
  return reshape(x, s);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  shape_size(shape, "broadcast_to");
  if (broadcast_shapes(x.shape(), shape, "broadcast_to") != shape)
    throw ShapeError("xgrad::broadcast_to: cannot broadcast " + shape_str(x.shape()) + " to " + shape_str(shape));
  if (x.shape() == shape) return x;
  return make("broadcast_to", broadcast_array(x.value(), shape), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, sum_to(g, n.in(0).shape())); });
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (broadcast_shapes(shape, x.shape(), "sum_to") != x.shape())
    throw ShapeError("xgrad::sum_to: " + shape_str(x.shape()) + " is not a broadcast of " + shape_str(shape));
  return make("sum_to", unbroadcast(x.value(), shape), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, broadcast_to(g, n.in(0).shape())); });
}

Tensor concatenate(const std::vector<Tensor>& xs, std::ptrdiff_t axis) {
  if (xs.empty()) throw ValueError("xgrad::concatenate: needs at least one tensor");
  const Shape s0 = xs[0].shape();
  if (s0.empty()) throw ShapeError("xgrad::concatenate: zero-dimensional tensors cannot be concatenated");
  const std::size_t a = normalize_axis(axis, s0.size(), "concatenate");
  Shape out = s0;
  out[a] = 0;
  for (const auto& x : xs) {
    Shape s = x.shape();
    bool ok = s.size() == s0.size();
    for (std::size_t d = 0; ok && d < s.size(); ++d) ok = d == a || s[d] == s0[d];
    if (!ok)
      throw ShapeError("xgrad::concatenate: shapes " + shape_str(s0) + " and " + shape_str(s) +
                       " differ outside axis " + std::to_string(a));
    out[a] += s[a];
  }
  Array v = Array::from_shape(out);
  Split so(out, a);
  std::size_t offset = 0;
  for (const auto& x : xs) {
    Split sx(x.shape(), a);
    for (std::size_t p = 0; p < sx.pre; ++p) {
      const double* src = x.value().data() + p * sx.n * sx.post;
      std::copy(src, src + sx.n * sx.post, v.data() + (p * so.n + offset) * so.post);
    }
    offset += sx.n;
  }
  std::vector<std::ptrdiff_t> ints{static_cast<std::ptrdiff_t>(a)};
  for (const auto& x : xs) ints.push_back(static_cast<std::ptrdiff_t>(x.shape()[a]));
  return make("concatenate", std::move(v), std::vector<Tensor>(xs),
              [](const Node& n, const Tensor& g, Grads& d) {
                const auto ax = n.ints()[0];
                std::ptrdiff_t off = 0;
                for (std::size_t i = 0; i < n.num_inputs(); ++i) {
                  const std::ptrdiff_t len = n.ints()[i + 1];
                  if (d.needs(i)) d(i, slice(g, ax, off, off + len));
                  off += len;
                }
              },
              {.ints = std::move(ints)});
}

Tensor stack(const std::vector<Tensor>& xs, std::ptrdiff_t axis) {
  if (xs.empty()) throw ValueError("xgrad::stack: needs at least one tensor");
  const std::size_t a = normalize_axis(axis, xs[0].ndim() + 1, "stack");
  std::vector<Tensor> ys;
  for (const auto& x : xs) {
    if (x.shape() != xs[0].shape())
      throw ShapeError("xgrad::stack: shapes " + shape_str(xs[0].shape()) + " and " + shape_str(x.shape()) + " differ");
    ys.push_back(expand_dims(x, static_cast<std::ptrdiff_t>(a)));
  }
  return concatenate(ys, static_cast<std::ptrdiff_t>(a));
}

Tensor slice(const Tensor& x, std::ptrdiff_t axis, std::ptrdiff_t start, std::ptrdiff_t stop, std::ptrdiff_t step) {
  if (x.ndim() == 0) throw ShapeError("xgrad::slice: a zero-dimensional tensor cannot be sliced");
  const std::size_t a = normalize_axis(axis, x.ndim(), "slice");
  if (step == 0) throw ValueError("xgrad::slice: step must not be zero");
  const auto n = static_cast<std::ptrdiff_t>(x.shape()[a]);
  // Python's slice.indices: negative bounds count from the end, then clamp.
  auto fix = [&](std::ptrdiff_t i, bool is_stop) {
    if (i < 0) i += n;
    const std::ptrdiff_t lo = step > 0 ? 0 : -1, hi = step > 0 ? n : n - 1;
    (void)is_stop;
    return std::clamp(i, lo, hi);
  };
  const std::ptrdiff_t b = fix(start, false), e = fix(stop, true);
  std::vector<std::size_t> idx;
  for (std::ptrdiff_t i = b; step > 0 ? i < e : i > e; i += step) idx.push_back(static_cast<std::size_t>(i));
  if (step == 1 && idx.size() == static_cast<std::size_t>(n)) return x;
  return take_normalized(x, a, idx, "slice");
}

Tensor take(const Tensor& x, const std::vector<std::ptrdiff_t>& indices) {
  return take(reshape(x, {-1}), indices, 0);
}

Tensor take(const Tensor& x, const std::vector<std::ptrdiff_t>& indices, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::take: a zero-dimensional tensor has no axis to index");
  const std::size_t a = normalize_axis(axis, x.ndim(), "take");
  const auto n = static_cast<std::ptrdiff_t>(x.shape()[a]);
  std::vector<std::size_t> idx;
  idx.reserve(indices.size());
  for (auto i : indices) {
    if (i < -n || i >= n)
      throw ValueError("xgrad::take: index " + std::to_string(i) + " is out of range for axis " + std::to_string(a) +
                       " of shape " + shape_str(x.shape()));
    idx.push_back(static_cast<std::size_t>(i < 0 ? i + n : i));
  }
  return take_normalized(x, a, idx, "take");
}

}  // namespace xgrad
