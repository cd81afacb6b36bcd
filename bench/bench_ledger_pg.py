#!/usr/bin/env python3
"""The ledger benchmark on PostgreSQL: bench_ledger against a server started
here as the tests start theirs (tests/helpers/pgtest.py).
Usage: bench/bench_ledger_pg.py BUILD_DIR RUN.json [RUNS]"""
import os
import subprocess
import sys

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
    finally:
        pgtest.stop(d)


if __name__ == "__main__":
    main()
