#!/usr/bin/env python3
"""Benchmark: what `wattprint run -- true` adds over `true`, median of N runs
each, alternating so that drift hits both alike.
Usage: run_overhead.py WATTPRINT [N | idle | work | ledgers | start OTHER...]
(idle: only the idle costs; work: the idle cost with --work-url; ledgers:
only run -- true on each ledger backend; start: when the command starts and
what run -- true costs on each backend, for WATTPRINT and other builds of it
in the same alternating loop)"""
import os
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
    idle(wp)
    idle_ledger(wp)
    idle_steady(wp)
    attribution(wp)
    work_endpoint(wp)
    ledgers(wp)


def cpu_of(cmd):
    """CPU seconds (user + system) of cmd and what it waited for."""
    pid = os.spawnvp(os.P_NOWAIT, cmd[0], cmd)
    _, _, ru = os.wait4(pid, 0)
    return ru.ru_utime + ru.ru_stime


def idle(wp, seconds=20, extra_args=(), ledger=None):
    """wattprint's own CPU while an idle command runs, at the default 1 s
    interval: a run of 5 + seconds against one of 5, so that start-up and the
    end cancel out (the best of three pairs); with ledger, recording into it
    (its checkpoints) instead of --no-ledger."""
    quiet = ([wp, "run", "--ledger", ledger, "-q"] if ledger else [wp, "run", "--no-ledger", "-q"]) \
        + list(extra_args) + ["--"]
    extra = min(cpu_of(quiet + ["sleep", str(5 + seconds)]) - cpu_of(quiet + ["sleep", "5"])
                for _ in range(3))
    print("idle: wattprint run %s%s-- sleep: %.4f s of CPU in %d s more of an idle command = "
          "%.4f%% of one core%s" % ("(a ledger file) " if ledger else "",
                                     "".join(a + " " for a in extra_args), extra, seconds,
                                     100.0 * extra / seconds,
                                     "" if extra_args else " (target <= 0.01%)"))


def task_clock_s(cmd):
    """CPU seconds of cmd and its threads by perf stat's task-clock (counted
    to the microsecond, where getrusage here rounds to scheduler ticks)."""
    p = subprocess.run(["perf", "stat", "-e", "task-clock", "-x", ",", "--"] + cmd,
                       capture_output=True, text=True)
    line = [l for l in p.stderr.splitlines() if ",task-clock," in l][-1]
    return float(line.split(",")[0]) / 1e3


def idle_perf(wp, seconds=60, ledger=None):
    """The idle cost as idle() measures it, over a longer window (the
    ledger's checkpoints space out to one a minute) and by task-clock: the
    median of three pairs."""
    quiet = ([wp, "run", "--ledger", ledger, "-q"] if ledger else [wp, "run", "--no-ledger", "-q"])
    extra = statistics.median(task_clock_s(quiet + ["--", "sleep", str(5 + seconds)]) -
                              task_clock_s(quiet + ["--", "sleep", "5"]) for _ in range(3))
    print("idle (task-clock, %d s): wattprint run %s-- sleep: %.5f s of CPU = %.4f%% of one core"
          % (seconds, "(a ledger file) " if ledger else "--no-ledger ", extra,
             100.0 * extra / seconds))


