#pragma once
// xgrad::implicit — matrix-free linear solvers and implicit differentiation. Not built yet (issue 5); it depends on
// ad (and on optim's solver concept), never the other way.
#include "xgrad/ad/ad.hpp"
