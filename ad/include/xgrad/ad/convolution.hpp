#pragma once
// Convolutions and pooling for convolutional networks, NCHW as PyTorch: conv1d, conv2d, max_pool and avg_pool. A
// convolution is im2col (a gather of the input patches into columns, zero outside the padded input) followed by one
// matmul with the flattened filters; im2col's adjoint is col2im (a scatter-add of the columns back into the
// image) and col2im's is im2col, so derivatives of any order follow from matmul's. Bad shapes throw ShapeError
// naming the op and the shapes.
#include <array>
#include <cstddef>

#include "xgrad/ad/tensor.hpp"

namespace xgrad {

/// Stride, zero padding (on both sides) and dilation of the two spatial axes.
struct Conv2dOptions {
  std::array<std::size_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
};
/// torch.nn.functional.conv2d: x (N, C, H, W), w (O, C, kh, kw), optional bias b (O,) ->
/// (N, O, (H + 2 ph - dh (kh - 1) - 1) / sh + 1, (W + ...) / sw + 1). A cross-correlation, as every framework's
/// "convolution". `conv2d(x, w, b, {.stride = {2, 2}, .padding = {1, 1}})`.
Tensor conv2d(const Tensor& x, const Tensor& w, const Conv2dOptions& options = {});
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& options = {});

struct Conv1dOptions {
  std::size_t stride = 1, padding = 0, dilation = 1;
};
/// torch.nn.functional.conv1d: x (N, C, L), w (O, C, k), optional b (O,) -> (N, O, (L + 2p - d (k - 1) - 1) / s + 1).
Tensor conv1d(const Tensor& x, const Tensor& w, const Conv1dOptions& options = {});
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv1dOptions& options = {});

/// Stride (0: the window, as torch's default) and padding of a pooling window over the last two axes.
struct PoolOptions {
  std::array<std::size_t, 2> stride{0, 0}, padding{0, 0};
};
/// torch.nn.functional.max_pool2d over the last two axes of x (N, C, H, W): the largest element of each window;
/// padding never wins. The cotangent goes to the first largest element of each window (as torch; the first NaN if
/// any), so tied maxima do not share it (unlike max).
Tensor max_pool(const Tensor& x, std::array<std::size_t, 2> window, const PoolOptions& options = {});
/// torch.nn.functional.avg_pool2d (count_include_pad = True): the mean of each window, padding counting as zeros.
Tensor avg_pool(const Tensor& x, std::array<std::size_t, 2> window, const PoolOptions& options = {});

}  // namespace xgrad
