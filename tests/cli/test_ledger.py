"""The ledger: real SQLite files in temporary directories."""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import pytest

import fakehw
from ledgerdoc import pack, unpack


def record(r, joules, *labels, exit_code=0):
    cmd = r.advance_cmd("intel-rapl:0=%g" % joules, steps=2, extra=["--exit", str(exit_code)])
    p, res = r.run(list(labels) + ["--intensity", "400", "--"] + cmd)
    assert p.returncode == exit_code, p.stderr
    return res


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_runs_are_recorded_with_labels(measured):
    res = record(measured, 36, "--project", "p1", "--experiment", "sweep", "--tag", "lr=0.1",
                 "--tag", "seed=1", "--job", "j7")
    runs = measured.wp_json("ls")
    assert len(runs) == 1
    run = runs[0]
    assert run["run_id"] == res["run_id"]
    assert run["status"] == "completed"
    assert run["project"] == "p1" and run["experiment"] == "sweep" and run["job"] == "j7"
    assert run["tags"] == {"lr": "0.1", "seed": "1"}
    assert run["energy"]["cpu_j"] == pytest.approx(36, rel=1e-3)
    assert run["cwd"] and run["host"] and run["command"][0] == sys.executable
    shown = measured.wp_json("show", res["run_id"][:13])
    assert shown["run_id"] == res["run_id"]
    assert shown["samples"]["channels"] == ["package-0", "dram-0"]
    t = shown["samples"]["t_s"]
    assert t[0] == 0 and t == sorted(t) and len(t) >= 2
    assert shown["samples"]["energy_j"][-1][0] == pytest.approx(36, rel=1e-3)
    p = measured.wp("show", "last")
    assert p.returncode == 0 and res["run_id"] in p.stdout and "p1" in p.stdout


def test_rollups(measured):
    record(measured, 10, "--project", "a", "--experiment", "x", "--tag", "lr=1")
    record(measured, 20, "--project", "a", "--experiment", "y", "--tag", "lr=2")
    record(measured, 30, "--project", "b", "--experiment", "y", "--tag", "lr=1")
    record(measured, 5, exit_code=2)
    by_exp = {g["key"]: g for g in measured.wp_json("summary", "--by", "experiment")
              if not g.get("total")}
    assert by_exp["x"]["runs"] == 1 and by_exp["y"]["runs"] == 2
    assert by_exp["y"]["energy_j"] == pytest.approx(50, rel=1e-3)
    assert by_exp[None]["runs"] == 1  # the run filed under no experiment
    total = measured.wp_json("summary", "--by", "experiment")[-1]
    assert total["key"] is None and total["total"] is True and total["runs"] == 4
    assert total["energy_j"] == pytest.approx(65, rel=1e-3)
    assert total["emissions_g"] == pytest.approx(65 / 3.6e6 * 400, rel=1e-3)
    for key in ("key", "runs", "duration_s", "energy_j", "facility_energy_j", "emissions_g",
                "device_hours"):
        assert key in total
    by_tag = {g["key"]: g for g in measured.wp_json("summary", "--by", "tag:lr")}
    assert by_tag["1"]["runs"] == 2 and by_tag["1"]["energy_j"] == pytest.approx(40, rel=1e-3)
    by_proj = {g["key"]: g for g in measured.wp_json("summary", "--by", "project",
                                                       "--experiment", "y")}
    assert by_proj["a"]["runs"] == 1 and by_proj["b"]["runs"] == 1
    days = measured.wp_json("summary", "--by", "day")
    assert days[0]["key"] == time.strftime("%Y-%m-%d", time.gmtime()) and days[0]["runs"] == 4
    hosts = measured.wp_json("summary", "--by", "host")
    assert hosts[0]["runs"] == 4
    p = measured.wp("summary", "--by", "colour")
    assert p.returncode == 2 and "--by" in p.stderr


