#pragma once
// xgrad::optim — optax-style gradient transformations and schedules (issue 4). Solvers and line searches: not yet.
// Dependency order: core <- ad <- optim.
#include "xgrad/ad/ad.hpp"
#include "xgrad/optim/apply_if_finite.hpp"
#include "xgrad/optim/clip.hpp"
#include "xgrad/optim/combine.hpp"
#include "xgrad/optim/moments.hpp"
#include "xgrad/optim/optimizers.hpp"
#include "xgrad/optim/scale.hpp"
#include "xgrad/optim/schedule.hpp"
#include "xgrad/optim/trace.hpp"
#include "xgrad/optim/transform.hpp"
#include "xgrad/optim/weight_decay.hpp"