def idle_steady(wp, pairs=1, start_s=40, seconds=60):
    """The idle cost once started: perf's task-clock of the running
    wattprint (every thread, not the command) from start_s for seconds, into
    a ledger file beside --no-ledger, alternating. Start-up and the first,
    closer checkpoints (5, 15, 35 s) are outside the window; one a minute is
    inside it, as in any longer run."""
    import tempfile
    got = {"ledger": [], "none": []}
    for _ in range(pairs):
        for mode in got:
            with tempfile.TemporaryDirectory() as tmp:
                where = (["--ledger", os.path.join(tmp, "ledger.db")] if mode == "ledger"
                         else ["--no-ledger"])
                p = subprocess.Popen([wp, "run", "-q"] + where +
                                     ["--", "sleep", str(start_s + seconds + 10)],
                                     stderr=subprocess.DEVNULL)
                time.sleep(start_s)
                q = subprocess.run(["perf", "stat", "-e", "task-clock", "-x", ",", "-p",
                                    str(p.pid), "--", "sleep", str(seconds)],
                                   capture_output=True, text=True)
                ms = float([l for l in q.stderr.splitlines() if ",task-clock," in l][-1]
                           .split(",")[0])
                got[mode].append(100.0 * ms / 1e3 / seconds)
                p.wait()
    print("idle once started (task-clock of wattprint, %d-%d s): %s into a ledger file, %s with "
          "--no-ledger (%% of one core; target <= 0.01%% with the ledger)"
          % (start_s, start_s + seconds, ", ".join("%.4f%%" % x for x in got["ledger"]),
             ", ".join("%.4f%%" % x for x in got["none"])))


def idle_ledger(wp):
    """The idle cost with the default ledger: its checkpoints."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        idle(wp, ledger=os.path.join(tmp, "ledger.db"))


def ledgers(wp, n=100):
    """`wattprint run -- true` on each ledger backend (start_delays), and the
    messages a PostgreSQL ledger is sent."""
    start_delays([wp], n, messages=True)


def percentile90(values):
    return sorted(values)[int(0.9 * (len(values) - 1))]


PQ_FLOOR = r'''
import ctypes, sys, time
t0 = time.perf_counter()
pq = ctypes.CDLL("libpq.so.5")
t1 = time.perf_counter()
pq.PQconnectdb.restype = pq.PQexec.restype = ctypes.c_void_p
conn = pq.PQconnectdb(sys.argv[1].encode())
t2 = time.perf_counter()
pq.PQclear(ctypes.c_void_p(pq.PQexec(ctypes.c_void_p(conn), b"SELECT 1")))
t3 = time.perf_counter()
pq.PQfinish(ctypes.c_void_p(conn))
print(t1 - t0, t2 - t1, t3 - t2)
'''


def pg_floor(uri, n=20):
    """What any client of a PostgreSQL ledger pays, in a fresh process each
    time: loading libpq (and its TLS, Kerberos and LDAP libraries), a
    connection (the server forks a backend), one round trip."""
    runs = [list(map(float, subprocess.run([sys.executable, "-c", PQ_FLOOR, uri], check=True,
                                           capture_output=True, text=True).stdout.split()))
            for _ in range(n)]
    load, connect, query = (statistics.median(r[i] for r in runs) * 1e3 for i in range(3))
    print("postgresql floor: loading libpq %.2f ms, connecting %.2f ms, SELECT 1 %.2f ms "
          "(medians of %d)" % (load, connect, query, n))


def start_delays(wps, n=200, messages=False):
    """For each build in wps, alternating: how long after launch the command
    starts (a `date` it runs prints the time) and the wall time of
    `run -- true` and of `run -- sleep 0.05` (a command that outlasts loading
    libpq and connecting), with --no-ledger, into a SQLite file and into a PostgreSQL
    server on a Unix socket; medians of n (and the wall time's 90th
    percentile: a tail the median hides)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "helpers"))
    import pgtest
    import tempfile
    d = pgtest.start()
    try:
        uri = pgtest.new_database(d)
        with tempfile.TemporaryDirectory() as tmp:
            file = os.path.join(tmp, "ledger.db")
            places = {"no ledger": ["--no-ledger"], "SQLite": ["--ledger", file],
                      "PostgreSQL": ["--ledger", uri]}
            late = {(wp, k): [] for wp in wps for k in places}
            wall = {(wp, k): [] for wp in wps for k in places}
            longer = {(wp, k): [] for wp in wps for k in places}
            for wp in wps:  # the first run makes each ledger's schema
                for args in places.values():
                    once([wp, "run", "-q"] + args + ["--", "true"])
            for _ in range(n):
                for wp in wps:
                    for k, args in places.items():
                        base = [wp, "run", "-q"] + args + ["--"]
                        t0 = time.time()
                        out = subprocess.run(base + ["date", "+%s.%N"], check=True,
                                             capture_output=True, text=True).stdout
                        late[wp, k].append(float(out) - t0)
                        wall[wp, k].append(once(base + ["true"]))
                        longer[wp, k].append(once(base + ["sleep", "0.05"]))
            pg_floor(uri)
            if messages:
                pg_messages(wps[0], uri)
        for wp in wps:
            print("%s: %s (medians of %d, alternating)" % (wp, "; ".join(
                "%s: the command starts %.2f ms after launch, run -- true %.2f ms (90th "
                "percentile %.2f ms), run -- sleep 0.05 %.2f ms"
                % (k, statistics.median(late[wp, k]) * 1e3, statistics.median(wall[wp, k]) * 1e3,
                   percentile90(wall[wp, k]) * 1e3, statistics.median(longer[wp, k]) * 1e3)
                for k in places), n))
            print("  the ledger's cost over --no-ledger (target <= +3 ms): SQLite %+.2f ms, "
                  "PostgreSQL %+.2f ms for true; %+.2f ms and %+.2f ms for sleep 0.05" % tuple(
                      (statistics.median(m[wp, k]) - statistics.median(m[wp, "no ledger"])) * 1e3
                      for m in (wall, longer) for k in ("SQLite", "PostgreSQL")))
    finally:
        pgtest.stop(d)


