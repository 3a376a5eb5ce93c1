#!/usr/bin/env bash
# Fetches the Mauna Loa CO2 record once (the npm registry's package `vega-datasets` 3.2.1, BSD-3-Clause: the file
# data/co2-concentration.csv, monthly mean CO2 mole fraction in ppm at Mauna Loa from March 1958 to April 2020, 741
# months, from NOAA's Global Monitoring Laboratory) for examples/08_curve_fitting. Columns: Date (YYYY-MM-01), CO2,
# adjusted CO2 (seasonally adjusted).
# Usage: scripts/fetch-co2.sh [dir]   (default build/data/co2). Does nothing when the file exists. Needs npm
# (installs Debian's npm when it is missing); nothing is downloaded at build or run time.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/data/co2}
file=co2-concentration.csv
if [ -s "$dir/$file" ]; then exit 0; fi
if ! command -v npm >/dev/null; then bash scripts/install-deps.sh npm; fi
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-co2: npm pack vega-datasets@3.2.1"
(cd "$tmp" && npm pack --silent vega-datasets@3.2.1 >/dev/null && tar xzf vega-datasets-3.2.1.tgz "package/data/$file")
rows=$(($(wc -l < "$tmp/package/data/$file") - 1))
head -1 "$tmp/package/data/$file" | grep -q '^Date,CO2,adjusted CO2' || { echo "fetch-co2: unexpected header"; exit 1; }
[ "$rows" -eq 741 ] || { echo "fetch-co2: expected 741 months, found $rows"; exit 1; }
cp "$tmp/package/data/$file" "$dir/$file.tmp" && mv "$dir/$file.tmp" "$dir/$file"
echo "fetch-co2: $rows months in $dir/$file"
