#include "xgrad/core/array.hpp"

#include <xtensor/xmath.hpp>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cstdint>

#include "xgrad/core/error.hpp"

namespace xgrad {

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[i]);
  }
  return out + ")";
}

Shape shape_of(const Array& a) { return Shape(a.shape().begin(), a.shape().end()); }

std::size_t shape_size(const Shape& s, const char* op) {
  constexpr std::size_t limit = static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(double);
  std::size_t n = 1;
  bool over = false;
  for (auto d : s) over |= __builtin_mul_overflow(n, d, &n);
  // A zero extent makes the product 0 however large the others: numpy accepts (0, 2^62) and so do we.
  if ((over || n > limit) && std::find(s.begin(), s.end(), std::size_t{0}) == s.end())
    throw ShapeError(std::string("xgrad::") + op + ": shape " + shape_str(s) +
                     " has more elements than memory can hold (at most " + std::to_string(limit) + " doubles)");
  return over ? 0 : n;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Align from the right, as numpy does.
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(std::string("xgrad::") + op + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                       " do not broadcast (axis " + std::to_string(i) + ": " + std::to_string(da) + " vs " +
                       std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  shape_size(out, op);  // two shapes that each fit can broadcast to one that does not
  return out;
}

std::vector<std::size_t> broadcast_reduce_axes(const Shape& from, const Shape& to) {
  std::vector<std::size_t> axes;
  const std::size_t lead = to.size() - from.size();
  for (std::size_t i = 0; i < to.size(); ++i)
    if (i < lead || (from[i - lead] == 1 && to[i] != 1)) axes.push_back(i);
  return axes;
}

Array broadcast_array(const Array& a, const Shape& shape) {
  const Shape from = shape_of(a);
  if (broadcast_shapes(from, shape, "broadcast_to") != shape)
  {
    std::string msg = "xgrad::broadcast_to: cannot broadcast ";
    msg += shape_str(from);
    msg += " to ";
    msg += shape_str(shape);
    throw ShapeError(msg);
  }
  Array out = Array::from_shape(shape);
  const std::size_t n_in = a.size(), n_out = out.size();
  if (n_in == 1) {  // a scalar everywhere (the adjoint of a full reduction)
    std::fill(out.begin(), out.end(), a.data()[0]);
  } else if (n_in > 0 && std::equal(from.begin(), from.end(), shape.end() - static_cast<std::ptrdiff_t>(from.size()))) {
    for (std::size_t r = 0; r < n_out / n_in; ++r) std::copy(a.data(), a.data() + n_in, out.data() + r * n_in);
  } else {
    out = xt::broadcast(a, shape);
  }
  return out;
}

Array unbroadcast(const Array& g, const Shape& from) {
  const Shape to = shape_of(g);
  if (to == from) return g;
  if (to.size() < from.size())
    throw ShapeError("xgrad::unbroadcast: cannot reduce " + shape_str(to) + " to " + shape_str(from));
  broadcast_shapes(from, to, "unbroadcast");  // validates
  const std::size_t n_out = shape_size(from), n_in = g.size();
  if (n_out == 1) {  // everything into one value
    Array out = xt::zeros<double>(from);
    double acc = 0.0;
    for (std::size_t i = 0; i < n_in; ++i) acc += g.data()[i];
    out.data()[0] = acc;
    return out;
  }
  // Leading 1-extents of `from` (keepdims over the batch) do not change its layout.
  const auto core = std::find_if(from.begin(), from.end(), [](std::size_t e) { return e != 1; });
  const auto core_size = static_cast<std::ptrdiff_t>(from.end() - core);
  if (n_out > 0 && std::equal(core, from.end(), to.end() - core_size)) {
    // Only leading axes are summed (a bias broadcast over a batch): add rows of length n_out.
    Array out = xt::zeros<double>(from);
    double* o = out.data();
    for (std::size_t r = 0; r < n_in / n_out; ++r) {
      const double* src = g.data() + r * n_out;
      for (std::size_t j = 0; j < n_out; ++j) o[j] += src[j];
    }
    return out;
  }
  // Pad `from` with leading 1s, then sum every axis where it is 1 and g's is not. A direct strided loop:
  // xtensor 0.24's immediate reducer crashes on dynamic axes, and its lazy one is slower.
  const std::size_t nd = to.size(), lead = nd - from.size();
  std::vector<std::size_t> ostride(nd, 0);
  std::size_t stride = 1;
  for (std::size_t d = nd; d-- > lead;) {
    const std::size_t fd = from[d - lead];
    ostride[d] = fd == 1 ? 0 : stride;
    stride *= fd;
  }
  Array out = xt::zeros<double>(from);
  double* o = out.data();
  const double* src = g.data();
  const std::size_t n = g.size();
  if (n == 0) return out;
  std::vector<std::size_t> idx(nd, 0);
  std::size_t off = 0;
  for (std::size_t k = 0; k < n; ++k) {
    o[off] += src[k];
    for (std::size_t d = nd; d-- > 0;) {  // odometer increment of the multi-index
      off += ostride[d];
      if (++idx[d] < to[d]) break;
      off -= ostride[d] * to[d];
      idx[d] = 0;
    }
  }
  return out;
}

std::size_t normalize_axis(std::ptrdiff_t axis, std::size_t ndim, const char* op) {
  const auto n = static_cast<std::ptrdiff_t>(ndim);
  if (axis < -n || axis >= n)
    throw ShapeError(std::string("xgrad::") + op + ": axis " + std::to_string(axis) + " is out of range for " +
                     std::to_string(ndim) + "-d input");
  return static_cast<std::size_t>(axis < 0 ? axis + n : axis);
}

}  // namespace xgrad
