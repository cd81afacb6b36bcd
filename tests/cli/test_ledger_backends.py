"""Every ledger command on both backends: a SQLite file and a PostgreSQL
server the tests start themselves (conftest.pg_server), through the same
fixture (`ledger`, parametrised)."""
import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest

import fakehw
from ledgerdoc import pack, unpack

DATA = os.path.join(os.path.dirname(__file__), "data")


def record(r, joules, *labels):
    cmd = r.advance_cmd("intel-rapl:0=%g" % joules, steps=2)
    p, res = r.run(list(labels) + ["--intensity", "400", "--"] + cmd)
    assert p.returncode == 0, p.stderr
    assert "cannot record" not in p.stderr, p.stderr
    return res


def test_runs_are_recorded_and_listed(ledger):
    a = record(ledger, 36, "--project", "p1", "--experiment", "sweep", "--tag", "lr=0.1")
    b = record(ledger, 18, "--project", "p2", "--job", "j7")
    runs = ledger.wp_json("ls")
    assert [r["run_id"] for r in runs] == [b["run_id"], a["run_id"]]  # newest first
    assert runs[1]["energy"]["cpu_j"] == pytest.approx(36, rel=1e-3)
    assert runs[1]["tags"] == {"lr": "0.1"} and runs[1]["status"] == "completed"
    assert [r["run_id"] for r in ledger.wp_json("ls", "--project", "p1")] == [a["run_id"]]
    assert [r["run_id"] for r in ledger.wp_json("ls", "--tag", "lr=0.1")] == [a["run_id"]]
    assert [r["run_id"] for r in ledger.wp_json("ls", "--job", "j7")] == [b["run_id"]]
    assert len(ledger.wp_json("ls", "--limit", "1")) == 1
    assert ledger.wp_json("ls", "--since", "2999-01-01") == []


def test_the_tags_of_a_command_that_ends_at_once_are_kept(ledger):
    """A command that ends before its start row is written (true, while the
    ledger opens) gets its first row at its end: its tags come with it, so
    --tag and summary by tag find it (they were lost on PostgreSQL)."""
    ids = []
    for value in ("a", "b"):
        p, res = ledger.run(["--tag", "k=" + value, "--tag", "only=x", "--", "true"])
        assert p.returncode == 0 and "cannot record" not in p.stderr, p.stderr
        ids.append(res["run_id"])
    assert [r["run_id"] for r in ledger.wp_json("ls", "--tag", "k=a")] == [ids[0]]
    assert [r["run_id"] for r in ledger.wp_json("ls", "--tag", "only=x")] == ids[::-1]
    tags = {s["key"]: s["runs"] for s in ledger.wp_json("summary", "--by", "tag:k")}
    assert tags == {"a": 1, "b": 1, None: 2}  # None: the total


def test_show_by_prefix_and_last(ledger):
    a = record(ledger, 10)
    b = record(ledger, 20)
    assert ledger.wp_json("show", "last")["run_id"] == b["run_id"]
    assert ledger.wp_json("show", a["run_id"][:30])["run_id"] == a["run_id"]
    p = ledger.wp("show", "ffffffff")
    assert p.returncode != 0 and "no run 'ffffffff'" in p.stderr
    p = ledger.wp("show", "x'; DROP TABLE runs; --")
    assert p.returncode != 0 and "is not a run id" in p.stderr
    assert len(ledger.wp_json("ls")) == 2


def test_summary_by_each_key(ledger):
    record(ledger, 10, "--project", "p1", "--tag", "q=int8", "--job", "j")
    record(ledger, 20, "--project", "p1", "--tag", "q=fp16", "--job", "j")
    record(ledger, 30, "--project", "p2")
    by = {s["key"]: s for s in ledger.wp_json("summary", "--by", "project")}
    assert by["p1"]["runs"] == 2 and by["p1"]["energy_j"] == pytest.approx(30, rel=1e-3)
    assert by[None]["runs"] == 3 and by[None]["total"]
    tags = {s["key"]: s["runs"] for s in ledger.wp_json("summary", "--by", "tag:q")}
    assert tags == {None: 3, "int8": 1, "fp16": 1}  # None: the total
    jobs = [s for s in ledger.wp_json("summary", "--by", "job") if s["key"] == "j"]
    assert jobs[0]["runs"] == 2
    days = [s for s in ledger.wp_json("summary", "--by", "day") if not s.get("total")]
    assert len(days) == 1 and len(days[0]["key"]) == 10  # YYYY-MM-DD
    hosts = [s for s in ledger.wp_json("summary", "--by", "host") if not s.get("total")]
    assert hosts[0]["runs"] == 3


