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

/// numpy's inverse trigonometric and hyperbolic functions (NaN outside their domains, as numpy).
Tensor arcsin(const Tensor& x);
Tensor arccos(const Tensor& x);
Tensor arctan(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor arcsinh(const Tensor& x);
Tensor arccosh(const Tensor& x);
Tensor arctanh(const Tensor& x);
/// The error function and its complement (jax.scipy.special.erf, erfc).
Tensor erf(const Tensor& x);
Tensor erfc(const Tensor& x);
/// log |Gamma(x)| (jax.lax.lgamma, scipy.special.gammaln; +inf at the poles 0, -1, -2, ...). Its derivative is
/// digamma.
Tensor lgamma(const Tensor& x);
/// The digamma function psi = d lgamma / dx (jax.scipy.special.digamma), and its n-th derivative polygamma(n, x)
/// (n >= 0; polygamma(0, x) = digamma(x)); each differentiates into the next, to any order. At the poles they
/// follow scipy: digamma(+0) = -inf, digamma(-0) = +inf, NaN at negative integers; polygamma(n >= 1) is
/// (-1)^(n+1) inf there. Accurate to about 1e-14 relative (asymptotic series after the recurrence; reflection for
/// x < 0). A negative n throws ValueError.
Tensor digamma(const Tensor& x);
Tensor polygamma(int n, const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor exp2(const Tensor& x);
/// 1 / x and 1 / sqrt(x) (jax.lax.reciprocal, rsqrt).
Tensor reciprocal(const Tensor& x);
Tensor rsqrt(const Tensor& x);
/// arctan(y / x) in the right quadrant; numpy's argument order (y first).
Tensor arctan2(const Tensor& y, const Tensor& x);
/// sqrt(x^2 + y^2) without overflow.
Tensor hypot(const Tensor& x, const Tensor& y);
/// log(exp(x) + exp(y)) without overflow.
Tensor logaddexp(const Tensor& x, const Tensor& y);
/// Piecewise constant: the value, and a zero derivative (as JAX). round is numpy's (halves to even).
Tensor sign(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);

/// Activations, as jax.nn: gelu (approximate: the tanh form, JAX's default; else x Phi(x) with the exact normal
/// CDF), silu (x sigmoid(x), a.k.a. swish), elu, leaky_relu (derivative 1 at 0, as JAX), log_sigmoid (without
/// overflow), softsign (x / (1 + |x|)).
Tensor gelu(const Tensor& x, bool approximate = true);
Tensor silu(const Tensor& x);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor log_sigmoid(const Tensor& x);
Tensor softsign(const Tensor& x);

/// Elementwise sign, as a constant (no derivative).
Array sign(const Array& x);

}  // namespace xgrad
