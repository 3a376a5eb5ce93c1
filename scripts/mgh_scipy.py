#!/usr/bin/python3
"""scipy.optimize.minimize (L-BFGS-B and BFGS, scipy's default options) on problems 1-28 of More, Garbow &
Hillstrom, "Testing unconstrained optimization software", ACM TOMS 7(1), 1981, from the standard starting points.

The residuals are those of tests/optim/mgh_problems.hpp (keep the two in step). Gradients are exact to rounding by
the complex step (Im f(x + ih e_j) / h), so scipy counts one function and one gradient evaluation per point, as
the xgrad solvers do. Writes tests/optim/mgh_scipy_reference.hpp (the reference table that test_mgh prints beside
the xgrad solvers' results) and prints the same table.

    /usr/bin/python3 scripts/mgh_scipy.py            # from the repository root
"""
import math
import os
import sys

import numpy as np
import scipy
from scipy.optimize import minimize

NVAR = 10  # n of the variable-dimension problems (Watson 6, extended Powell 8)
TOL = 1e-6  # solved: |f - f_min| <= TOL * max(1, |f_min|) for a listed minimum (as in test_mgh.cpp)


def cabs(z):
    # |z| that keeps the complex step's derivative: sign(Re z) z
    return np.where(np.real(z) < 0, -z, z)


def rosenbrock(x):
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def freudenstein_roth(x):
    return np.array([-13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1], -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1]])


def powell_badly_scaled(x):
    return np.array([1e4 * x[0] * x[1] - 1, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])


def brown_badly_scaled(x):
    return np.array([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])


def beale(x):
    return np.array([1.5 - x[0] * (1 - x[1]), 2.25 - x[0] * (1 - x[1] ** 2), 2.625 - x[0] * (1 - x[1] ** 3)])


def jennrich_sampson(x):
    i = np.arange(1, 11)
    return 2 + 2 * i - (np.exp(i * x[0]) + np.exp(i * x[1]))


def helical_valley(x):
    theta = np.arctan(x[1] / x[0]) / (2 * np.pi) + (0.5 if np.real(x[0]) < 0 else 0.0)
    return np.array([10 * (x[2] - 10 * theta), 10 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1), x[2]])


BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39])


def bard(x):
    u = np.arange(1, 16.0)
    v = 16 - u
    w = np.minimum(u, v)
    return BARD_Y - (x[0] + u / (v * x[1] + w * x[2]))


GAUSS_Y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989, 0.3521, 0.2420, 0.1295, 0.0540,
                    0.0175, 0.0044, 0.0009])


def gaussian(x):
    t = (8 - np.arange(1, 16.0)) / 2
    return x[0] * np.exp(-0.5 * x[1] * (t - x[2]) ** 2) - GAUSS_Y


MEYER_Y = np.array([34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261, 7030, 6005, 5147, 4427, 3820, 3307,
                    2872.0])


def meyer(x):
    t = 45 + 5 * np.arange(1, 17.0)
    return x[0] * np.exp(x[1] / (t + x[2])) - MEYER_Y


def gulf(x):
    t = np.arange(1, 100.0) / 100
    y = 25 + (-50 * np.log(t)) ** (2 / 3)
    return np.exp(-np.exp(x[2] * np.log(cabs(y - x[1]))) / x[0]) - t


def box3d(x):
    t = 0.1 * np.arange(1, 11.0)
    return np.exp(-t * x[0]) - np.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10 * t))


def powell_singular(x):
    return np.array([x[0] + 10 * x[1], math.sqrt(5) * (x[2] - x[3]), (x[1] - 2 * x[2]) ** 2,
                     math.sqrt(10) * (x[0] - x[3]) ** 2])


def wood(x):
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0], math.sqrt(90) * (x[3] - x[2] ** 2), 1 - x[2],
                     math.sqrt(10) * (x[1] + x[3] - 2), (x[1] - x[3]) / math.sqrt(10)])


KO_Y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246])
KO_U = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])


def kowalik_osborne(x):
    u = KO_U
    return KO_Y - x[0] * (u ** 2 + u * x[1]) / (u ** 2 + u * x[2] + x[3])


def brown_dennis(x):
    t = np.arange(1, 21.0) / 5
    return (x[0] + t * x[1] - np.exp(t)) ** 2 + (x[2] + x[3] * np.sin(t) - np.cos(t)) ** 2


OSB1_Y = np.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751, 0.718, 0.685, 0.658,
                   0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431,
                   0.424, 0.420, 0.414, 0.411, 0.406])


def osborne1(x):
    t = 10 * np.arange(0, 33.0)
    return OSB1_Y - (x[0] + x[1] * np.exp(-t * x[3]) + x[2] * np.exp(-t * x[4]))


def biggs_exp6(x):
    t = 0.1 * np.arange(1, 14.0)
    y = np.exp(-t) - 5 * np.exp(-10 * t) + 3 * np.exp(-4 * t)
    return x[2] * np.exp(-t * x[0]) - x[3] * np.exp(-t * x[1]) + x[5] * np.exp(-t * x[4]) - y