def test_summary_totals_the_whole_footprint(ledger):
    """Water on site and at the power plants and embodied CO2e summed per
    group where runs carry them; null, not zero, where none does."""
    a = record(ledger, 10, "--project", "w", "--wue", "2", "--region", "FR")
    record(ledger, 20, "--project", "w")  # a given intensity alone: no water figure
    record(ledger, 30, "--project", "dry")
    by = {s["key"]: s for s in ledger.wp_json("summary", "--by", "project")}
    assert by["w"]["water_l"] == pytest.approx(10 / 3.6e6 * 2, rel=1e-3)
    assert by["w"]["water_offsite_l"] == pytest.approx(a["carbon"]["water_offsite_l"])
    assert by["dry"]["water_l"] is None and by["dry"]["water_offsite_l"] is None
    assert by["w"]["embodied_emissions_g"] is None
    total = [s for s in ledger.wp_json("summary", "--by", "project") if s.get("total")][0]
    assert total["water_offsite_l"] == pytest.approx(a["carbon"]["water_offsite_l"])
    text = ledger.wp("summary", "--by", "project").stdout
    assert "WATER-SITE" in text and "WATER-PLANTS" in text and "EMBODIED" not in text


def test_export_and_rm(ledger):
    a = record(ledger, 10, "--project", "x")
    b = record(ledger, 20, "--project", "x")
    p = ledger.wp("export", "--format", "codecarbon")
    assert p.returncode == 0 and p.stdout.count("\n") == 3
    assert json.loads(ledger.wp("export", "--format", "json").stdout)[0]["run_id"] == a["run_id"]
    # a stream with a filter and a limit: the newest N, oldest first (on PostgreSQL a
    # cursor over a query with parameters)
    c = record(ledger, 30, "--project", "y")
    newest = json.loads(ledger.wp("export", "--format", "json", "--limit", "2").stdout)
    assert [r["run_id"] for r in newest] == [b["run_id"], c["run_id"]]
    only = json.loads(ledger.wp("export", "--format", "json", "--project", "x", "--limit",
                                "5").stdout)
    assert [r["run_id"] for r in only] == [a["run_id"], b["run_id"]]
    ledger.wp("rm", c["run_id"])
    p = ledger.wp("rm", a["run_id"])
    assert p.returncode == 0, p.stderr
    assert [r["run_id"] for r in ledger.wp_json("ls")] == [b["run_id"]]


def test_import_a_sqlite_ledger_and_a_codecarbon_file(ledger, tmp_path):
    other = ledger.env(WATTPRINT_LEDGER=str(tmp_path / "node2.db"))
    p = subprocess.run([ledger.binary, "run", "--project", "node2", "--", "true"], env=other,
                       capture_output=True, text=True)
    assert p.returncode == 0
    p = ledger.wp("import", str(tmp_path / "node2.db"))
    assert p.returncode == 0 and "1 run added" in p.stderr, p.stderr
    p = ledger.wp("import", "--format", "codecarbon",
                  os.path.join(DATA, "codecarbon-2.4.3-emissions.csv"))
    assert p.returncode == 0 and "4 runs from CodeCarbon added" in p.stderr, p.stderr
    assert len(ledger.wp_json("ls")) == 5
    p = ledger.wp("import", str(tmp_path / "node2.db"))
    assert "0 runs added, 1 already here" in p.stderr


