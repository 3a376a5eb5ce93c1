# xgrad::ad — Tensor, the tape, the op library with backward rules, transforms.
xgrad_module(ad
  SOURCES ad/src/tape.cpp
  DEPS xgrad::core xtensor-blas BLAS::BLAS LAPACK::LAPACK)
