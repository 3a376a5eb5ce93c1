#!/usr/bin/env python3
"""The README's tables from summary.csv: loss at steps 20, 50, 100 as mean +- sd [median], test accuracy, and the
lowest mean at step 100 of each network in bold. Run: python3 tables.py summary.csv"""
import csv
import sys

TITLES = {"base": "MLP 784-20-10, sigmoid (the meta-training task)", "wide": "40 hidden units",
          "deep": "2 hidden layers of 20", "relu": "ReLU instead of sigmoid"}


def g(x):
    return f"{float(x):.3g}"


rows = list(csv.DictReader(open(sys.argv[1] if len(sys.argv) > 1 else "summary.csv")))
for family in TITLES:
    mine = [r for r in rows if r["family"] == family]
    if not mine:
        continue
    best = min(float(r["mean100"]) for r in mine)
    print(f"**{TITLES[family]}**\n")
    print("| optimizer | tuned lr | step 20 | step 50 | step 100 | test accuracy |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in mine:
        cells = []
        for step in (20, 50, 100):
            c = f"{g(r[f'mean{step}'])} ± {g(r[f'sd{step}'])} [{g(r[f'median{step}'])}]"
            cells.append(f"**{c}**" if step == 100 and float(r["mean100"]) == best else c)
        name = "LSTM (learned)" if r["optimizer"].startswith("LSTM") else r["optimizer"]
        lr = "—" if name.startswith("LSTM") else g(r["lr"])
        acc = f"{100 * float(r['score_mean']):.1f} % ± {100 * float(r['score_sd']):.1f}"
        print(f"| {name} | {lr} | " + " | ".join(cells) + f" | {acc} |")
    print()
