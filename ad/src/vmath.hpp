#pragma once
// Internal: exp and tanh over contiguous arrays. When the build found glibc's vector math library (libmvec), they run
// 8 lanes per call with AVX-512, 4 with AVX2 (2 with SSE2 otherwise), within 4 ulp of the exact result (libmvec's
// bound; measured <= 3 ulp from libm's scalar results; same infinities, NaNs, signed zeros and subnormals). tanh is
// 2.6x (SSE2) to 5x (AVX2) faster than the scalar loop, and AVX-512 another 1.3-1.5x; it dominates the elementwise
// cost of tanh networks and of the LSTM cell. Without libmvec, or with -DXGRAD_USE_LIBMVEC=OFF, they are the scalar
// std::exp / std::tanh loops. At run time the environment variable XGRAD_VMATH=scalar selects the scalar loops
// (libm's results, bit for bit), XGRAD_VMATH=sse2 or avx2 a narrower path than the CPU allows.
#include <cstddef>

namespace xgrad::vmath {

void exp(const double* x, double* y, std::size_t n);
void tanh(const double* x, double* y, std::size_t n);

#if XGRAD_HAVE_LIBMVEC
// The AVX2 loops (vmath_avx2.cpp, the only file compiled with -mavx2); called only when the CPU has AVX2.
void exp_avx2(const double* x, double* y, std::size_t n);
void tanh_avx2(const double* x, double* y, std::size_t n);
// The AVX-512 loops (vmath_avx512.cpp, compiled with -mavx512f); called only when the CPU has AVX-512F.
void exp_avx512(const double* x, double* y, std::size_t n);
void tanh_avx512(const double* x, double* y, std::size_t n);
#endif

}  // namespace xgrad::vmath
