# xgrad::optim — optax-style transforms, line searches, jaxopt-style solvers (issue 4).
xgrad_module(optim DEPS xgrad::ad)