OSB2_Y = np.array([1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608, 0.655,
                   0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661, 0.612, 0.558,
                   0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428, 0.429, 0.523, 0.562,
                   0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559, 0.597, 0.625, 0.739, 0.710,
                   0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054])


def osborne2(x):
    t = np.arange(0, 65.0) / 10
    return OSB2_Y - (x[0] * np.exp(-t * x[4]) + x[1] * np.exp(-(t - x[8]) ** 2 * x[5])
                     + x[2] * np.exp(-(t - x[9]) ** 2 * x[6]) + x[3] * np.exp(-(t - x[10]) ** 2 * x[7]))


def watson(x):
    t = np.arange(1, 30.0) / 29
    s1 = sum(j * x[j] * t ** (j - 1) for j in range(1, len(x)))
    s2 = sum(x[j] * t ** j for j in range(len(x)))
    return np.concatenate([s1 - s2 ** 2 - 1, [x[0], x[1] - x[0] ** 2 - 1]])


def ext_rosenbrock(x):
    a, b = x[0::2], x[1::2]
    return np.concatenate([10 * (b - a ** 2), 1 - a])


def ext_powell(x):
    x1, x2, x3, x4 = x[0::4], x[1::4], x[2::4], x[3::4]
    return np.concatenate([x1 + 10 * x2, math.sqrt(5) * (x3 - x4), (x2 - 2 * x3) ** 2, math.sqrt(10) * (x1 - x4) ** 2])


def penalty1(x):
    return np.concatenate([math.sqrt(1e-5) * (x - 1), [np.sum(x ** 2) - 0.25]])


def penalty2(x):
    n = len(x)
    i = np.arange(2, n + 1)
    y = np.exp(i / 10) + np.exp((i - 1) / 10)
    e = np.exp(x / 10)
    sa = math.sqrt(1e-5)
    return np.concatenate([[x[0] - 0.2], sa * (e[1:] + e[:-1] - y), sa * (e[1:] - math.exp(-0.1)),
                           [np.sum((n - np.arange(n)) * x ** 2) - 1]])


def variably_dimensioned(x):
    s = np.sum(np.arange(1, len(x) + 1) * (x - 1))
    return np.concatenate([x - 1, [s, s ** 2]])


def trigonometric(x):
    n = len(x)
    return n - np.sum(np.cos(x)) + np.arange(1, n + 1) * (1 - np.cos(x)) - np.sin(x)


def brown_almost_linear(x):
    n = len(x)
    return np.concatenate([x[:-1] + np.sum(x) - (n + 1), [np.prod(x) - 1]])


def discrete_boundary_value(x):
    n = len(x)
    h = 1 / (n + 1)
    t = h * np.arange(1, n + 1)
    p = np.concatenate([[0], x, [0]])
    return 2 * x - p[:-2] - p[2:] + 0.5 * h * h * (x + t + 1) ** 3