def pg_messages(wp, uri, n=5):
    """The messages `wattprint run -- true` sends a PostgreSQL ledger (each
    a round trip but the first and the last), counted with strace: a count
    this VM's timing noise cannot blur."""
    import shutil
    import tempfile
    if not shutil.which("strace"):
        print("postgresql messages: strace not installed, not counted")
        return
    counts, kinds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "trace")
        for _ in range(n):
            subprocess.run(["strace", "-f", "-e", "trace=sendto", "-o", out, wp, "run", "-q",
                            "--ledger", uri, "--", "true"], check=True)
            with open(out) as f:
                sent = [line for line in f if "sendto(" in line and "resumed" not in line]
            counts.append(len(sent))
            kinds = [line.split('"')[1][:40] for line in sent]
    print("postgresql messages per run -- true (startup and goodbye included): %s; the last: %s"
          % (counts, " | ".join(kinds)))


def work_endpoint(wp):
    """The idle cost with --work-url: a scrape a second of a stand-in's page
    of about 100 kB (tests/helpers/tokenserver.py, in this process, so its
    own CPU is not counted), beside the idle cost without it."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "helpers"))
    import tempfile
    import tokenserver
    with tempfile.TemporaryDirectory() as tmp:
        zone = os.path.join(tmp, "energy_uj")
        with open(zone, "w") as f:
            f.write("0\n")
        s = tokenserver.StandIn(zone, padding=1200)
        try:
            idle(wp)
            idle(wp, extra_args=["--work-url", s.url, "--work-from", "vllm"])
            print("work endpoint: %d scrapes of a page of %d bytes" %
                  (s.scrapes, len(tokenserver.PAGE) + len(s.padding)))
        finally:
            s.close()


def attribution(wp):
    """The same with --attribute process, which reads every /proc/PID/stat at
    each reading: its cost grows with the machine's process count."""
    n = sum(1 for d in os.listdir("/proc") if d.isdigit())
    print("attribution: %d processes on this machine" % n)
    idle(wp, extra_args=["--attribute", "process"])

if __name__ == "__main__":
    if sys.argv[2:] == ["ledgers"]:
        ledgers(sys.argv[1])
    elif sys.argv[2:] == ["idle"]:
        idle(sys.argv[1])
        idle_ledger(sys.argv[1])
        attribution(sys.argv[1])
    elif sys.argv[2:] == ["steady"]:
        idle_steady(sys.argv[1], pairs=2)
    elif sys.argv[2:] == ["work"]:
        work_endpoint(sys.argv[1])
    elif sys.argv[2:3] == ["start"]:
        start_delays([sys.argv[1]] + sys.argv[3:])
    else:
        main()
