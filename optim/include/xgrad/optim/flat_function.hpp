#pragma once
// A vector function of one Tensor on the flat view: residuals r(x, args...) for least squares, F(x, args...) for root
// finding. Its value and its Jacobian at flat x (xgrad::jacobian: reverse rows or forward columns, whichever are
// fewer), and the way back to x's shape. Written once for LevenbergMarquardt and the root finders; it refers to
// f and args, so it lives inside the call that made it.
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/ravel.hpp"
#include "xgrad/ad/transforms.hpp"
#include "xgrad/core/tree.hpp"
#include "xgrad/core/flat.hpp"

namespace xgrad::optim::detail {

/// f on flat arrays (see the header comment).
struct FlatVectorFunction {
  std::function<Array(const Array&)> value;     ///< f(x), flat
  std::function<Array(const Array&)> jacobian;  ///< df/dx, (size of f) x (size of x)
  Shape shape{};                                ///< x's shape

  /// Flat z as a Tensor of x's shape.
  Tensor as_x(const Array& z) const {
    Array a = z;
    a.reshape(shape);
    return Tensor(std::move(a));
  }
};

/// f(x, args...) for x of `shape` on the flat view.
template <class F, class... Args>
FlatVectorFunction flat_vector_function(const F& f, const Shape& shape, const Args&... args) {
  FlatVectorFunction out;
  out.shape = shape;
  out.value = [&f, shape, &args...](const Array& z) {
    Array a = z;
    a.reshape(shape);
    return flat::values(f(Tensor(std::move(a)), args...).value());
  };
  out.jacobian = [&f, shape, &args...](const Array& z) {
    const std::vector<std::ptrdiff_t> dims(shape.begin(), shape.end());
    auto flat_f = [&](const Tensor& v) { return reshape(f(reshape(v, dims), args...), {-1}); };
    return Array(xgrad::jacobian(flat_f)(Tensor(z)));
  };
  return out;
}

/// f(x, args...) for x a pytree of Tensors shaped like `like`, on tree::ravel's flat view (f, like and args are held
/// by reference: the result must not outlive them); f returns a Tensor of any shape. `shape` is left empty (as_x is for a single Tensor).
template <class X, class F, class... Args>
FlatVectorFunction flat_tree_function(const F& f, const X& like, const Args&... args) {
  // Array leaves would be constants to the AD core: a zero Jacobian and a run that stops at x0.
  tree::for_each([](const auto& leaf) {
    static_assert(std::is_same_v<std::decay_t<decltype(leaf)>, Tensor>,
                  "the parameters of a least-squares solver or root finder must be Tensors or pytrees of Tensors "
                  "(wrap an Array start in Tensor(...))");
  }, like);
  FlatVectorFunction out;
  out.value = [&f, unravel = tree::ravel(like).second, &args...](const Array& z) {
    return flat::values(Tensor(f(unravel(z), args...)).value());
  };
  out.jacobian = [&f, &like, &args...](const Array& z) {
    auto flat_f = [&](const Tensor& v) { return reshape(Tensor(f(unravel_tensors(v, like), args...)), {-1}); };
    return Array(xgrad::jacobian(flat_f)(Tensor(z)));
  };
  return out;
}

}  // namespace xgrad::optim::detail
