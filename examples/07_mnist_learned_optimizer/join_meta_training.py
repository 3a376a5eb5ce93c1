#!/usr/bin/env python3
"""Joins the two meta-training runs of the shipped weights into meta_training.csv (columns step, meta_loss, run).

Run 1: 1450 steps from scratch (outer adam 1e-3, task seed 0). Run 2: 3500 steps on from run 1's weights (fresh
adam, 1e-3 decaying to 1e-4 along a cosine, task seed 1), numbered on from 1451. Each run writes its own
meta_training.csv in its working folder:
    python3 join_meta_training.py run1/meta_training.csv run2/meta_training.csv meta_training.csv"""
import csv
import sys

first, second, out = sys.argv[1:4]
a = list(csv.reader(open(first)))[1:]
b = list(csv.reader(open(second)))[1:]
with open(out, "w") as f:
    f.write("step,meta_loss,run\n")
    for s, v in a:
        f.write("%s,%s,1\n" % (s, v))
    offset = int(a[-1][0])
    for s, v in b:
        f.write("%d,%s,2\n" % (int(s) + offset, v))
