# xgrad::implicit — linear solvers and implicit differentiation (issue 5). Depends on ad, never the other way.
xgrad_module(implicit DEPS xgrad::ad)
