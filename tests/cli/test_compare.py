"""wattprint compare: two groups of runs, per unit of work, with intervals."""
import sys

import pytest

import fakehw


def _run(r, joules, tokens, *labels):
    cmd = ("%s %s advance %s --zone intel-rapl:0=%g --steps 2 && "
           "echo done=%d unit=tokens >> \"$WATTPRINT_PROGRESS\""
           % (sys.executable, fakehw.__file__, r.sysfs, joules, tokens))
    p, res = r.run(list(labels) + ["--sensors", "rapl", "--", "sh", "-c", cmd])
    assert p.returncode == 0, p.stderr
    return res


@pytest.fixture
def sweep(measured):
    for j in (19, 20, 21, 20):
        _run(measured, j, 1000, "--experiment", "fp16")
    for j in (11, 12, 13, 12):
        _run(measured, j, 1000, "--experiment", "int8")
    return measured


def test_a_saving_is_shown_with_its_interval(sweep):
    c = sweep.wp_json("compare", "--experiment", "fp16", "--experiment", "int8")
    assert c["per"] == "per token" and c["a"]["runs"] == 4 and c["b"]["runs"] == 4
    assert c["ratio"] == pytest.approx(12 / 20, rel=1e-3)
    lo, hi = c["ratio_ci95"]
    assert lo < 0.6 < hi and hi < 1 and c["significant"] is True
    assert c["energy_j"]["a"]["mean"] == pytest.approx(0.020, rel=1e-3)  # J per token
    assert "uses 40 % less energy per token" in c["verdict"]
    p = sweep.wp("compare", "--experiment", "fp16", "--experiment", "int8")
    assert p.returncode == 0 and "verdict: B (experiment int8) uses 40 % less" in p.stdout


def test_the_same_runs_give_the_same_interval(sweep):
    a = sweep.wp_json("compare", "--experiment", "fp16", "--experiment", "int8")
    b = sweep.wp_json("compare", "--experiment", "fp16", "--experiment", "int8")
    assert a["ratio_ci95"] == b["ratio_ci95"]


def test_noise_alone_is_not_significant(measured):
    for j in (19, 21, 20):
        _run(measured, j, 1000, "--tag", "v=a")
    for j in (21, 19, 20):
        _run(measured, j, 1000, "--tag", "v=b")
    c = measured.wp_json("compare", "--tag", "v=a", "--tag", "v=b")
    assert c["significant"] is False and c["ratio_ci95"][0] < 1 < c["ratio_ci95"][1]
    assert c["verdict"].startswith("no significant difference in energy per token")


def test_too_few_runs_are_said(measured):
    a = _run(measured, 20, 1000)
    b = _run(measured, 12, 1000)
    c = measured.wp_json("compare", "--runs", a["run_id"], "--runs", b["run_id"])
    assert c["ratio"] is None and c["significant"] is False
    assert "too few runs to compare" in c["verdict"]


def test_per_run_when_no_work_was_reported(measured):
    ids = []
    for j in (10, 11, 30, 31):
        p, r = measured.run(["--sensors", "rapl", "--"] + measured.advance_cmd(
            "intel-rapl:0=%g" % j, steps=2))
        ids.append(r["run_id"])
    c = measured.wp_json("compare", "--runs", ",".join(ids[:2]), "--runs", ",".join(ids[2:]))
    assert c["per"] == "per run" and c["ratio"] == pytest.approx(61 / 21, rel=1e-3)
    assert "more energy per run" in c["verdict"]


def test_bad_selections(measured):
    p = measured.wp("compare", "--experiment", "only-one")
    assert p.returncode == 2 and "exactly two selections" in p.stderr
    p = measured.wp("compare", "--tag", "novalue", "--tag", "k=v")
    assert p.returncode != 0


def _run_q(r, joules, loss, *labels):
    cmd = ("%s %s advance %s --zone intel-rapl:0=%g --steps 2 && "
           "echo done=1000 unit=tokens loss=%g >> \"$WATTPRINT_PROGRESS\" && "
           "echo metric.bleu=%g accuracy=0.9 >> \"$WATTPRINT_PROGRESS\""
           % (sys.executable, fakehw.__file__, r.sysfs, joules, loss, 30 - loss))
    p, res = r.run(list(labels) + ["--sensors", "rapl", "--", "sh", "-c", cmd])
    assert p.returncode == 0, p.stderr
    return res


def test_quality_is_kept_and_compared(measured):
    res = _run_q(measured, 20, 2.0, "--experiment", "big")
    assert res["work"]["quality"] == {"loss": 2.0, "bleu": 28.0, "accuracy": 0.9}
    _run_q(measured, 21, 2.2, "--experiment", "big")
    _run_q(measured, 12, 2.5, "--experiment", "small")
    _run_q(measured, 13, 2.7, "--experiment", "small")
    c = measured.wp_json("compare", "--experiment", "big", "--experiment", "small")
    assert c["quality"]["loss"]["a"]["mean"] == pytest.approx(2.1)
    assert c["quality"]["loss"]["b"]["mean"] == pytest.approx(2.6)
    assert set(c["quality"]) == {"loss", "bleu", "accuracy"}
    p = measured.wp("compare", "--experiment", "big", "--experiment", "small")
    assert "loss" in p.stdout and "bleu" in p.stdout


