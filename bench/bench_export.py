#!/usr/bin/env python3
"""wattprint export of an N-run ledger, beside its peer: sqlite3 -csv writing
the same table; the JSON export also beside jq re-indenting the same documents
(parsing each and writing it indented, the same work; the first 50,000, per
document); then a report of the whole project. Each is run three times; the
figures are the child's CPU time (user + system) and its largest resident set,
from wait4.

usage: bench/bench_export.py WATTPRINT N
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "helpers"))
from ledgerdoc import pack, unpack  # noqa: E402


JQ_DOCS = 50_000


def rusage(argv, env, out):
    """(CPU seconds, max RSS in MB) of one run of argv, stdout to out, as GNU
    time reports them (this process's own size would count in a fork's)."""
    with open(out, "wb") as f:
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "--"] + argv, env=env, stdout=f,
                           stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("%s failed: %s" % (argv[0], p.stderr))
    user, system, kb = p.stderr.strip().splitlines()[-1].split()
    return float(user) + float(system), int(kb) / 1024


def ledger(binary, d, n):
    """An n-run ledger: one real run of this machine, copied with new ids."""
    path = os.path.join(d, "ledger.db")
    env = dict(os.environ, WATTPRINT_LEDGER=path)
    subprocess.run([binary, "run", "-q", "--project", "bench", "--", "true"], env=env, check=True)
    con = sqlite3.connect(path)
    cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    row = dict(zip(cols, con.execute("SELECT * FROM runs").fetchone()))
    doc = json.loads(unpack(row["doc"], row["id"]))
    con.execute("DELETE FROM runs")
    sql = "INSERT INTO runs (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols)))
    with open(os.path.join(d, "docs.jsonl"), "w") as lines:  # jq's input: the stored documents
        for lo in range(0, n, 50_000):
            batch = []
            for i in range(lo, min(n, lo + 50_000)):
                doc["run_id"] = rid = "01000000-0000-7000-8000-%012x" % i
                start_s = row["start_s"] - n + i  # its document says the same start
                doc["start"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_s))
                text = json.dumps(doc, separators=(",", ":"))
                batch.append(tuple(dict(row, id=rid, start_s=start_s, doc=pack(text))[c]
                                   for c in cols))
                if i < JQ_DOCS:
                    lines.write(text + "\n")
            con.executemany(sql, batch)
            con.commit()
    con.close()
    return path, env


def main():
    binary, n = sys.argv[1], int(sys.argv[2])
    d = tempfile.mkdtemp(prefix="wattprint-bench-export-")
    try:
        path, env = ledger(binary, d, n)
        out = os.path.join(d, "out")
        print("export of %d runs (ledger %.0f MB), best of 3:" % (n, os.path.getsize(path) / 1e6))
        floor = min(rusage(["sqlite3", "-csv", path, "SELECT * FROM runs"], env, out)
                    for _ in range(3))
        peer_bytes = os.path.getsize(out)
        print("  sqlite3 -csv (the peer)         %6.2f s CPU, %6.1f MB max RSS, %.0f MB out, "
              "%.1f ns a byte" % (floor[0], floor[1], peer_bytes / 1e6, floor[0] / peer_bytes * 1e9))
        for fmt in ("csv", "json", "codecarbon"):
            best = min(rusage([binary, "export", "--format", fmt], env, out) for _ in range(3))
            size = os.path.getsize(out)
            # per row against the peer, and per byte written (a JSON run is ten CSV rows' bytes)
            print("  wattprint export --format %-10s %6.2f s CPU (%.1fx), %6.1f MB max RSS, "
                  "%.0f MB out, %.1f ns a byte (%.1fx)" %
                  (fmt, best[0], best[0] / floor[0], best[1], size / 1e6, best[0] / size * 1e9,
                   (best[0] / size) / (floor[0] / peer_bytes)))
            if fmt == "json" and shutil.which("jq"):
                docs = min(n, JQ_DOCS)
                jq = min(rusage(["jq", ".", os.path.join(d, "docs.jsonl")], env, out)
                         for _ in range(3))
                # per document: the export also reads, unpacks, checks and adds the derived parts
                print("    beside jq . re-indenting %d of the same documents (parse, write "
                      "indented): %.1f us a document, wattprint %.1f us a run (%.2fx)" %
                      (docs, jq[0] / docs * 1e6, best[0] / n * 1e6,
                       (best[0] / n) / (jq[0] / docs)))
            elif fmt == "json":
                print("    (jq is not installed: the JSON export's second peer is left out)")
        # a project's report walks every run too (its totals), once
        best = min(rusage([binary, "report", "--project", "bench", "--markdown", "-"], env, out)
                   for _ in range(3))
        print("  wattprint report --project (Markdown) %6.2f s CPU, %6.1f MB max RSS" % best)
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