def test_ls_filters(measured):
    record(measured, 1, "--project", "a", "--tag", "k=v")
    record(measured, 2, "--project", "b")
    record(measured, 3, "--project", "a")
    assert len(measured.wp_json("ls", "--project", "a")) == 2
    assert len(measured.wp_json("ls", "--tag", "k=v")) == 1
    newest = measured.wp_json("ls", "--limit", "1")
    assert len(newest) == 1 and newest[0]["energy"]["cpu_j"] == pytest.approx(3, rel=1e-3)
    assert len(measured.wp_json("ls", "--since", "1h")) == 3
    assert len(measured.wp_json("ls", "--since", "2999-01-01")) == 0
    p = measured.wp("ls")
    assert p.returncode == 0 and p.stdout.count("\n") == 4
    for bad in (["--limit", "0"], ["--since", "yesterday"], ["--tag", "novalue"]):
        p = measured.wp("ls", *bad)
        assert p.returncode == 2, bad
        assert bad[0] in p.stderr


def test_rm(measured):
    a = record(measured, 1)
    b = record(measured, 2)
    p = measured.wp("rm", a["run_id"])
    assert p.returncode == 0 and "deleted 1 run" in p.stderr
    assert [r["run_id"] for r in measured.wp_json("ls")] == [b["run_id"]]
    p = measured.wp("rm", "ffffffff")
    assert p.returncode == 1 and "no run" in p.stderr


def test_a_damaged_run_is_an_error_naming_it_and_can_be_removed(measured):
    """A stored run missing a member reads as an error that names the member,
    never as zeros; one that is not JSON, or whose packed document is damaged,
    likewise; rm still removes them all. (a and b are stored as text, as a
    ledger of schema 1 kept them.)"""
    a = record(measured, 1)
    b = record(measured, 2)
    c = record(measured, 3)
    good = record(measured, 4)
    con = sqlite3.connect(measured.ledger)
    doc = json.loads(unpack(con.execute("SELECT doc FROM runs WHERE id = ?",
                                        (a["run_id"],)).fetchone()[0], a["run_id"]))
    del doc["carbon"]["emissions_g"]
    con.execute("UPDATE runs SET result = ?, doc = NULL WHERE id = ?",
                (json.dumps(doc), a["run_id"]))
    con.execute("UPDATE runs SET result = '{\"run_id\": ', doc = NULL WHERE id = ?",
                (b["run_id"],))
    con.execute("UPDATE runs SET doc = substr(doc, 1, 40) WHERE id = ?", (c["run_id"],))
    con.commit()
    con.close()
    p = measured.wp("ls", "--json")
    assert p.returncode == 1 and p.stdout == ""
    assert ("carbon.emissions_g is missing" in p.stderr or "is not JSON" in p.stderr or
            "damaged" in p.stderr), p.stderr
    # the table reads the runs' columns, which hold their figures whole
    p = measured.wp("ls")
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 5, p.stderr
    p = measured.wp("show", a["run_id"])
    assert p.returncode == 1 and "carbon.emissions_g is missing" in p.stderr, p.stderr
    assert a["run_id"] in p.stderr
    p = measured.wp("show", b["run_id"][:18])
    assert p.returncode == 1 and b["run_id"] in p.stderr and "is not JSON" in p.stderr
    p = measured.wp("export", "--format", "json", "--limit", "3")  # b, c and good
    assert p.returncode == 1 and p.stdout == "", p.stderr
    assert (b["run_id"] in p.stderr and "not JSON" in p.stderr or
            c["run_id"] in p.stderr and "damaged packed run" in p.stderr), p.stderr
    # the CSV reads the runs' columns, which hold their figures whole
    p = measured.wp("export", "--format", "csv", "--limit", "3")
    assert p.returncode == 0 and p.stdout.count("\n") == 4, p.stderr
    p = measured.wp("show", c["run_id"])
    assert p.returncode == 1 and c["run_id"] in p.stderr and "damaged packed run" in p.stderr
    p = measured.wp("rm", a["run_id"][:18], b["run_id"], c["run_id"])
    assert p.returncode == 0 and "deleted 3 runs" in p.stderr, p.stderr
    assert [r["run_id"] for r in measured.wp_json("ls")] == [good["run_id"]]