def test_bad_quality_values_are_malformed_lines(measured):
    cmd = ("echo done=5 loss=much >> \"$WATTPRINT_PROGRESS\"; "
           "echo metric.=1 >> \"$WATTPRINT_PROGRESS\"; echo loss=0.5 >> \"$WATTPRINT_PROGRESS\"")
    p, r = measured.run(["--", "sh", "-c", cmd])
    assert r["work"]["quality"] == {"loss": 0.5}
    assert r["work"]["done"] == 0  # the line with a bad value applied nothing


def test_a_sweeps_report_marks_the_pareto_front(measured):
    for j, loss in ((20, 2.0), (21, 2.2), (12, 2.5), (13, 2.7)):
        _run_q(measured, j, loss, "--project", "sweep")
    p = measured.wp("report", "--project", "sweep", "--html", "-")
    assert p.returncode == 0, p.stderr
    assert "Energy against loss: the Pareto front in red" in p.stdout
    assert "energy per token (J)" in p.stdout
    # 20 J and loss 2.0, 12 J and loss 2.5: the others have more energy and a worse loss
    assert p.stdout.count("(on the front)") == 2


def test_a_group_that_measured_nothing_gets_no_ratio(measured):
    zero = [_run(measured, 0, 1000, "--experiment", "zero")["run_id"] for _ in range(2)]
    some = [_run(measured, 12, 1000, "--experiment", "some")["run_id"] for _ in range(2)]
    c = measured.wp_json("compare", "--experiment", "zero", "--experiment", "some")
    assert c["ratio"] is None and c["significant"] is False
    assert c["verdict"].startswith("cannot compare energy per token: A measured none (0 J)")
    p = measured.wp("compare", "--experiment", "zero", "--experiment", "some")
    energy = [l for l in p.stdout.splitlines() if l.strip().startswith("energy")][0]
    assert "B/A" not in energy and "no significant difference" not in p.stdout
    c = measured.wp_json("compare", "--runs", some[0] + "," + some[1], "--runs",
                         zero[0] + "," + zero[1])
    assert c["ratio"] is None and "B measured none" in c["verdict"]


def test_empty_groups_and_a_run_counted_twice_are_refused(measured):
    ids = [_run(measured, j, 1000, "--experiment", "x")["run_id"] for j in (10, 11, 12)]
    p = measured.wp("compare", "--experiment", "x", "--experiment", "nothing-here")
    assert p.returncode == 1 and "B (experiment nothing-here) selects no runs" in p.stderr
    p = measured.wp("compare", "--runs", "%s,%s" % (ids[0], ids[0][:20]), "--runs",
                    "%s,%s" % (ids[1], ids[2]))
    assert p.returncode == 1 and "run %s is given twice" % ids[0] in p.stderr
    p = measured.wp("compare", "--runs", "%s,%s" % (ids[0], ids[1]), "--runs",
                    "%s,%s" % (ids[1], ids[2]))
    assert p.returncode == 1 and "run %s is in both groups" % ids[1] in p.stderr


def test_a_group_of_more_than_4096_runs_is_compared_by_its_newest(measured):
    """Its newest 4096 (one run more is the oldest, an outlier that must not
    count), said in the line and the JSON; a group within the bound is whole."""
    import json
    import sqlite3
    from ledgerdoc import pack, unpack
    for j in (20, 21):
        _run(measured, j, 1000, "--experiment", "small")
    first = _run(measured, 10, 1000, "--experiment", "big")
    con = sqlite3.connect(measured.ledger)
    cols = [c[1] for c in con.execute("PRAGMA table_info(runs)")]
    row = dict(zip(cols, con.execute("SELECT * FROM runs WHERE id = ?",
                                      (first["run_id"],)).fetchone()))
    doc = json.loads(unpack(row["doc"], row["id"]))
    rows = []
    for i in range(4096):  # newer than the first, which becomes the 4097th newest
        doc["run_id"] = rid = "04000000-0000-7000-8000-%012x" % i
        rows.append(tuple(dict(row, id=rid, start_s=row["start_s"] + 1 + i,
                               doc=pack(json.dumps(doc)))[c] for c in cols))
    # the oldest run of the group: an outlier, a thousand times the energy
    doc = json.loads(unpack(row["doc"], row["id"]))
    doc["energy"]["total_j"] *= 1000
    con.execute("UPDATE runs SET doc = ?, start_s = ? WHERE id = ?",
                (pack(json.dumps(doc)), row["start_s"] - 1, row["id"]))
    con.executemany("INSERT INTO runs (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                    rows)
    con.commit()
    con.close()
    c = measured.wp_json("compare", "--experiment", "big", "--experiment", "small")
    assert c["a"]["runs"] == 4096 and c["a"]["newest_of_more"] is True
    assert c["b"]["runs"] == 2 and c["b"]["newest_of_more"] is False
    assert c["energy_j"]["a"]["mean"] == pytest.approx(first["energy"]["total_j"] / 1000, rel=1e-9)
    p = measured.wp("compare", "--experiment", "big", "--experiment", "small")
    assert "A = experiment big (4096 runs, the newest of more)" in p.stdout, p.stdout
    # --runs lists longer than 4 kB (a fixed buffer once cut them short)
    ids = ["04000000-0000-7000-8000-%012x" % i for i in range(240)]
    c = measured.wp_json("compare", "--runs", ",".join(ids[:120]), "--runs", ",".join(ids[120:]))
    assert c["a"]["runs"] == 120 and c["b"]["runs"] == 120
