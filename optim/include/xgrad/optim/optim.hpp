#pragma once
// xgrad::optim — optax-style gradient transformations and schedules and jaxopt-style solvers with line searches
// (issue 4);
// learned optimizers, their meta-training and task distributions (issue 6).
// Dependency order: core <- ad <- optim.
#include "xgrad/ad/ad.hpp"
#include "xgrad/optim/apply_if_finite.hpp"
#include "xgrad/optim/clip.hpp"
#include "xgrad/optim/combine.hpp"
#include "xgrad/optim/gradient_descent.hpp"
#include "xgrad/optim/lbfgs.hpp"
#include "xgrad/optim/learned.hpp"
#include "xgrad/optim/linesearch.hpp"
#include "xgrad/optim/meta.hpp"
#include "xgrad/optim/moments.hpp"
#include "xgrad/optim/optimizers.hpp"
#include "xgrad/optim/scale.hpp"
#include "xgrad/optim/schedule.hpp"
#include "xgrad/optim/solver.hpp"
#include "xgrad/optim/status.hpp"
#include "xgrad/optim/tasks.hpp"
#include "xgrad/optim/trace.hpp"
#include "xgrad/optim/transform.hpp"
#include "xgrad/optim/weight_decay.hpp"
