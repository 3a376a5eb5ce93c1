#include "xgrad/ad/losses.hpp"

#include "xgrad/core/error.hpp"

namespace xgrad {

Tensor mse(const Tensor& pred, const Tensor& target) {
  const Shape s = broadcast_shapes(pred.shape(), target.shape(), "mse");
  if (shape_size(s, "mse") == 0)  // numpy's mean of nothing is NaN with a warning; refuse it in the user's terms
    throw ValueError("xgrad::mse: the mean of zero errors is undefined (shapes " + shape_str(pred.shape()) + " and " +
                     shape_str(target.shape()) + ")");
  return mean(square(pred - target));
}

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels, std::ptrdiff_t axis) {
  if (logits.shape() != labels.shape())
    throw ShapeError("xgrad::softmax_cross_entropy: logits " + shape_str(logits.shape()) + " and labels " +
                     shape_str(labels.shape()) + " must have the same shape");
  normalize_axis(axis, logits.ndim(), "softmax_cross_entropy");
  return -sum(labels * log_softmax(logits, axis), {axis});
}

}  // namespace xgrad
