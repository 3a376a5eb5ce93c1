# xgrad::ad — Tensor, the tape, the op library with backward rules, transforms.
xgrad_module(ad
  SOURCES ad/src/tape.cpp ad/src/tensor.cpp ad/src/elementwise.cpp ad/src/reduction.cpp ad/src/manipulation.cpp ad/src/linalg.cpp ad/src/einsum.cpp ad/src/convolution.cpp ad/src/losses.cpp ad/src/recurrent.cpp ad/src/sorting.cpp ad/src/check_grads.cpp ad/src/value_cache.cpp ad/src/vmath.cpp
  DEPS xgrad::core xtensor-blas BLAS::BLAS LAPACK::LAPACK)

# exp and tanh through glibc's vector math library when it links (x86-64 glibc >= 2.35; Debian 12 has 2.36).
# libmvec is part of glibc (package libc6), so this adds no package; see docs/ARCHITECTURE.md.
option(XGRAD_USE_LIBMVEC "exp and tanh through glibc's libmvec (4 ulp, 2.6-5x faster)" ON)
if(XGRAD_USE_LIBMVEC AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_LIBRARIES mvec)
  check_cxx_source_compiles([[
    #include <emmintrin.h>
    extern "C" __m128d _ZGVbN2v_tanh(__m128d);
    extern "C" __m128d _ZGVbN2v_exp(__m128d);
    int main() { return _mm_cvtsd_f64(_ZGVbN2v_tanh(_ZGVbN2v_exp(_mm_set1_pd(0.5)))) > 0.0 ? 0 : 1; }
  ]] XGRAD_HAVE_LIBMVEC)
  unset(CMAKE_REQUIRED_LIBRARIES)
endif()
if(XGRAD_HAVE_LIBMVEC)
  target_sources(xgrad_ad PRIVATE ad/src/vmath_avx2.cpp ad/src/vmath_avx512.cpp)
  set_source_files_properties(ad/src/vmath_avx2.cpp PROPERTIES COMPILE_OPTIONS -mavx2)
  set_source_files_properties(ad/src/vmath_avx512.cpp PROPERTIES COMPILE_OPTIONS -mavx512f)
  target_compile_definitions(xgrad_ad PRIVATE XGRAD_HAVE_LIBMVEC=1)
  target_link_libraries(xgrad_ad PRIVATE mvec)
endif()
