# xgrad::implicit — matrix-free linear solvers and implicit differentiation (issue 5). Depends on ad and on optim's
# Status, never the other way.
xgrad_module(implicit
  SOURCES implicit/src/linear_solve.cpp implicit/src/custom_root.cpp
  DEPS xgrad::ad xgrad::optim)