def problems():
    h = 1 / (NVAR + 1)
    tb = h * np.arange(1, NVAR + 1)
    return [
        (1, "Rosenbrock", rosenbrock, [-1.2, 1], [0.0]),
        (2, "Freudenstein-Roth", freudenstein_roth, [0.5, -2], [0.0, 48.9842536792]),
        (3, "Powell badly scaled", powell_badly_scaled, [0, 1], [0.0]),
        (4, "Brown badly scaled", brown_badly_scaled, [1, 1], [0.0]),
        (5, "Beale", beale, [1, 1], [0.0]),
        (6, "Jennrich-Sampson", jennrich_sampson, [0.3, 0.4], [124.362182355]),
        (7, "Helical valley", helical_valley, [-1, 0, 0], [0.0]),
        (8, "Bard", bard, [1, 1, 1], [8.21487730657e-3]),
        (9, "Gaussian", gaussian, [0.4, 1, 0], [1.12793276961e-8]),
        (10, "Meyer", meyer, [0.02, 4000, 250], [87.9458551718]),
        (11, "Gulf research", gulf, [5, 2.5, 0.15], [0.0]),
        (12, "Box 3-D", box3d, [0, 10, 20], [0.0]),
        (13, "Powell singular", powell_singular, [3, -1, 0, 1], [0.0]),
        (14, "Wood", wood, [-3, -1, -3, -1], [0.0]),
        (15, "Kowalik-Osborne", kowalik_osborne, [0.25, 0.39, 0.415, 0.39], [3.07505603849e-4]),
        (16, "Brown-Dennis", brown_dennis, [25, 5, -5, -1], [85822.2016263563]),
        (17, "Osborne 1", osborne1, [0.5, 1.5, -1, 0.01, 0.02], [5.46489469748e-5]),
        (18, "Biggs EXP6", biggs_exp6, [1, 2, 1, 1, 1, 1], [0.0, 5.65565e-3]),
        (19, "Osborne 2", osborne2, [1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5], [4.01377362935e-2]),
        (20, "Watson", watson, [0.0] * 6, [2.28767005355e-3]),
        (21, "Extended Rosenbrock", ext_rosenbrock, [-1.2, 1] * (NVAR // 2), [0.0]),
        (22, "Extended Powell singular", ext_powell, [3, -1, 0, 1] * 2, [0.0]),
        (23, "Penalty I", penalty1, list(range(1, NVAR + 1)), [7.08765146709e-5]),
        (24, "Penalty II", penalty2, [0.5] * NVAR, [2.93660531443e-4]),
        (25, "Variably dimensioned", variably_dimensioned, [1 - j / NVAR for j in range(1, NVAR + 1)], [0.0]),
        (26, "Trigonometric", trigonometric, [1 / NVAR] * NVAR, [0.0, 2.79506e-5]),
        (27, "Brown almost-linear", brown_almost_linear, [0.5] * NVAR, [0.0, 1.0]),
        (28, "Discrete boundary value", discrete_boundary_value, list(tb * (tb - 1)), [0.0]),
    ]


def objective(res):
    def f(x):
        r = res(x)
        return float(np.real(np.sum(r * r)))

    def g(x):
        n, h = len(x), 1e-30
        out = np.empty(n)
        for j in range(n):
            z = np.array(x, dtype=complex)
            z[j] += 1j * h
            r = res(z)
            out[j] = np.imag(np.sum(r * r)) / h  # sum(r*r), not |r|^2: analytic in z
        return out

    return f, g


def solved(f, minima):
    return any(abs(f - m) <= TOL * max(1.0, abs(m)) for m in minima)


def main():
    rows = []
    for number, name, res, x0, minima in problems():
        f, g = objective(res)
        x0 = np.array(x0, dtype=float)
        # the complex-step gradient against central differences at the start: the residuals are analytic there
        fd = np.array([(f(x0 + 1e-6 * e) - f(x0 - 1e-6 * e)) / 2e-6 for e in np.eye(len(x0))])
        assert np.allclose(g(x0), fd, rtol=1e-5, atol=1e-6 * max(1.0, abs(f(x0)))), (name, g(x0), fd)
        row = [number, name, len(x0), minima]
        for method in ("L-BFGS-B", "BFGS"):
            with np.errstate(all="ignore"):
                r = minimize(f, x0, jac=g, method=method)
            row.append((float(r.fun), int(r.nit), int(r.nfev), bool(r.success), solved(float(r.fun), minima)))
        rows.append(row)

    print(f"scipy {scipy.__version__}; solved: |f - f_min| <= {TOL} max(1, |f_min|)")
    print(f"{'#':>2} {'problem':26} {'n':>2} | {'L-BFGS-B f':>12} {'nit':>5} {'nfev':>5} ok sol | "
          f"{'BFGS f':>12} {'nit':>5} {'nfev':>5} ok sol")
    for number, name, n, minima, lb, bf in rows:
        print(f"{number:2d} {name:26} {n:2d} | {lb[0]:12.5e} {lb[1]:5d} {lb[2]:5d} {int(lb[3]):2d} {int(lb[4]):3d} | "
              f"{bf[0]:12.5e} {bf[1]:5d} {bf[2]:5d} {int(bf[3]):2d} {int(bf[4]):3d}")
    for k, method in ((4, "L-BFGS-B"), (5, "BFGS")):
        print(f"{method}: solved {sum(r[k][4] for r in rows)}/{len(rows)}, success {sum(r[k][3] for r in rows)}, "
              f"nfev {sum(r[k][2] for r in rows)}")

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "tests", "optim", "mgh_scipy_reference.hpp")
    with open(out, "w") as fh:
        fh.write("#pragma once\n// Generated by scripts/mgh_scipy.py (scipy %s, numpy %s, default options of\n"
                 "// scipy.optimize.minimize, complex-step gradients): do not edit. One row per problem of\n"
                 "// tests/optim/mgh_problems.hpp: final f, iterations, function evaluations, scipy's success flag.\n"
                 "#include <array>\n\nnamespace xgrad::testing {\n\n"
                 "struct ScipyRun {\n  double f;\n  int nit, nfev;\n  bool success;\n};\n"
                 "struct MGHScipyRow {\n  int number, n;\n  ScipyRun lbfgsb, bfgs;\n};\n\n"
                 "inline constexpr std::array<MGHScipyRow, %d> mgh_scipy_reference{{\n"
                 % (scipy.__version__, np.__version__, len(rows)))
        for number, name, n, minima, lb, bf in rows:
            fh.write("    {%d, %d, {%r, %d, %d, %s}, {%r, %d, %d, %s}},  // %s\n"
                     % (number, n, lb[0], lb[1], lb[2], str(lb[3]).lower(), bf[0], bf[1], bf[2],
                        str(bf[3]).lower(), name))
        fh.write("}};\n\n}  // namespace xgrad::testing\n")
    print("wrote", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
