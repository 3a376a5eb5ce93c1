#!/usr/bin/env python3
"""Joins the meta-training runs of the shipped weights into meta_training.csv (columns step, meta_loss, run).

Run 1: 1450 steps from scratch (outer adam 1e-3, task seed 0). Run 2: 3500 steps on from run 1's weights (fresh
adam, 1e-3 decaying to 1e-4 along a cosine, task seed 1). Run 3: 5000 steps on from run 2's weights (fresh adam,
5e-4 decaying to 5e-5, task seed 2). Run 4: on from run 3's weights (fresh adam, 3e-4 decaying to 3e-5 over a
schedule of 5000 steps, task seed 3), stopped early (see README.md). Run 5: 4000 steps with the log loss; run 6: 450
steps through the whole 100-step horizon; run 7: 640 more the same way (README.md). Each run writes its own
meta_training.csv in its working folder; the steps are numbered on across the runs. An input that is already joined
(a `run` column) keeps its run numbers, and the runs after it are numbered on:
    python3 join_meta_training.py run1/meta_training.csv run2/meta_training.csv run3/meta_training.csv \\
        run4/meta_training.csv meta_training.csv
    python3 join_meta_training.py meta_training.csv run4/meta_training.csv meta_training.csv   # add run 4"""
import csv
import sys

*runs, out = sys.argv[1:]
rows_out = []
offset, run = 0, 0
for path in runs:
    rows = list(csv.reader(open(path)))
    header, rows = rows[0], rows[1:]
    joined = len(header) > 2 and header[2] == "run"
    if not joined:
        run += 1
    last = 0
    for r in rows:
        step = int(r[0]) + (0 if joined else offset)
        rows_out.append((step, r[1], int(r[2]) if joined else run))
        last = step
    if joined:
        run = max(run, max(int(r[2]) for r in rows))
    offset = last
with open(out, "w") as f:
    f.write("step,meta_loss,run\n")
    for step, loss, k in rows_out:
        f.write("%d,%s,%d\n" % (step, loss, k))
