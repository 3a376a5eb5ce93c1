#pragma once
// Errors. Every message names the operation and, where shapes are involved, the shapes.
#include <stdexcept>
#include <string>

namespace xgrad {

/// Base of every exception xgrad throws.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Incompatible or invalid shapes: "xgrad::matmul: shapes (2,3) and (4,5) ...".
struct ShapeError : Error {
  using Error::Error;
};
/// A bad value: an index out of range, a negative count, a non-finite argument where one is not allowed.
struct ValueError : Error {
  using Error::Error;
};
/// The API used in a way it does not support: item() of a non-scalar, a Tensor whose tape has ended, ...
struct MisuseError : Error {
  using Error::Error;
};

}  // namespace xgrad
