#!/bin/sh
# make bench: the overhead benchmarks. Figures go in BENCHMARKS.md with the
# machine they ran on. Usage: bench/run.sh BUILD_DIR
set -eu
dir=${1:-build-bench}
echo "machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$dir/bench/bench_sampling" 10
# 8 GPUs through a fake NVML library whose every call reads a state file (a
# real driver call is an ioctl; this measures wattprint's side plus that I/O).
state=$(mktemp -d)
python3 -c "import sys; sys.path.insert(0, 'tests/helpers'); import fakehw; fakehw.make_gpus('$state', [dict(name='GPU', uuid='GPU-%d' % i, limit_mw=700000, power_mw=300000, energy_mj=1000) for i in range(8)])"
WATTPRINT_NVML_LIBRARY="$dir/tests/fakes/libnvidia-ml.so.1" WATTPRINT_FAKE_NVML_DIR="$state" \
	"$dir/bench/bench_sampling" 10 gpus
rm -rf "$state"
python3 bench/run_overhead.py "$dir/wattprint" 300
# The ledger at scale, from the JSON of a real run on this machine.
"$dir/wattprint" run -q --no-ledger --json "$dir/bench-run.json" -- true
"$dir/bench/bench_ledger" "$dir/bench-run.json" 1000000
python3 bench/bench_ledger_pg.py "$dir" "$dir/bench-run.json" 1000000
# A million-run ledger exported, beside sqlite3 -csv writing the same table.
python3 bench/bench_export.py "$dir/wattprint" 1000000
# A CodeCarbon cell's number, beside the C library's conversions.
"$dir/bench/bench_shortest" 2
# One scrape of an inference server's metrics page (--work-url), beside its floor.
"$dir/bench/bench_scrape" 2000
# The Prometheus endpoint under load.
sh bench/bench_serve.sh "$dir"
