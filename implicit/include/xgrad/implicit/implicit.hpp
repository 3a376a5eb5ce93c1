#pragma once
// xgrad::implicit — matrix-free linear solvers, implicit differentiation through solvers, unrolled
// differentiation, and bilevel learning.
#include "xgrad/implicit/anderson_acceleration.hpp"
#include "xgrad/implicit/argmin.hpp"
#include "xgrad/implicit/bilevel.hpp"
#include "xgrad/implicit/custom_root.hpp"
#include "xgrad/implicit/fixed_point.hpp"
#include "xgrad/implicit/linear_solve.hpp"
#include "xgrad/implicit/unroll.hpp"
