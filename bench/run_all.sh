#!/usr/bin/env bash
# The full benchmark run behind bench/README.md's table: each binary with 5 repetitions (aggregates only, one BLAS
# thread, repetitions of a binary's benchmarks interleaved in random order so that a change of machine load hits all
# of them alike), JSON results in build/<preset>/bench/results/, then the table of medians. About a minute and a half.
#   bash bench/run_all.sh            (PRESET=release by default)
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${PRESET:-release}
export OPENBLAS_NUM_THREADS=1
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" --target xgrad_benchmarks
out="build/$PRESET/bench/results"
mkdir -p "$out"
for b in overhead mlp matmul tape_memory implicit lbfgs meta parallel; do
  echo "== bench_$b (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  "build/$PRESET/bench/bench_$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true --benchmark_out="$out/bench_$b.json" --benchmark_out_format=json
done
if [ -x "build/$PRESET/bench/bench_torch" ]; then  # optional: libtorch-dev installed
  echo "== bench_torch (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  "build/$PRESET/bench/bench_torch" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true --benchmark_out="$out/bench_torch.json" --benchmark_out_format=json
fi
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/summarize.py "$out"/bench_*.json
