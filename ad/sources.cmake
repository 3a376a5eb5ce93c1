# xgrad::ad — Tensor, the tape, the op library with backward rules, transforms.
xgrad_module(ad
  SOURCES ad/src/tape.cpp ad/src/tensor.cpp ad/src/elementwise.cpp ad/src/reduction.cpp ad/src/manipulation.cpp ad/src/linalg.cpp ad/src/losses.cpp ad/src/value_cache.cpp
  DEPS xgrad::core xtensor-blas BLAS::BLAS LAPACK::LAPACK)
