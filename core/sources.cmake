# xgrad::core — Array, shapes and broadcasting, errors, pytrees and their flat view (BLAS-1), PRNG keys, pytree
# archives, the parallel map.
xgrad_module(core
  SOURCES core/src/shape.cpp core/src/tree.cpp core/src/random.cpp core/src/archive.cpp core/src/parallel.cpp
          core/src/flat.cpp
  DEPS xtensor Threads::Threads)
# xsimd is deliberately off (docs/ARCHITECTURE.md, "XTENSOR_USE_XSIMD"); the headers refuse a consumer that turns it on.
