#pragma once
// Recurrent cells: one LSTM step as one operation (what torch's fused LSTM cell and cuDNN do for speed, here also for
// memory). The carry is one (N, 2H) array [h | c]; the step
//
//   z  = x[:, :I] w[:I] + h w[I:] + b                      (N, 4H): gates in the order input, forget, cell, output
//   c' = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_g)
//   h' = sigmoid(z_o) * tanh(c')                           returns [h' | c']
//
// is one tape node that keeps [h' | c'] and the four activated gates (6 H numbers per row). Written with concatenate,
// matmul, slices and elementwise ops the same step records 16 to 17 nodes and keeps 20 H + I numbers per row (every slice
// and activation is a fresh array). The rule recomputes only tanh(c'). Higher order works: when the backward sweep
// is itself recorded, the rule is written with Tensor ops.
#include "xgrad/ad/tensor.hpp"

namespace xgrad {

/// One LSTM step: returns [h' | c'] (N, 2H) from the input x, the carry hc = [h | c] (N, 2H), the weights w (I + H, 4H)
/// and the bias b (4H), gate order (input, forget, cell, output) as torch.nn.LSTMCell (whose weight_ih, weight_hh are
/// w[:I]^T, w[I:]^T). The cell reads the first I = w.shape[0] - H columns of x: x may be wider, so that a stacked
/// cell takes the [h | c] of the cell below as it is (with I = H it reads h). ShapeError for other shapes.
Tensor lstm_cell(const Tensor& x, const Tensor& hc, const Tensor& w, const Tensor& b);

}  // namespace xgrad
