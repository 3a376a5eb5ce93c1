#pragma once
// Array (= xt::xarray<double>), shapes, numpy broadcasting of shapes, and the axes that undo a broadcast.
#include <cstddef>
#include <string>
#include <vector>

#ifdef XTENSOR_USE_XSIMD
#error "xgrad is built with XTENSOR_USE_XSIMD off (it changes the type of xt::xarray); do not define it in code that uses xgrad. See docs/ARCHITECTURE.md."
#endif
#include <xtensor/xarray.hpp>

namespace xgrad {

/// The value type of the library: a dense, row-major, dynamically shaped array of doubles.
using Array = xt::xarray<double>;
/// A shape, as a plain vector of extents.
using Shape = std::vector<std::size_t>;

/// "(2,3)", "()" for a scalar: the form every error message uses.
std::string shape_str(const Shape& s);
/// Shape of an array as a Shape.
Shape shape_of(const Array& a);
/// Number of elements of a shape (1 for the scalar shape ()). Throws ShapeError naming `op` and the shape when the
/// product of extents overflows or the doubles would not fit in memory's address space (more than PTRDIFF_MAX
/// bytes): every place that multiplies extents goes through it, so no element count ever wraps around.
std::size_t shape_size(const Shape& s, const char* op = "shape_size");

/// numpy broadcasting of two shapes; throws ShapeError naming `op` and both shapes when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast_shapes");

/// The axes of `to` (an output of broadcasting) that must be summed to get back `from`'s size, for a gradient.
/// `leading` receives the number of leading axes that `from` lacks altogether; the returned axes are those of
/// `to` (including the leading ones) to sum over. After summing them (no keepdims) and reshaping to `from`,
/// the result has shape `from`.
std::vector<std::size_t> broadcast_reduce_axes(const Shape& from, const Shape& to);

/// `a` broadcast to `shape` (numpy.broadcast_to, evaluated); throws ShapeError when it does not broadcast.
Array broadcast_array(const Array& a, const Shape& shape);

/// Sum `g` (shape `to`) down to shape `from`, undoing a numpy broadcast of `from` to `to`.
Array unbroadcast(const Array& g, const Shape& from);

/// Normalise a possibly negative axis against `ndim`; throws ShapeError naming `op` when out of range.
std::size_t normalize_axis(std::ptrdiff_t axis, std::size_t ndim, const char* op);

}  // namespace xgrad
