# xgrad::learn — learned optimizers, task distributions and meta-training (issues 6 and 14). Header-only; depends on
# optim's transforms, never the other way.
xgrad_module(learn DEPS xgrad::optim)
