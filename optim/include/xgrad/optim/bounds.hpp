#pragma once
// Box bounds l <= x <= u on the parameters, for the bounded solvers (LBFGSB): on the flat view (tree::ravel order),
// each side a single number for every coordinate, one number per coordinate, or nothing (unbounded). Infinite
// values are allowed (a coordinate bounded on one side only), l = u fixes a coordinate.
//
//   optim::Bounds{.lower = {0.0}}                             // x >= 0 everywhere
//   optim::Bounds{.lower = {0.0, -inf}, .upper = {1.0, 5.0}}  // per coordinate
//   optim::Bounds::of(lower_params, upper_params)             // pytrees shaped like the parameters (or doubles)
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/core/array.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::optim {

/// Box bounds on the flat view (see the header comment).
struct Bounds {
  std::vector<double> lower{};  ///< empty: -inf; one value: for every coordinate; else one per coordinate
  std::vector<double> upper{};  ///< empty: +inf; as lower

  /// Bounds from two pytrees shaped like the parameters, or doubles (the same for every coordinate).
  template <class L, class U>
  static Bounds of(const L& lower, const U& upper) {
    return {side(lower), side(upper)};
  }

  /// Both sides expanded to n coordinates; throws ShapeError (a size that is neither 0, 1 nor n) or ValueError
  /// (a NaN, or lower > upper somewhere), naming `who`.
  std::pair<Array, Array> expand(std::size_t n, const std::string& who) const;

 private:
  template <class T>
  static std::vector<double> side(const T& v) {
    if constexpr (std::is_arithmetic_v<T>) {
      return {static_cast<double>(v)};
    } else {
      const Array a = tree::ravel(v).first;
      return std::vector<double>(a.begin(), a.end());
    }
  }
};

/// x projected onto [l, u] (all flat, of one size).
Array project_onto(const Array& x, const Array& l, const Array& u);

/// ||P(x - g) - x||_2: the projected gradient's norm, 0 exactly at a stationary point of f on the box.
double projected_gradient_norm(const Array& x, const Array& g, const Array& l, const Array& u);

}  // namespace xgrad::optim