def test_sixteen_concurrent_writers(measured):
    procs = [subprocess.Popen([measured.binary, "run", "--project", "sweep", "--tag",
                               "i=%d" % i, "--checkpoint", "0.1", "--interval", "0.05", "--",
                               "sleep", "0.5"], env=measured.env(), stderr=subprocess.PIPE,
                              text=True) for i in range(16)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "locked" not in err and "cannot record" not in err, err
    runs = measured.wp_json("ls", "--project", "sweep")
    assert len(runs) == 16
    assert sorted(int(r["tags"]["i"]) for r in runs) == list(range(16))
    assert all(r["status"] == "completed" for r in runs)


def test_sigkill_leaves_an_interrupted_run_with_its_checkpoint(measured):
    cmd = measured.advance_cmd("intel-rapl:0=10", steps=5, extra=["--then-sleep", "60"])
    p = subprocess.Popen([measured.binary, "run", "--checkpoint", "0.2", "--interval", "0.05",
                          "--"] + cmd, env=measured.env(), stderr=subprocess.PIPE,
                         start_new_session=True)
    t0 = time.monotonic()
    # a checkpoint that holds the 10 J (the command then sleeps): a state, not a delay
    running = []
    for _ in range(1200):
        ls = measured.wp("ls", "--json")  # fails until the ledger exists
        running = json.loads(ls.stdout) if ls.returncode == 0 else []
        if running and running[0]["energy"]["cpu_j"] >= 10 - 1e-3:
            break
        time.sleep(0.05)
    assert running[0]["status"] == "running"
    os.killpg(p.pid, signal.SIGKILL)  # wattprint and the command, as a power loss would
    p.wait()
    elapsed = time.monotonic() - t0
    runs = measured.wp_json("ls")
    assert len(runs) == 1
    assert runs[0]["status"] == "interrupted"
    assert runs[0]["energy"]["cpu_j"] == pytest.approx(10, rel=1e-3)
    assert 0 < runs[0]["duration_s"] <= elapsed


def test_not_a_ledger_is_refused_and_untouched(measured, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(8192))
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE photos (id INTEGER)")
    con.commit()
    con.close()
    for path in (junk, other):
        before = digest(path)
        p = measured.wp("ls", "--ledger", str(path))
        assert p.returncode == 1 and "not a wattprint ledger" in p.stderr
        res_p, res = measured.run(["--ledger", str(path), "--", "sh", "-c", "exit 4"])
        assert res_p.returncode == 4
        assert res_p.stderr.count("cannot record this run") == 1
        assert "not a wattprint ledger" in res_p.stderr
        assert res["status"] == "failed"
        assert digest(path) == before
        assert not os.path.exists(str(path) + "-wal")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to test an unprivileged user")
def test_read_only_ledger(measured, wattprint):
    top = tempfile.mkdtemp(prefix="wattprint-ro-")
    try:
        os.chmod(top, 0o755)
        ledger = os.path.join(top, "ledger.db")
        out = os.path.join(top, "out")
        os.mkdir(out, 0o777)
        os.chmod(out, 0o777)
        record(measured, 1, "--ledger", ledger)
        before = digest(ledger)
        binary = os.path.join(top, "wattprint")
        shutil.copy(wattprint, binary)
        os.chmod(binary, 0o755)
        env = measured.env(WATTPRINT_LEDGER=ledger, WATTPRINT_SYSFS="/nonexistent-sys",
                           WATTPRINT_PROCFS="/proc")
        env.pop("WATTPRINT_SYSFS")
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            binary, "run", "--json", out + "/r.json", "--", "sh", "-c",
                            "echo out; exit 5"], env=env, capture_output=True, text=True)
        assert p.returncode == 5 and p.stdout == "out\n"
        assert p.stderr.count("cannot record this run") == 1
        assert "energy" in p.stderr  # the measurement is still printed
        assert json.load(open(out + "/r.json"))["exit_code"] == 5
        assert digest(ledger) == before
    finally:
        shutil.rmtree(top)


