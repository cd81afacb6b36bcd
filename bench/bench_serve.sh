#!/bin/sh
# Benchmark: wattprint serve's /metrics for 8 RAPL zones and 8 GPUs under wrk:
# requests/s, p99 latency, and the daemon's memory across 100,000+ requests.
# Usage: bench/bench_serve.sh BUILD_DIR
set -eu
dir=$1
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import sys
sys.path.insert(0, "tests/helpers")
import fakehw
root = sys.argv[1]
for p in range(4):
    fakehw.make_zone(root + "/sys", "intel-rapl:%d" % p, "package-%d" % p)
    fakehw.make_zone(root + "/sys", "intel-rapl:%d:0" % p, "dram")
fakehw.make_proc(root + "/proc")
fakehw.make_gpus(root + "/nvml", [dict(name="GPU", uuid="GPU-%d" % i, limit_mw=700000,
                                       power_mw=300000, energy_mj=1000) for i in range(8)])
PY
port=19739
WATTPRINT_SYSFS=$tmp/sys WATTPRINT_PROCFS=$tmp/proc WATTPRINT_REGION=FR \
	WATTPRINT_NVML_LIBRARY=$dir/tests/fakes/libnvidia-ml.so.1 WATTPRINT_FAKE_NVML_DIR=$tmp/nvml \
	"$dir/wattprint" serve --listen 127.0.0.1:$port 2>/dev/null &
pid=$!
sleep 1
channels=$(curl -s http://127.0.0.1:$port/metrics | grep -c '^wattprint_energy_joules_total')
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
wrk -t2 -c16 -d10s http://127.0.0.1:$port/metrics >/dev/null 2>&1 # warm-up
before=$(rss)
out=$(wrk -t2 -c16 -d10s --latency http://127.0.0.1:$port/metrics)
after=$(rss)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
echo "serve /metrics ($channels channels: 8 RAPL zones, 8 GPUs): $rps requests/s, p99 $p99 (wrk -t2 -c16, 10 s, $reqs requests; targets >= 5000/s, p99 < 10 ms)"
echo "serve memory: VmRSS $before kB before, $after kB after those $reqs requests (target: flat)"
