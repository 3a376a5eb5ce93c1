# xgrad::optim — optax-style transforms (header-only: their types follow the parameters), and the solver layer:
# the line searches, the quasi-Newton updates and the CG kernel work on flat Arrays and are compiled here once.
xgrad_module(optim
  SOURCES optim/src/linesearch.cpp optim/src/more_thuente.cpp optim/src/hager_zhang.cpp optim/src/search.cpp
          optim/src/lbfgs.cpp optim/src/bfgs.cpp optim/src/curvature_pair.cpp optim/src/conjugate_gradient.cpp
          optim/src/projection.cpp optim/src/prox.cpp optim/src/bounds.cpp optim/src/lbfgsb.cpp optim/src/gauss_newton.cpp
          optim/src/levenberg_marquardt.cpp optim/src/root_finding.cpp optim/src/moments.cpp
  DEPS xgrad::ad)
# The one-pass Adam update must round as its ops do (each op rounds once): no fused multiply-add there.
set_source_files_properties(optim/src/moments.cpp PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")
