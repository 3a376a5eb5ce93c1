#!/usr/bin/python3
"""scipy beside xgrad on the problems of bench/bench_least_squares.cpp, measured in the same run.

Times scipy.optimize.least_squares(method="lm", x_scale="jac") on the exponential fits and
scipy.optimize.minimize(method="L-BFGS-B") on the bounded quadratics (the same formulas as the C++ file; analytic
Jacobians and gradients in numpy), then runs the benchmark binary and prints one table (median wall times).

    /usr/bin/python3 scripts/bench_least_squares_scipy.py [build/release/bench/bench_least_squares]
"""
import re
import subprocess
import sys
import time

import numpy as np
import scipy
from scipy.optimize import least_squares, minimize


def curve(m):
    t = 5.0 * np.arange(m) / (m - 1)
    y = 2.0 * np.exp(-0.7 * t) + 0.5 + 0.05 * np.sin(37.0 * np.arange(m))
    return t, y


def lm(m):
    t, y = curve(m)
    res = lambda p: p[0] * np.exp(-p[1] * t) + p[2] - y

    def jac(p):
        e = np.exp(-p[1] * t)
        return np.stack([e, -p[0] * t * e, np.ones_like(t)], axis=1)
    return lambda: least_squares(res, np.array([1.0, 1.0, 0.0]), jac=jac, method="lm", x_scale="jac")


def quadratic(n):
    b = 3.0 * np.sin(0.1 * np.arange(n)) + 1.0

    def f(x):
        return 2.0 * x @ x - x[:-1] @ x[1:] - b @ x

    def g(x):
        r = 4.0 * x - b
        r[:-1] -= x[1:]
        r[1:] -= x[:-1]
        return r
    return lambda: minimize(f, np.zeros(n), jac=g, method="L-BFGS-B", bounds=[(0.0, 1.0)] * n,
                            options={"gtol": 1e-8, "ftol": 0.0, "maxiter": 1000})


def median_ms(run, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = run()
        times.append(1e3 * (time.perf_counter() - t0))
    return float(np.median(times)), r


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/release/bench/bench_least_squares"
    out = subprocess.run([binary], capture_output=True, text=True, check=True,
                         env={"OPENBLAS_NUM_THREADS": "1"}).stdout
    cpp = {}
    for line in out.splitlines():
        m = re.match(r"(BM_\w+/\d+)\s+([\d.]+) ms", line)
        if m:
            cpp[m.group(1)] = float(m.group(2))
    print(f"scipy {scipy.__version__}, numpy {np.__version__}; wall time, ms (medians)")
    print(f"{'problem':22} {'xgrad':>9} {'hand/free':>10} {'scipy':>9} {'scipy nfev':>10}")
    for m in (100, 1000, 10000):
        ms, r = median_ms(lm(m), 20)
        print(f"{'lm exp fit m=%d' % m:22} {cpp.get('BM_lm_xgrad/%d' % m, float('nan')):9.3f} "
              f"{cpp.get('BM_lm_hand/%d' % m, float('nan')):10.3f} {ms:9.3f} {r.nfev:10d}")
    for n in (100, 1000):
        ms, r = median_ms(quadratic(n), 20)
        print(f"{'L-BFGS-B quad n=%d' % n:22} {cpp.get('BM_lbfgsb/%d' % n, float('nan')):9.3f} "
              f"{cpp.get('BM_lbfgs_free/%d' % n, float('nan')):10.3f} {ms:9.3f} {r.nfev:10d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