def test_import_merges_without_duplicates(measured, tmp_path):
    other = str(tmp_path / "node2.db")
    mine = [record(measured, 1)["run_id"], record(measured, 2)["run_id"]]
    theirs = [record(measured, 3, "--ledger", other, "--job", "j1")["run_id"] for _ in range(3)]
    p = measured.wp("import", other)
    assert p.returncode == 0 and "3 runs added, 0 already here" in p.stderr
    p = measured.wp("import", other)
    assert p.returncode == 0 and "0 runs added, 3 already here" in p.stderr
    ids = {r["run_id"] for r in measured.wp_json("ls")}
    assert ids == set(mine) | set(theirs)
    assert measured.wp_json("show", theirs[0])["samples"]["t_s"][0] == 0
    by_job = {g["key"]: g for g in measured.wp_json("summary", "--by", "job")}
    assert by_job["j1"]["runs"] == 3
    p = measured.wp("import", str(tmp_path / "missing.db"))
    assert p.returncode == 1 and "no ledger" in p.stderr


def test_codecarbon_export(measured, tmp_path):
    res = record(measured, 36, "--project", "cc", "--experiment", "e", "--region", "FR",
                 "--pue", "1.5")
    out = tmp_path / "emissions.csv"
    p = measured.wp("export", "--format", "codecarbon", "--output", str(out))
    assert p.returncode == 0, p.stderr
    lines = out.read_text().splitlines()
    assert len(lines[0].split(",")) == 38  # CodeCarbon 3.x's columns (tests/cli/test_codecarbon.py)
    import csv
    row = next(csv.DictReader(out.open()))
    assert row["run_id"] == res["run_id"] and row["project_name"] == "cc"
    assert float(row["emissions"]) == pytest.approx(res["carbon"]["emissions_g"] / 1000)
    assert float(row["cpu_energy"]) == pytest.approx(36 * 1.5 / 3.6e6, rel=1e-3)  # PUE inside
    assert float(row["energy_consumed"]) == pytest.approx(res["facility_energy_j"] / 3.6e6)
    assert row["country_iso_code"] == "FRA" and row["pue"] == "1.5"
    p = measured.wp("export", "--format", "csv")
    assert p.returncode == 0 and p.stdout.startswith("run_id,start,end,status")
    p = measured.wp("export", "--format", "json")
    assert json.loads(p.stdout)[0]["run_id"] == res["run_id"]
    p = measured.wp("export", "--format", "xml")
    assert p.returncode == 2


def test_default_path_under_xdg_data_home(measured, tmp_path):
    env = measured.env(XDG_DATA_HOME=str(tmp_path / "xdg"))
    env.pop("WATTPRINT_LEDGER")
    p, _ = measured.run(["--", "true"], env=env)
    assert p.returncode == 0
    assert os.path.exists(tmp_path / "xdg" / "wattprint" / "ledger.db")
    p, _ = measured.run(["--no-ledger", "--", "true"], env=env)
    assert len(measured.wp_json("ls", env=env)) == 1


def test_missing_ledger_for_reading(measured, tmp_path):
    p = measured.wp("ls", "--ledger", str(tmp_path / "none.db"))
    assert p.returncode == 1 and "no ledger" in p.stderr


