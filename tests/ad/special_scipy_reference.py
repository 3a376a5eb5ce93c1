#!/usr/bin/env python3
"""Reference values of scipy.special.gammaln, psi and polygamma for tests/ad/test_elementwise.cpp.

Run: python3 tests/ad/special_scipy_reference.py > tests/ad/special_scipy_reference.hpp
(Debian's python3-scipy; the header records the scipy version.)
"""
import scipy
import scipy.special as sp

POINTS = [-7.3, -2.5, -1.5, -0.75, -0.2, 1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 7.25, 11.0, 30.5, 123.4, 1e4]

print("#pragma once")
print(f"// Made by tests/ad/special_scipy_reference.py with scipy {scipy.__version__}: do not edit.")
print("// {x, gammaln(x), psi(x), polygamma(1, x), polygamma(2, x), polygamma(3, x)}")
print("#include <array>")
print("namespace xgrad::testing {")
print(f"inline constexpr std::array<std::array<double, 6>, {len(POINTS)}> kSpecialReference{{{{")
for x in POINTS:
    vals = [x, sp.gammaln(x), sp.psi(x)] + [sp.polygamma(n, x) for n in (1, 2, 3)]
    print("    {" + ", ".join(repr(float(v)) for v in vals) + "},")
print("}};")
print("}  // namespace xgrad::testing")
