#!/usr/bin/env python3
"""The ledger benchmark on PostgreSQL: bench_ledger against a server started
here as the tests start theirs (tests/helpers/pgtest.py); then, once the table
is vacuumed as autovacuum would, the CLI's rollup and listing (best of 3) and
the plan PostgreSQL chose for the rollup.
Usage: bench/bench_ledger_pg.py BUILD_DIR RUN.json [RUNS]"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "helpers"))
import pgtest  # noqa: E402


def main():
    build, run_json = sys.argv[1], sys.argv[2]
    n = sys.argv[3] if len(sys.argv) > 3 else "1000000"
    d = pgtest.start()
    try:
        uri = pgtest.new_database(d)
        subprocess.run([os.path.join(build, "bench", "bench_ledger"), run_json, n, uri],
                       check=True)
        psql = ["psql", "-h", d, "-U", "wattprint", "-d", uri.split("///")[1].split("?")[0],
                "-q", "-c"]
        subprocess.run(psql + ["VACUUM ANALYZE runs"], check=True)
        for what in (["summary", "--by", "experiment"], ["ls", "--limit", "100"]):
            best = 1e9
            for _ in range(3):
                t0 = time.perf_counter()
                subprocess.run([os.path.join(build, "wattprint")] + what + ["--ledger", uri],
                               check=True, stdout=subprocess.DEVNULL)
                best = min(best, time.perf_counter() - t0)
            print("after VACUUM ANALYZE: wattprint %s over %s runs: %.3f s (target <= 0.5 s)" %
                  (" ".join(what), n, best))
        subprocess.run(psql + ["EXPLAIN SELECT r.experiment AS k, count(*), sum(r.duration_s), "
                               "sum(r.device_hours), sum(r.energy_j), sum(r.facility_energy_j), "
                               "sum(r.emissions_g) FROM runs r GROUP BY k"], check=True)
    finally:
        pgtest.stop(d)


if __name__ == "__main__":
    main()
