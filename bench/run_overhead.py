#!/usr/bin/env python3
"""Benchmark: what `wattprint run -- true` adds over `true`, median of N runs
each, alternating so that drift hits both alike.
Usage: run_overhead.py WATTPRINT [N]"""
import statistics
import subprocess
import sys
import time


def once(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    wp = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    plain, wrapped = [], []
    for _ in range(n):
        plain.append(once(["true"]))
        wrapped.append(once([wp, "run", "--no-ledger", "-q", "--", "true"]))
    mp, mw = statistics.median(plain), statistics.median(wrapped)
    print("true: median %.2f ms; wattprint run -- true: median %.2f ms; added %.2f ms (n=%d)"
          % (mp * 1e3, mw * 1e3, (mw - mp) * 1e3, n))


if __name__ == "__main__":
    main()
