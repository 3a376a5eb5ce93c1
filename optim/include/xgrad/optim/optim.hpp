#pragma once
// xgrad::optim — optax-style transforms and jaxopt-style solvers. Not built yet (issue 4); this header fixes the
// module's place in the dependency order: core <- ad <- optim.
#include "xgrad/ad/ad.hpp"
