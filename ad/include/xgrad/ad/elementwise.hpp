#pragma once
// Elementwise operations with numpy broadcasting: arithmetic, unary math, maximum/minimum, where, clip.
// Each has a Tensor form; binary ones also take a double on either side (no array is made for the scalar).
#include "xgrad/ad/tensor.hpp"

namespace xgrad {

Tensor operator+(const Tensor& x, const Tensor& y);
Tensor operator-(const Tensor& x, const Tensor& y);
Tensor operator*(const Tensor& x, const Tensor& y);
Tensor operator/(const Tensor& x, const Tensor& y);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& x, double c);
Tensor operator+(double c, const Tensor& x);
Tensor operator-(const Tensor& x, double c);
Tensor operator-(double c, const Tensor& x);
Tensor operator*(const Tensor& x, double c);
Tensor operator*(double c, const Tensor& x);
Tensor operator/(const Tensor& x, double c);
Tensor operator/(double c, const Tensor& x);

Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
/// x ** p for a constant exponent; x ** y for a tensor exponent (d/dy needs x > 0).
Tensor pow(const Tensor& x, double p);
Tensor pow(const Tensor& x, const Tensor& y);
/// |x|; its derivative at 0 is taken as 0 (as in JAX).
Tensor abs(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
/// max(x, 0); derivative 0 at x = 0.
Tensor relu(const Tensor& x);
/// log(1 + exp(x)), computed without overflow.
Tensor softplus(const Tensor& x);
/// Elementwise maximum/minimum; where x == y the cotangent is split equally (as in JAX).
Tensor maximum(const Tensor& x, const Tensor& y);
Tensor minimum(const Tensor& x, const Tensor& y);
/// cond ? x : y elementwise (cond nonzero = true), all three broadcast together.
/// (Parameters by value so that this, not xt::where, is chosen when called unqualified with arrays.)
Tensor where(Array cond, Tensor x, Tensor y);
/// x limited to [lo, hi]; the derivative is 1 inside, 0 outside.
Tensor clip(const Tensor& x, double lo, double hi);

/// Elementwise sign, as a constant (no derivative).
Array sign(const Array& x);

}  // namespace xgrad
