#include "xgrad/ad/manipulation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <xtensor/xmanipulation.hpp>

#include "value_cache.hpp"
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/reduction.hpp"
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
  // A copy (values are not shared between nodes), into a cached array: a fresh one of megabytes pays its page faults.
  auto v = ad::cache::take(Array::shape_type(s.begin(), s.end()));
  std::copy(x.value().data(), x.value().data() + x.size(), v->data());
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

// ---------------------------------------------------------------------------------------------------------------
// Rearrangements: each is take along an axis with the right indices.

Tensor flip(const Tensor& x) {
  Tensor y = x;
  for (std::size_t d = 0; d < x.ndim(); ++d) y = flip(y, static_cast<std::ptrdiff_t>(d));
  return y;
}

Tensor flip(const Tensor& x, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::flip: a zero-dimensional tensor has no axis to flip");
  const std::size_t a = normalize_axis(axis, x.ndim(), "flip");
  std::vector<std::size_t> idx(x.shape()[a]);
  std::iota(idx.rbegin(), idx.rend(), std::size_t{0});
  return take_normalized(x, a, idx, "flip");
}

Tensor roll(const Tensor& x, std::ptrdiff_t shift) {
  return reshape(roll(reshape(x, {-1}), shift, 0), to_ints(x.shape()));
}

Tensor roll(const Tensor& x, std::ptrdiff_t shift, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::roll: a zero-dimensional tensor has no axis to roll");
  const std::size_t a = normalize_axis(axis, x.ndim(), "roll");
  const auto n = static_cast<std::ptrdiff_t>(x.shape()[a]);
  if (n == 0 || shift % n == 0) return x;
  std::vector<std::size_t> idx(static_cast<std::size_t>(n));
  for (std::ptrdiff_t j = 0; j < n; ++j) idx[static_cast<std::size_t>(j)] = static_cast<std::size_t>(((j - shift) % n + n) % n);
  return take_normalized(x, a, idx, "roll");
}

Tensor pad(const Tensor& x, const std::vector<std::pair<std::size_t, std::size_t>>& pad_width, double constant_values) {
  if (pad_width.size() != 1 && pad_width.size() != x.ndim())
    throw ShapeError("xgrad::pad: " + std::to_string(pad_width.size()) + " (before, after) pairs for a tensor of shape " +
                     shape_str(x.shape()) + " (give one pair per axis, or one for all)");
  Tensor y = x;
  for (std::size_t d = 0; d < x.ndim(); ++d) {
    const auto [before, after] = pad_width.size() == 1 ? pad_width[0] : pad_width[d];
    if (before == 0 && after == 0) continue;
    {
      Shape out = y.shape();
      const std::size_t room = std::numeric_limits<std::size_t>::max() - out[d];
      if (before > room || after > room - before)
        throw ShapeError("xgrad::pad: padding axis " + std::to_string(d) + " of shape " + shape_str(x.shape()) +
                         " overflows its extent");
      out[d] += before + after;
      shape_size(out, "pad");
    }
    auto block = [&](std::size_t extent) {
      Shape s = y.shape();
      s[d] = extent;
      Array b = Array::from_shape(s);
      b.fill(constant_values);
      return Tensor(std::move(b));
    };
    std::vector<Tensor> parts;
    if (before) parts.push_back(block(before));
    parts.push_back(y);
    if (after) parts.push_back(block(after));
    y = concatenate(parts, static_cast<std::ptrdiff_t>(d));
  }
  return y;
}

Tensor tile(const Tensor& x, const std::vector<std::size_t>& reps) {
  {  // the result's shape, checked for overflow before any index list is built
    Shape out = x.shape();
    while (out.size() < reps.size()) out.insert(out.begin(), 1);
    for (std::size_t d = 0; d < reps.size(); ++d) {
      const std::size_t i = out.size() - reps.size() + d;
      if (reps[d] != 0 && out[i] > std::numeric_limits<std::size_t>::max() / reps[d])
        throw ShapeError("xgrad::tile: tiling shape " + shape_str(x.shape()) + " overflows the size of an extent");
      out[i] *= reps[d];
    }
    shape_size(out, "tile");
  }
  Tensor y = x;
  while (y.ndim() < reps.size()) y = expand_dims(y, 0);
  const std::size_t skip = y.ndim() - reps.size();  // fewer reps than axes: they count for the last axes
  for (std::size_t d = skip; d < y.ndim(); ++d) {
    const std::size_t r = reps[d - skip], n = y.shape()[d];
    if (r == 1) continue;
    std::vector<std::size_t> idx;
    idx.reserve(r * n);
    for (std::size_t k = 0; k < r; ++k)
      for (std::size_t i = 0; i < n; ++i) idx.push_back(i);
    y = take_normalized(y, d, idx, "tile");
  }
  return y;
}