def test_a_hundred_thousand_runs_in_constant_memory(measured, tmp_path):
    """A generated 100,000-run ledger exported as CSV, JSON and CodeCarbon
    under a 128 MiB address-space limit (the whole ledger held in memory took
    1.6 GB): every row is there, oldest first; and a report of the project
    and ls, under the same limit (each held every run too: 3.3 GB at 200,000). The uninstrumented build runs
    it (a sanitizer's shadow memory is not the program's)."""
    binary = os.environ.get("WATTPRINT_RELEASE_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("WATTPRINT_RELEASE_BIN (the release build's wattprint) is not set")
    template = record(measured, 3, "--project", "p")
    n = 100_000
    con = sqlite3.connect(measured.ledger)
    cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    row = dict(zip(cols, con.execute("SELECT * FROM runs").fetchone()))
    doc = json.loads(unpack(row["doc"], row["id"]))
    rows = []
    for i in range(n):
        rid = "01000000-0000-7000-8000-%012x" % i
        doc["run_id"] = rid
        rows.append(dict(row, id=rid, start_s=row["start_s"] - n + i,
                         doc=pack(json.dumps(doc, separators=(",", ":")))))
    con.execute("DELETE FROM runs")
    con.executemany("INSERT INTO runs (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                    [tuple(r[c] for c in cols) for r in rows])
    con.commit()
    con.close()
    del rows
    limit = ["prlimit", "--as=%d" % (128 << 20), "--"]
    for fmt in ("csv", "json", "codecarbon"):
        out = tmp_path / ("out." + fmt)
        p = subprocess.run(limit + [binary, "export", "--format", fmt, "--output", str(out)],
                           env=measured.env(), capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, (fmt, p.stderr)
        if fmt == "json":
            ids = [r["run_id"] for r in json.load(open(out))]
        else:
            with open(out, newline="") as f:
                import csv
                ids = [r["run_id"] for r in csv.DictReader(f)]
        assert ids == ["01000000-0000-7000-8000-%012x" % i for i in range(n)], fmt
    assert template["run_id"] not in ids
    # a project's report: totals over every run, the newest 500 listed
    out = tmp_path / "report.md"
    p = subprocess.run(limit + [binary, "report", "--project", "p", "--markdown", str(out)],
                       env=measured.env(), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and "report of 100000 runs" in p.stderr, p.stderr
    md = out.read_text()
    assert "\n100000 runs, " in md, md[:400]
    assert len([line for line in md.splitlines() if line.startswith("| `01000000-")]) == 500
    # ls, every run newest first, as text and as JSON
    p = subprocess.run(limit + [binary, "ls"], env=measured.env(), capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0 and len(p.stdout.splitlines()) == n + 1, p.stderr
    p = subprocess.run(limit + [binary, "ls", "--json"], env=measured.env(), capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert [r["run_id"] for r in json.loads(p.stdout)] == \
        ["01000000-0000-7000-8000-%012x" % i for i in reversed(range(n))]


def test_an_export_that_cannot_be_written_says_so(measured):
    """A full device: the writes fail with ENOSPC as the rows stream; the
    error is named and the status is 1, in every format."""
    record(measured, 1)
    for fmt in ("csv", "json", "codecarbon"):
        p = measured.wp("export", "--format", fmt, "--output", "/dev/full")
        assert p.returncode == 1 and "No space left on device" in p.stderr, (fmt, p.stderr)


def test_a_run_says_where_it_was_recorded(measured):
    """Once, after the summary, with the command that shows it; nothing with
    -q or --no-ledger."""
    p, r = measured.run(["--", "true"])
    assert p.returncode == 0, p.stderr
    line = "recorded in %s (wattprint show %s)" % (measured.ledger, r["run_id"][:18])
    assert p.stderr.count(line) == 1 and p.stderr.rstrip().endswith(line), p.stderr
    p, _ = measured.run(["-q", "--", "true"])
    assert p.stderr == ""
    p, _ = measured.run(["--no-ledger", "--", "true"])
    assert "recorded in" not in p.stderr
