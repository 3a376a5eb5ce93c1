#!/usr/bin/env python3
"""Joins the meta-training runs of the shipped weights into meta_training.csv (columns step, meta_loss, run).

Run 1: 1450 steps from scratch (outer adam 1e-3, task seed 0). Run 2: 3500 steps on from run 1's weights (fresh
adam, 1e-3 decaying to 1e-4 along a cosine, task seed 1). Run 3: 5000 steps on from run 2's weights (fresh adam,
5e-4 decaying to 5e-5, task seed 2). Each run writes its own meta_training.csv in its working folder; the steps are
numbered on across the runs:
    python3 join_meta_training.py run1/meta_training.csv run2/meta_training.csv run3/meta_training.csv \
        meta_training.csv"""
import csv
import sys

*runs, out = sys.argv[1:]
with open(out, "w") as f:
    f.write("step,meta_loss,run\n")
    offset = 0
    for k, path in enumerate(runs, start=1):
        rows = list(csv.reader(open(path)))[1:]
        for r in rows:
            f.write("%d,%s,%d\n" % (int(r[0]) + offset, r[1], k))
        offset += int(rows[-1][0])