Tensor repeat(const Tensor& x, std::size_t repeats) { return repeat(reshape(x, {-1}), repeats, 0); }

Tensor repeat(const Tensor& x, std::size_t repeats, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::repeat: a zero-dimensional tensor has no axis (repeat it flattened)");
  const std::size_t a = normalize_axis(axis, x.ndim(), "repeat");
  if (repeats == 1) return x;
  if (repeats != 0 && x.shape()[a] > std::numeric_limits<std::size_t>::max() / repeats)
    throw ShapeError("xgrad::repeat: " + std::to_string(repeats) + " repeats of axis " + std::to_string(a) +
                     " of shape " + shape_str(x.shape()) + " overflow");
  {
    Shape out = x.shape();
    out[a] *= repeats;
    shape_size(out, "repeat");
  }
  std::vector<std::size_t> idx;
  idx.reserve(repeats * x.shape()[a]);
  for (std::size_t i = 0; i < x.shape()[a]; ++i)
    for (std::size_t k = 0; k < repeats; ++k) idx.push_back(i);
  return take_normalized(x, a, idx, "repeat");
}

// ---------------------------------------------------------------------------------------------------------------
// Diagonals and triangles.

Tensor diagonal(const Tensor& x, std::ptrdiff_t offset, std::ptrdiff_t axis1, std::ptrdiff_t axis2) {
  if (x.ndim() < 2)
    throw ShapeError("xgrad::diagonal: needs at least 2 axes, got shape " + shape_str(x.shape()));
  const std::size_t a1 = normalize_axis(axis1, x.ndim(), "diagonal"), a2 = normalize_axis(axis2, x.ndim(), "diagonal");
  if (a1 == a2) throw ValueError("xgrad::diagonal: axis1 and axis2 are the same axis " + std::to_string(a1));
  std::vector<std::size_t> perm;
  for (std::size_t d = 0; d < x.ndim(); ++d)
    if (d != a1 && d != a2) perm.push_back(d);
  perm.push_back(a1);
  perm.push_back(a2);
  const Tensor t = transpose(x, perm);
  const auto rows = static_cast<std::ptrdiff_t>(x.shape()[a1]), cols = static_cast<std::ptrdiff_t>(x.shape()[a2]);
  const Shape ts = t.shape();
  std::vector<std::ptrdiff_t> flat_shape(ts.begin(), ts.end() - 2);
  flat_shape.push_back(rows * cols);
  // Element (i - min(offset, 0), i + max(offset, 0)) of each plane, in the plane's row-major flattening.
  std::vector<std::size_t> idx;
  for (std::ptrdiff_t r = std::max<std::ptrdiff_t>(-offset, 0), c = std::max<std::ptrdiff_t>(offset, 0); r < rows && c < cols;
       ++r, ++c)
    idx.push_back(static_cast<std::size_t>(r * cols + c));
  return take_normalized(reshape(t, flat_shape), flat_shape.size() - 1, idx, "diagonal");
}

Tensor trace(const Tensor& x, std::ptrdiff_t offset, std::ptrdiff_t axis1, std::ptrdiff_t axis2) {
  const Tensor d = diagonal(x, offset, axis1, axis2);
  return sum(d, {static_cast<std::ptrdiff_t>(d.ndim()) - 1});
}

Tensor diag(const Tensor& v, std::ptrdiff_t k) {
  if (v.ndim() == 2) return diagonal(v, k);
  if (v.ndim() != 1) throw ShapeError("xgrad::diag: needs a 1-D or 2-D tensor, got shape " + shape_str(v.shape()));
  const std::size_t len = v.shape()[0], n = len + static_cast<std::size_t>(k < 0 ? -k : k);
  shape_size(Shape{n, n}, "diag");
  const std::size_t r0 = static_cast<std::size_t>(std::max<std::ptrdiff_t>(-k, 0)),
                    c0 = static_cast<std::size_t>(std::max<std::ptrdiff_t>(k, 0));
  std::vector<std::size_t> pos(len);
  for (std::size_t i = 0; i < len; ++i) pos[i] = (r0 + i) * n + c0 + i;
  return reshape(take_adjoint(v, Shape{n * n}, 0, pos), {static_cast<std::ptrdiff_t>(n), static_cast<std::ptrdiff_t>(n)});
}

