#!/bin/sh
# make bench: the overhead benchmarks. Figures go in BENCHMARKS.md with the
# machine they ran on. Usage: bench/run.sh BUILD_DIR
set -eu
dir=${1:-build-bench}
echo "machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$dir/bench/bench_sampling" 10
python3 bench/run_overhead.py "$dir/wattprint" 300