def _many_runs(runner, path, n):
    """A SQLite ledger of n copies of one real run (new ids)."""
    import sqlite3
    p = subprocess.run([runner.binary, "run", "--project", "many", "--", "true"],
                       env=runner.env(WATTPRINT_LEDGER=path), capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    con = sqlite3.connect(path)
    cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    row = dict(zip(cols, con.execute("SELECT * FROM runs").fetchone()))
    doc = json.loads(unpack(row["doc"], row["id"]))
    for i in range(n - 1):
        doc["run_id"] = rid = "03000000-0000-7000-8000-%012x" % i
        con.execute("INSERT INTO runs (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                    tuple(dict(row, id=rid, doc=pack(json.dumps(doc)))[c] for c in cols))
    con.commit()
    con.close()


def test_an_import_larger_than_a_batch(ledger, tmp_path):
    """1,201 runs (on PostgreSQL: three multi-row statements of at most 500)
    imported, then imported again: all added, then all already here."""
    node = str(tmp_path / "node3.db")
    _many_runs(ledger, node, 1201)
    p = ledger.wp("import", node)
    assert p.returncode == 0 and "1201 runs added" in p.stderr, p.stderr
    p = ledger.wp("import", node)
    assert p.returncode == 0 and "0 runs added, 1201 already here" in p.stderr, p.stderr
    assert len(ledger.wp_json("ls", "--project", "many")) == 1201


def test_two_nodes_write_one_job(ledger, tmp_path):
    """Two "nodes" (two fake sysfs trees) measure parts of one job into one ledger."""
    nodes = []
    for n in ("a", "b"):
        sysfs = str(tmp_path / ("sys-" + n))
        fakehw.make_zone(sysfs, "intel-rapl:0", "package-0")
        nodes.append(sysfs)
    procs = [subprocess.Popen([ledger.binary, "run", "--job", "4242", "--sensors", "rapl", "--",
                               sys.executable, fakehw.__file__, "advance", s, "--zone",
                               "intel-rapl:0=%d" % j, "--steps", "2"],
                              env=ledger.env(WATTPRINT_SYSFS=s), stderr=subprocess.PIPE)
             for s, j in zip(nodes, (10, 30))]
    assert [p.wait() for p in procs] == [0, 0]
    job = [s for s in ledger.wp_json("summary", "--by", "job") if s["key"] == "4242"][0]
    assert job["runs"] == 2 and job["energy_j"] == pytest.approx(40, rel=1e-3)


def test_many_writers_at_once(ledger):
    procs = [subprocess.Popen([ledger.binary, "run", "-q", "--project", "many", "--", "true"],
                              env=ledger.env(), stderr=subprocess.PIPE, text=True)
             for _ in range(32)]
    errors = [p.stderr.read() for p in procs]
    assert [p.wait() for p in procs] == [0] * 32
    assert not any("cannot record" in e for e in errors), errors
    assert len(ledger.wp_json("ls", "--project", "many")) == 32


def test_postgresql_location_is_never_a_path(runner, tmp_path):
    runner.ledger = "postgresql://bob:s3cret@127.0.0.1:1/ledger"
    p, r = runner.run(["--", "true"], cwd=str(tmp_path))
    assert p.returncode == 0  # the command ran, its status kept
    assert "cannot reach the PostgreSQL ledger" in p.stderr
    assert "s3cret" not in p.stderr and "bob:***@" in p.stderr
    assert os.listdir(tmp_path) == ["result.json"] or "postgresql:" not in os.listdir(tmp_path)
    p = runner.wp("ls")
    assert p.returncode != 0 and "s3cret" not in p.stderr


def _status_of(runner, run_id):
    return [r for r in runner.wp_json("ls") if r["run_id"] == run_id][0]["status"]


def test_a_killed_run_shows_as_interrupted(ledger):
    import signal
    import time
    p = subprocess.Popen([ledger.binary, "run", "--checkpoint", "0.2", "--json",
                          str(ledger.tmp / "never.json"), "--", "sleep", "300"],
                         env=ledger.env(), stderr=subprocess.PIPE, start_new_session=True)
    try:
        running = []
        while not running:  # the state: its first row is in the ledger
            assert p.poll() is None
            q = ledger.wp("ls", "--json")
            running = [r for r in json.loads(q.stdout or "[]") if r["status"] == "running"]
            time.sleep(0.05)
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # wattprint and its command, as a node dying would
        p.wait()
    assert _status_of(ledger, running[0]["run_id"]) == "interrupted"


def test_a_run_whose_node_went_silent_shows_as_interrupted(runner, pg_uri):
    """Another host's run (its pid means nothing here) whose checkpoints stopped
    long ago, against one that checkpointed just now."""
    import time
    runner.ledger = pg_uri
    p, r = runner.run(["--", "true"])  # the schema, by a first writer
    now = time.time()
    rows = [("aaaaaaaa-0000-7000-8000-000000000001", now - 1000),
            ("aaaaaaaa-0000-7000-8000-000000000002", now - 1)]
    def doc(i):  # a run as another host's wattprint stores it while running
        d = dict(r, run_id=i, status="running", checkpoint_interval_s=5, host="node-b")
        for derived in ("equivalents", "sci", "assumptions"):
            d.pop(derived, None)
        return json.dumps(d).replace("'", "''")
    sql = ";".join(
        "INSERT INTO runs (id, status, start_s, host, checkpoint_s, result) VALUES ('%s', "
        "'running', %f, 'node-b', %f, '%s')" % (i, t - 10, t, doc(i)) for i, t in rows)
    host = pg_uri.split("host=")[1].split("&")[0]
    db = pg_uri.split("///")[1].split("?")[0]
    subprocess.run(["psql", "-h", host, "-U", "wattprint", "-d", db, "-q", "-c", sql], check=True)
    assert _status_of(runner, rows[0][0]) == "interrupted"
    assert _status_of(runner, rows[1][0]) == "running"


def test_a_recorder_marks_dead_runs_at_its_first_checkpoint(runner, pg_uri):
    """A run's recorder leaves the ledger's housekeeping off a short
    command's path: another host's silent run is marked interrupted by the
    recorder at its first checkpoint (its command waits for that state)."""
    import time
    runner.ledger = pg_uri
    p, r = runner.run(["--", "true"])  # the schema, by a first writer
    rid, now = "aaaaaaaa-0000-7000-8000-000000000003", time.time()
    d = dict(r, run_id=rid, status="running", checkpoint_interval_s=5, host="node-b")
    for derived in ("equivalents", "sci", "assumptions"):
        d.pop(derived, None)
    host = pg_uri.split("host=")[1].split("&")[0]
    db = pg_uri.split("///")[1].split("?")[0]
    psql = ["psql", "-h", host, "-U", "wattprint", "-d", db, "-q"]
    subprocess.run(psql + ["-c", "INSERT INTO runs (id, status, start_s, host, checkpoint_s, "
                           "result) VALUES ('%s', 'running', %f, 'node-b', %f, '%s')" % (
                               rid, now - 1010, now - 1000, json.dumps(d).replace("'", "''"))],
                   check=True)
    wait = "until %s -tAc \"SELECT status FROM runs WHERE id = '%s'\" | grep -q interrupted; " \
        "do sleep 0.05; done" % (" ".join(psql), rid)
    p, _ = runner.run(["--checkpoint", "0.2", "--", "sh", "-c", wait], timeout=120)
    assert p.returncode == 0, p.stderr


def _psql(uri, sql, db="postgres"):
    host = uri.split("host=")[1].split("&")[0]
    subprocess.run(["psql", "-h", host, "-U", "wattprint", "-d", db, "-q", "-c", sql], check=True,
                   capture_output=True)


def test_a_schema_3_postgresql_ledger_gets_its_footprint_from_the_documents(measured, pg_uri):
    """Schema 4 keeps the footprint the summaries total in columns: the runs of
    a schema-3 ledger (made so by dropping them) get theirs from their JSON."""
    measured.ledger = pg_uri
    a = record(measured, 10, "--project", "w", "--wue", "2", "--region", "FR")
    record(measured, 20, "--project", "w")
    db = pg_uri.split("///")[1].split("?")[0]
    _psql(pg_uri, "DROP INDEX runs_project_sums; DROP INDEX runs_experiment_sums;"
          "ALTER TABLE runs DROP COLUMN water_l, DROP COLUMN water_offsite_l,"
          " DROP COLUMN embodied_g;"
          "CREATE INDEX runs_project_sums ON runs(project) INCLUDE (start_s, duration_s,"
          " device_hours, energy_j, facility_energy_j, emissions_g);"
          "CREATE INDEX runs_experiment_sums ON runs(experiment) INCLUDE (start_s, duration_s,"
          " device_hours, energy_j, facility_energy_j, emissions_g);"
          "UPDATE wattprint_schema SET version = 3;"
          "CREATE ROLE reader_%s LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public"
          " TO reader_%s" % (db, db), db=db)

    def summed(env):
        w = {s["key"]: s for s in measured.wp_json("summary", "--by", "project", env=env)}["w"]
        assert w["runs"] == 2
        assert w["water_l"] == pytest.approx(10 / 3.6e6 * 2, rel=1e-3)
        assert w["water_offsite_l"] == pytest.approx(a["carbon"]["water_offsite_l"])
        assert w["embodied_emissions_g"] is None

    # a role that may only read: the footprint through a view, the ledger unchanged
    summed(measured.env(WATTPRINT_LEDGER=pg_uri.replace("user=wattprint", "user=reader_" + db)))
    summed(measured.env())  # the ledger's owner reads: it migrates
    p = subprocess.run(["psql", "-h", pg_uri.split("host=")[1].split("&")[0], "-U", "wattprint",
                        "-d", db, "-tAc", "SELECT version FROM wattprint_schema"],
                       capture_output=True, text=True, check=True)
    assert p.stdout.strip() == "4"


def test_a_server_out_of_reach_before_the_run_keeps_it_for_later(runner, pg_server, tmp_path):
    uri = "postgresql:///later?host=%s&user=wattprint" % pg_server  # no such database yet
    runner.ledger = uri
    env = runner.env(XDG_DATA_HOME=str(tmp_path / "data"))
    p = subprocess.run([runner.binary, "run", "--", "sh", "-c", "exit 3"], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 3  # the command's own status
    lines = [l for l in p.stderr.splitlines() if "cannot take this run" in l]
    assert len(lines) == 1 and "wattprint sync" in lines[0]
    spool = os.listdir(tmp_path / "data" / "wattprint" / "spool")
    assert any(f.endswith(".db") for f in spool)
    _psql(uri, "CREATE DATABASE later")
    p = subprocess.run([runner.binary, "sync"], env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "1 run kept while the ledger was out of reach was sent" in p.stderr
    runs = json.loads(subprocess.run([runner.binary, "ls", "--json"], env=env,
                                     capture_output=True, text=True).stdout)
    assert len(runs) == 1 and runs[0]["exit_code"] == 3
    p = subprocess.run([runner.binary, "sync"], env=env, capture_output=True, text=True)
    assert "nothing was waiting" in p.stderr  # exactly once
    subprocess.run([runner.binary, "run", "-q", "--", "true"], env=env, check=True)
    assert len(json.loads(subprocess.run([runner.binary, "ls", "--json"], env=env,
                                         capture_output=True, text=True).stdout)) == 2


def test_a_server_lost_mid_run_gets_the_run_later(runner, pg_uri, tmp_path):
    runner.ledger = pg_uri
    env = runner.env(XDG_DATA_HOME=str(tmp_path / "data"))
    db = pg_uri.split("///")[1].split("?")[0]
    go = tmp_path / "go"
    p = subprocess.Popen([runner.binary, "run", "--checkpoint", "0.2", "--", sys.executable, "-c",
                          "import os, time\nwhile not os.path.exists(%r): time.sleep(0.01)"
                          % str(go)], env=env, stderr=subprocess.PIPE, text=True)
    while True:  # the state: the running row is on the server
        q = subprocess.run([runner.binary, "ls", "--json"], env=env, capture_output=True,
                           text=True)
        if q.returncode == 0 and json.loads(q.stdout):
            break
        assert p.poll() is None
    _psql(pg_uri, "DROP DATABASE %s WITH (FORCE)" % db)  # the server goes, with the connection
    _psql(pg_uri, "CREATE DATABASE %s" % db)
    go.write_text("")
    err = p.stderr.read()
    assert p.wait() == 0
    assert err.count("cannot take this run") == 1, err
    subprocess.run([runner.binary, "sync"], env=env, check=True, capture_output=True)
    runs = json.loads(subprocess.run([runner.binary, "ls", "--json"], env=env,
                                     capture_output=True, text=True).stdout)
    assert [r["status"] for r in runs] == ["completed"]


def _checkpointed_run(runner, env, go):
    """A run started against the ledger, its command waiting for go; returns
    once a checkpoint of the running row (some duration) is on the server."""
    wait_then_work = ["sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.01; done; exec "$@"',
                      str(go)] + runner.advance_cmd("intel-rapl:0=40", steps=2)
    p = subprocess.Popen([runner.binary, "run", "--checkpoint", "0.2", "--"] + wait_then_work,
                         env=env, stderr=subprocess.PIPE, text=True)
    while True:
        q = subprocess.run([runner.binary, "ls", "--json"], env=env, capture_output=True,
                           text=True)
        if q.returncode == 0 and [r for r in json.loads(q.stdout) if r["duration_s"] > 0]:
            return p
        assert p.poll() is None


@pytest.mark.parametrize("back", ["before the end", "after the end"])
def test_a_server_crash_mid_run_keeps_the_final_result(measured, tmp_path, back):
    """pg_ctl -m immediate while a run checkpoints: the server keeps the
    checkpoint. Back before the run ends, the final result goes on a new
    connection; back after, it is spooled, and sync must replace the
    checkpoint with it, never skip it."""
    import pgtest
    runner = measured
    server = pgtest.start()
    try:
        runner.ledger = pgtest.new_database(server)
        env = runner.env(XDG_DATA_HOME=str(tmp_path / "data"))
        go = tmp_path / "go"
        p = _checkpointed_run(runner, env, go)
        pgtest.crash(server)
        if back == "before the end":
            pgtest.start_again(server)
        go.write_text("")
        err = p.stderr.read()
        assert p.wait() == 0, err
        if back == "after the end":
            assert err.count("cannot take this run") == 1, err
            pgtest.start_again(server)
        s = subprocess.run([runner.binary, "sync"], env=env, capture_output=True, text=True)
        assert s.returncode == 0, s.stderr
        if back == "after the end":
            assert "1 run sent; 1 replaced the checkpoint" in s.stderr, s.stderr
        runs = json.loads(subprocess.run([runner.binary, "ls", "--json"], env=env,
                                         capture_output=True, text=True).stdout)
        assert [r["status"] for r in runs] == ["completed"], (err, s.stderr)
        assert runs[0]["energy"]["cpu_j"] == pytest.approx(40, rel=1e-3)
    finally:
        pgtest.stop(server)


def test_an_import_replaces_a_checkpoint_with_the_final_result(measured, tmp_path):
    runner = measured
    runner.ledger = str(tmp_path / "team.db")
    p, r = runner.run(["--project", "x", "--"] + runner.advance_cmd("intel-rapl:0=12", steps=2))
    final = tmp_path / "final.db"
    subprocess.run(["cp", runner.ledger, str(final)], check=True)
    import sqlite3
    with sqlite3.connect(runner.ledger) as db:  # the team ledger kept only a checkpoint
        (doc, rid) = db.execute("SELECT doc, id FROM runs").fetchone()
        doc = json.loads(unpack(doc, rid))
        doc["status"] = "interrupted"
        db.execute("UPDATE runs SET status = 'interrupted', energy_j = 1, checkpoint_s = "
                   "start_s + 0.1, doc = ?", (pack(json.dumps(doc)),))
    q = runner.wp("import", str(final))
    assert q.returncode == 0 and "1 replaced by a later state" in q.stderr, q.stderr
    (back,) = runner.wp_json("ls")
    assert back["status"] == "completed"
    assert back["energy"]["cpu_j"] == pytest.approx(12, rel=1e-3)
    q = runner.wp("import", str(final))  # the same state again: nothing to do
    assert "0 runs added, 1 already here" in q.stderr and "replaced" not in q.stderr


def test_summary_by_user_and_a_report(ledger):
    record(ledger, 10, "--experiment", "e")
    users = [s for s in ledger.wp_json("summary", "--by", "user") if not s.get("total")]
    assert users[0]["runs"] == 1
    p = ledger.wp("report", "--experiment", "e", "--markdown", "-")
    assert p.returncode == 0, p.stderr
    assert "## Energy and carbon of experiment e" in p.stdout and "1 runs" in p.stdout
    p = ledger.wp("report", "last", "--html", "-")
    assert p.returncode == 0 and p.stdout.startswith("<!DOCTYPE html>")
    assert "<svg" in p.stdout  # power over time, from the stored samples
    assert len(ledger.wp_json("show", "last")["samples"]["t_s"]) >= 2


def test_a_postgresql_ledger_into_a_sqlite_one(runner, pg_uri, tmp_path):
    runner.ledger = pg_uri
    p, r = runner.run(["--project", "team", "--", "true"])
    local = runner.env(WATTPRINT_LEDGER=str(tmp_path / "mine.db"))
    p = subprocess.run([runner.binary, "import", pg_uri], env=local, capture_output=True,
                       text=True)
    assert p.returncode == 0 and "1 run added" in p.stderr, p.stderr
    runs = json.loads(subprocess.run([runner.binary, "ls", "--json"], env=local,
                                     capture_output=True, text=True).stdout)
    assert [x["run_id"] for x in runs] == [r["run_id"]]


def test_without_libpq_the_ledger_says_what_to_install(runner, tmp_path):
    runner.ledger = "postgresql:///x?host=/nonexistent"
    env = runner.env(WATTPRINT_LIBPQ="/nonexistent/libpq.so.5",
                     XDG_DATA_HOME=str(tmp_path / "data"))
    p = subprocess.run([runner.binary, "ls"], env=env, capture_output=True, text=True)
    assert p.returncode == 1 and "a PostgreSQL ledger needs libpq (apt-get install libpq5)" in p.stderr
    p = subprocess.run([runner.binary, "run", "--", "sh", "-c", "exit 4"], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 4 and "kept in" in p.stderr  # spooled, the status kept


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_cut_off_by_a_server_crash_says_so(runner, tmp_path, fmt):
    """The server crashes while an export streams through its cursor: the
    export must fail, say why, and not end as if the ledger were shorter.
    The crash comes while the export is still in its first fetch of 500 (a
    fetch's rows exceed the pipe, and one line of it has been read), so the
    next fetch meets it: no timing decides."""
    import pgtest
    server = pgtest.start()
    try:
        runner.ledger = pgtest.new_database(server)
        node = str(tmp_path / "node.db")
        _many_runs(runner, node, 1500)
        assert runner.wp("import", node).returncode == 0
        p = subprocess.Popen([runner.binary, "export", "--format", fmt], env=runner.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = p.stdout.readline()
        assert first, p.stderr.read()
        pgtest.crash(server)
        rest = p.stdout.read()
        err = p.stderr.read().decode()
        assert p.wait() != 0, err
        assert err.startswith("wattprint export: PostgreSQL: "), err
        assert "WARNING" not in err, err  # the server's notice is not passed through raw
        said = re.search(r"stopped after (\d+) runs and is incomplete", err)
        assert said, err
        if fmt == "csv":  # one line a run, after the header
            assert (first + rest).decode().count("\n") - 1 == int(said.group(1))
        assert 0 < int(said.group(1)) < 1500
    finally:
        pgtest.stop(server)


def test_a_group_report_is_the_same_from_columns_and_from_whole_runs(runner, pg_uri, tmp_path):
    """A project's report totals its runs from a SQLite ledger's columns and
    the one member it takes out of each document (the energy's range); a
    PostgreSQL ledger reads each whole run. The same runs, with and without
    a range, water, embodied CO2e, PUEs and regions of their own, give the
    same report both ways, byte for byte."""
    local = str(tmp_path / "mine.db")
    runner.ledger = local
    for args in (["--wue", "2", "--region", "FR"], ["--embodied-g", "5", "--pue", "1.3"],
                 ["--region", "DE"]):
        p, _ = runner.run(["--project", "mix"] + args + ["--", "true"])  # estimated: a range
        assert p.returncode == 0, p.stderr
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    p, _ = runner.run(["--project", "mix", "--intensity", "300", "--"] +
                      runner.advance_cmd("intel-rapl:0=12", steps=2))  # measured: none
    assert p.returncode == 0, p.stderr
    team = runner.env(WATTPRINT_LEDGER=pg_uri)
    p = runner.wp("import", local, env=team)
    assert p.returncode == 0 and "4 runs added" in p.stderr, p.stderr
    for out in ("--markdown", "--model-card", "--html"):
        mine, ours = (runner.wp("report", "--project", "mix", out, "-", env=e)
                      for e in (runner.env(), team))
        assert mine.returncode == 0 and ours.returncode == 0, mine.stderr + ours.stderr
        assert mine.stdout == ours.stdout
    md = runner.wp("report", "--project", "mix", "--markdown", "-").stdout
    assert "4 runs," in md and re.search(r"\| likely energy range \([34] estimated runs\) \|", md), md


def _with_a_share(path, rid):
    """Run rid's document in the SQLite ledger at path given one GPU's share
    (as --attribute process keeps it: the share counted, the whole not), and
    the ledger taken back to schema 4, whose migration fills the GPUs'
    columns from the documents."""
    import sqlite3
    from test_ledger_pack import make_schema_4
    con = sqlite3.connect(path)
    (blob,) = con.execute("SELECT doc FROM runs WHERE id = ?", (rid,)).fetchone()
    d = json.loads(unpack(blob, rid))
    share = {"sensor": "nvml", "component": "gpu", "device": "gpu0", "method": "measured",
             "energy_j": 6.0, "counted": True, "share_of": "gpu0-all", "name": "NVIDIA A100"}
    d["channels"] += [share, dict(share, device="gpu0-all", energy_j=10.0, counted=False,
                                  share_of=None)]
    d["energy"]["gpu_j"] = 6.0
    con.execute("UPDATE runs SET doc = ?, gpu_j = 6.0 WHERE id = ?",
                (pack(json.dumps(d, separators=(",", ":"))), rid))
    con.commit()
    con.close()
    make_schema_4(path)


def test_a_codecarbon_export_is_the_same_from_columns_and_from_whole_runs(runner, pg_uri,
                                                                          tmp_path):
    """CodeCarbon's rows come from a SQLite ledger's columns and a few members
    SQLite takes out of each document (the machine, the grid's name, an
    imported row's own cells); a PostgreSQL ledger reads each whole run. Runs
    with GPUs (their columns filled by the migration to schema 5, one with a
    process's share, and written by a run after it), water, an experiment, a region given, a cloud's
    and one assumed, and CodeCarbon's own rows give the same file both ways, byte for
    byte, with the GPUs counted once."""
    from test_gpu import env as gpu_env, gpu
    local = str(tmp_path / "mine.db")
    runner.ledger = local
    runner.nvml, runner.rocm = str(tmp_path / "nvml"), str(tmp_path / "rocm")
    fakehw.make_gpus(runner.nvml, [gpu(0), gpu(1)])
    # two GPUs: one run before the migration, whose columns it fills, one after, as the run
    # writes them
    p, before = runner.run(["--project", "cc", "--experiment", "e1", "--", "true"],
                           env=gpu_env(runner))
    assert p.returncode == 0, p.stderr
    for args in (["--wue", "2", "--region", "FR"], ["--region", "aws:us-east-1"],
                 ["--pue", "1.3"]):
        p, last = runner.run(["--project", "cc"] + args + ["--", "true"])
        assert p.returncode == 0, p.stderr
    _with_a_share(local, last["run_id"])
    p = runner.wp("import", "--format", "codecarbon",  # migrates to schema 5
                  os.path.join(DATA, "codecarbon-3.x-emissions.csv"))
    assert p.returncode == 0, p.stderr
    p, after = runner.run(["--project", "cc", "--experiment", "e1", "--", "true"],
                          env=gpu_env(runner))
    assert p.returncode == 0, p.stderr
    team = runner.env(WATTPRINT_LEDGER=pg_uri)
    p = runner.wp("import", local, env=team)  # migrates mine to schema 5 first
    assert p.returncode == 0, p.stderr
    mine, ours = (runner.wp("export", "--format", "codecarbon", env=e)
                  for e in (runner.env(), team))
    assert mine.returncode == 0 and ours.returncode == 0, mine.stderr + ours.stderr
    assert mine.stdout == ours.stdout
    rows = {r["run_id"]: r for r in csv.DictReader(io.StringIO(mine.stdout))}
    for run in (before, after):
        g = rows[run["run_id"]]
        assert (g["gpu_count"], g["gpu_model"], g["tracking_mode"]) == \
            ("2", "NVIDIA H100 80GB HBM3", "machine")
    assert g["experiment_id"] != rows[last["run_id"]]["experiment_id"]
    s = rows[last["run_id"]]
    assert (s["gpu_count"], s["gpu_model"], s["tracking_mode"]) == \
        ("1", "NVIDIA A100", "process")
    assert float(s["gpu_energy"]) == pytest.approx(6.0 * 1.3 / 3.6e6, rel=1e-9)
    fr = [r for r in rows.values() if r["country_iso_code"] == "FRA" and r["cpu_model"]]
    assert fr and float(fr[0]["water_consumed"]) > 0, rows
    assert [(r["cloud_provider"], r["cloud_region"], r["on_cloud"]) for r in rows.values()
            if r["cloud_provider"]] == [("aws", "us-east-1", "Y")]
    assert len(rows) > 4  # CodeCarbon's own rows, given back as they came
