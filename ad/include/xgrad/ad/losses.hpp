#pragma once
// Losses: mean squared error, softmax cross-entropy (as optax), and l2 of a whole pytree.
#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad {

/// mean((pred - target)^2) over all elements (shapes broadcast).
Tensor mse(const Tensor& pred, const Tensor& target);
/// -sum(labels * log_softmax(logits), axis): one value per example, like optax.softmax_cross_entropy.
/// labels are probabilities (one-hot or soft) of the logits' shape.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels, std::ptrdiff_t axis = -1);

/// Sum of the squares of every leaf of a pytree (Tensor and Array leaves; Array leaves are constants).
template <class T>
Tensor l2(const T& tree) {
  Tensor total(0.0);
  tree::for_each([&](const auto& leaf) { total = total + sum(square(Tensor(leaf))); }, tree);
  return total;
}

}  // namespace xgrad
