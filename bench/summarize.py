#!/usr/bin/env python3
"""Print the README's table of medians from the JSON files of a full benchmark run.

    for b in overhead mlp matmul tape_memory; do
      OPENBLAS_NUM_THREADS=1 build/release/bench/bench_$b --benchmark_repetitions=5 \
        --benchmark_report_aggregates_only=true --benchmark_out=/tmp/bench_$b.json --benchmark_out_format=json
    done
    python3 bench/summarize.py /tmp/bench_*.json

Times are medians of CPU time over the repetitions (one thread: CPU and wall time agree on an idle machine).
"""
import json
import sys

SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def load(paths):
    runs = {}
    for p in paths:
        with open(p) as f:
            for b in json.load(f)["benchmarks"]:
                if b.get("aggregate_name", "median") != "median" or b.get("error_occurred"):
                    continue
                b["seconds"] = b["cpu_time"] * SCALE[b["time_unit"]]
                runs[b["run_name"]] = b
    return runs


def fmt_time(s):
    for unit, f in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= f:
            return f"{s / f:.3g} {unit}" if s / f < 100 else f"{s / f:.0f} {unit}"
    return f"{s / 1e-9:.3g} ns"


def main(paths):
    r = load(paths)
    rows = []

    def t(name):
        return r[name]["seconds"] if name in r else float("nan")

    def row(*cells):
        rows.append("| " + " | ".join(cells) + " |")

    row("workload", "xgrad", "baseline", "xgrad / baseline", "target", "met")
    row("---", "---", "---", "---", "---", "---")
    if "BM_W1_xgrad_value_and_grad" in r:
        ops = 3000.0
        xg, bg = t("BM_W1_xgrad_value_and_grad") / ops, t("BM_W1_baseline_grad") / ops
        xf, bf = t("BM_W1_xgrad_forward") / ops, t("BM_W1_baseline_forward") / ops
        row("W1 value_and_grad, per op", fmt_time(xg), fmt_time(bg), f"{xg / bg:.1f}x", "<= 250 ns per op",
            "yes" if xg <= 250e-9 else "no")
        row("W1 forward only (no tape), per op", fmt_time(xf), fmt_time(bf), f"{xf / bf:.1f}x", "", "")
        row("W1 tape + backward, per op (grad - fwd)", fmt_time(xg - xf), fmt_time(bg - bf), "", "", "")
        if "BM_W1_baseline_grad_vtanh" in r:  # the baseline with xgrad's vector tanh: the same math
            vg, vf = t("BM_W1_baseline_grad_vtanh") / ops, t("BM_W1_baseline_forward_vtanh") / ops
            row("W1 value_and_grad vs baseline at equal math (vector tanh)", fmt_time(xg), fmt_time(vg),
                f"{xg / vg:.1f}x", "", "")
            row("W1 forward vs baseline at equal math", fmt_time(xf), fmt_time(vf), f"{xf / vf:.1f}x", "", "")
    if "BM_W2_xgrad_value_and_grad" in r:
        xg, xf = t("BM_W2_xgrad_value_and_grad"), t("BM_W2_xgrad_forward")
        bg, bf = t("BM_W2_baseline_grad"), t("BM_W2_baseline_forward")
        row("W2 forward", fmt_time(xf), fmt_time(bf), f"{xf / bf:.2f}x", "", "")
        row("W2 value_and_grad", fmt_time(xg), fmt_time(bg), f"{xg / bg:.2f}x", "<= baseline's",
            "yes" if xg <= bg else "no")
        row("W2 ratio gradient / forward", f"{xg / xf:.2f}", f"{bg / bf:.2f}", "", "<= 2.5",
            "yes" if xg / xf <= 2.5 else "no")
        if "BM_W2_xgrad_linear_value_and_grad" in r:
            lg, lf = t("BM_W2_xgrad_linear_value_and_grad"), t("BM_W2_xgrad_linear_forward")
            row("W2 value_and_grad, layers as linear(h, W, b)", fmt_time(lg), fmt_time(bg), f"{lg / bg:.2f}x",
                "<= baseline's", "yes" if lg <= bg else "no")
        if "BM_W2_baseline_grad_vtanh" in r:  # the baseline with xgrad's vector tanh: the same math
            vg, vf = t("BM_W2_baseline_grad_vtanh"), t("BM_W2_baseline_forward_vtanh")
            row("W2 forward vs baseline at equal math (vector tanh)", fmt_time(xf), fmt_time(vf), f"{xf / vf:.2f}x",
                "", "")
            row("W2 value_and_grad vs baseline at equal math", fmt_time(xg), fmt_time(vg), f"{xg / vg:.2f}x", "", "")
            if "BM_W2_xgrad_linear_value_and_grad" in r:
                row("W2 value_and_grad with linear vs baseline at equal math", fmt_time(lg), fmt_time(vg),
                    f"{lg / vg:.2f}x", "", "")
    if "BM_W3_xgrad_value_and_grad" in r:
        xg, gemm = t("BM_W3_xgrad_value_and_grad"), t("BM_W3_baseline_forward_gemm")
        b3, xf = t("BM_W3_baseline_3gemm"), t("BM_W3_xgrad_forward")
        row("W3 value_and_grad vs one forward gemm", fmt_time(xg), fmt_time(gemm), f"{xg / gemm:.2f}x",
            "<= 3.2x (floor 3)", "yes" if xg / gemm <= 3.2 else "no")
        row("W3 hand-written 3 gemms vs one forward gemm", "", fmt_time(b3), f"{b3 / gemm:.2f}x (baseline)", "", "")
        row("W3 xgrad forward matmul vs one gemm", fmt_time(xf), fmt_time(gemm), f"{xf / gemm:.2f}x", "", "")
    for name in sorted(n for n in r if n.startswith("BM_tape_bytes_per_op/")):
        b = r[name]
        n = name.split("/")[1]
        row(f"tape, N = {n} ops y*a (16-vectors)",
            f"{b['bytes_per_op']:.0f} B/op peak, {b['fwd_bytes_per_op']:.0f} B/op after forward; "
            f"{b['allocs_per_op']:.2f} allocs/op ({b['fwd_allocs_per_op']:.2f} forward); "
            f"{b['nodes']:.0f} nodes; sizeof(Node) = {b['sizeof_node']:.0f} B, "
            f"sizeof(Array) = {b['sizeof_array']:.0f} B (value cache off); with the cache warm: "
            f"{b.get('warm_bytes_per_op', float('nan')):.0f} B/op, "
            f"{b.get('warm_allocs_per_op', float('nan')):.3f} allocs/op", "", "", "", "")
    for name in (n for n in r if n.startswith("BM_tape_flat_memory")):
        b = r[name]
        row("tape, 10^5 value_and_grad calls",
            f"live heap {b['live_before']:.0f} B before, {b['live_after']:.0f} B after: "
            f"leaked {b['leaked_bytes']:.0f} B", "", "", "leaked 0", "yes" if b["leaked_bytes"] == 0 else "no")
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