namespace {

// The elements of the last two axes outside the band kept by triu (upper) or tril, set to zero. Linear and
// self-adjoint: its backward is the same mask applied to the cotangent.
Tensor triangle(const Tensor& x, std::ptrdiff_t k, bool upper) {
  const char* op = upper ? "triu" : "tril";
  if (x.ndim() < 2)
    throw ShapeError(std::string("xgrad::") + op + ": needs at least 2 axes, got shape " + shape_str(x.shape()));
  const std::size_t rows = x.shape()[x.ndim() - 2], cols = x.shape()[x.ndim() - 1];
  Array v = x.value();
  double* p = v.data();
  for (std::size_t b = 0; b < x.size() / std::max<std::size_t>(rows * cols, 1); ++b)
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < cols; ++j) {
        const auto diff = static_cast<std::ptrdiff_t>(j) - static_cast<std::ptrdiff_t>(i);
        if (upper ? diff < k : diff > k) p[(b * rows + i) * cols + j] = 0.0;
      }
  return make(op, std::move(v), {x},
              [](const Node& n, const Tensor& g, Grads& d) { d(0, triangle(g, n.ints()[0], n.ints()[1] != 0)); },
              {.ints = {k, upper ? 1 : 0}});
}

// An integer index in [-n, n) held in a double, normalised to [0, n); ValueError otherwise.
std::size_t index_value(double v, std::size_t n, const char* op, const Shape& shape) {
  if (!(v == std::floor(v)) || v < -static_cast<double>(n) || v >= static_cast<double>(n))
    throw ValueError(std::string("xgrad::") + op + ": index " + std::to_string(v) + " is not an integer in [-" +
                     std::to_string(n) + ", " + std::to_string(n) + ") for an axis of extent " + std::to_string(n) +
                     " of shape " + shape_str(shape));
  return static_cast<std::size_t>(v < 0 ? v + static_cast<double>(n) : v);
}

}  // namespace

Tensor triu(const Tensor& x, std::ptrdiff_t k) { return triangle(x, k, true); }
Tensor tril(const Tensor& x, std::ptrdiff_t k) { return triangle(x, k, false); }

// ---------------------------------------------------------------------------------------------------------------
// Indexing with arrays of indices.

Tensor take_along_axis(const Tensor& x, const Array& indices, std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::take_along_axis: a zero-dimensional tensor has no axis to index");
  const std::size_t a = normalize_axis(axis, x.ndim(), "take_along_axis");
  const Shape is = shape_of(indices);
  bool ok = is.size() == x.ndim();
  for (std::size_t d = 0; ok && d < is.size(); ++d) ok = d == a || is[d] == x.shape()[d];
  if (!ok)
    throw ShapeError("xgrad::take_along_axis: indices of shape " + shape_str(is) + " for a tensor of shape " +
                     shape_str(x.shape()) + " along axis " + std::to_string(a) +
                     " (they need its number of axes and its extents outside the axis)");
  // The flat position in x of each element of the result: (p * n + indices(p, j, q)) * post + q.
  const Split sx(x.shape(), a), si(is, a);
  std::vector<std::size_t> flat(indices.size());
  for (std::size_t p = 0; p < si.pre; ++p)
    for (std::size_t j = 0; j < si.n; ++j)
      for (std::size_t q = 0; q < si.post; ++q) {
        const std::size_t e = (p * si.n + j) * si.post + q;
        flat[e] = (p * sx.n + index_value(indices.data()[e], sx.n, "take_along_axis", x.shape())) * sx.post + q;
      }
  return reshape(take_normalized(reshape(x, {-1}), 0, flat, "take_along_axis"), to_ints(is));
}

Tensor scatter_add(const Tensor& x, const std::vector<std::ptrdiff_t>& indices, const Tensor& updates,
                   std::ptrdiff_t axis) {
  if (x.ndim() == 0) throw ShapeError("xgrad::scatter_add: a zero-dimensional tensor has no axis to index");
  const std::size_t a = normalize_axis(axis, x.ndim(), "scatter_add");
  Shape want = x.shape();
  want[a] = indices.size();
  if (updates.shape() != want)
    throw ShapeError("xgrad::scatter_add: updates of shape " + shape_str(updates.shape()) + " for " +
                     std::to_string(indices.size()) + " indices along axis " + std::to_string(a) +
                     " of a tensor of shape " + shape_str(x.shape()) + " (expected " + shape_str(want) + ")");
  std::vector<std::size_t> idx;
  idx.reserve(indices.size());
  for (auto i : indices) idx.push_back(index_value(static_cast<double>(i), x.shape()[a], "scatter_add", x.shape()));
  return x + take_adjoint(updates, x.shape(), a, idx);
}

Tensor one_hot(const Array& labels, std::size_t num_classes) {
  Shape s = shape_of(labels);
  s.push_back(num_classes);
  shape_size(s, "one_hot");
  Array out = xt::zeros<double>(s);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double v = labels.data()[i];
    if (!(v == std::floor(v)))
      throw ValueError("xgrad::one_hot: label " + std::to_string(v) + " (element " + std::to_string(i) +
                       ") is not an integer");
    if (v >= 0 && v < static_cast<double>(num_classes)) out.data()[i * num_classes + static_cast<std::size_t>(v)] = 1.0;
  }
  return Tensor(std::move(out));
}

}  // namespace xgrad
