#!/usr/bin/env bash
# Runs example 06 on 1, 2 and 4 ranks of this machine and draws the speedup of both parts against the number of ranks
# (scaling.csv, scaling.png). Run from the build tree's examples folder:
#   cd build/release/examples && bash ../../../examples/06_distributed/scaling.sh
# On a cluster, run the example with mpirun -np N --hostfile ... for each N instead; the CSV has one line per run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
rm -f scaling_run.csv
for np in 1 2 4; do
  echo "== $np rank(s)"
  mpirun -np "$np" --allow-run-as-root --oversubscribe ./example_06_distributed
done
{ echo "ranks,epoch_seconds,meta_step_seconds,mnist_epoch_seconds"; cat scaling_run.csv; } > "$here/scaling.csv"
if command -v gnuplot >/dev/null; then
  gnuplot <<GP
set terminal pngcairo size 720,440 font "sans,11"
set output "$here/scaling.png"
set datafile separator ","
set key top left
set xlabel "MPI ranks (this machine has $(nproc) cores)"
set ylabel "speedup over 1 rank (time per unit of work)"
set xtics (1, 2, 4)
set yrange [0:*]
set grid
set title "06\\\\_distributed: data parallelism over MPI ranks"
stats "$here/scaling.csv" every ::1::1 using 2:3 nooutput prefix "one"
stats "$here/scaling.csv" every ::1::1 using 4 nooutput prefix "mnist"
# Part 1 processes the same global batch on every run: speedup = t1 / tN. Part 2 gives each rank its own tasks, so a
# step with N ranks does N times the work: speedup = N t1 / tN.
plot "$here/scaling.csv" every ::1 using 1:(one_min_x/\$2) with linespoints lw 2 title "digits MLP epoch (global batch 240)", \
     "" every ::1 using 1:(mnist_min/\$4) with linespoints lw 2 title "MNIST MLP epoch (global batch 1000)", \
     "" every ::1 using 1:(\$1*one_min_y/\$3) with linespoints lw 2 title "meta-training (tasks per second)", \
     x with lines dt 2 lc rgb "gray" title "ideal"
GP
  echo "wrote $here/scaling.png"
fi
cat "$here/scaling.csv"
