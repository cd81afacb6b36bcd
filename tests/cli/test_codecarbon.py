"""CodeCarbon's emissions.csv: written as CodeCarbon 3.x writes it, appended to
as CodeCarbon would accept, and read back from any version."""
import csv
import io
import os
import random
import shutil

import pytest

import fakehw

DATA = os.path.join(os.path.dirname(__file__), "data")
HEADER = next(csv.reader(open(os.path.join(DATA, "codecarbon-3.3.0-header.csv"))))
FLOATS = ["duration", "emissions", "emissions_rate", "cpu_power", "gpu_power", "ram_power",
          "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
          "ram_total_size", "pue", "wue"]


def _measured_run(runner, *extra, j=30):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:0", "dram")
    p, r = runner.run(list(extra) + ["--"] +
                      runner.advance_cmd("intel-rapl:0=%g" % j, "intel-rapl:0:0=3"))
    assert p.returncode == 0, p.stderr
    return r


def _export(runner, *args):
    p = runner.wp("export", "--format", "codecarbon", *args)
    assert p.returncode == 0, p.stderr
    return p


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_header_is_codecarbon_3s_in_its_order(runner):
    _measured_run(runner)
    out = _export(runner).stdout
    assert next(csv.reader(io.StringIO(out))) == HEADER


def test_components_include_pue_and_add_up(runner):
    r = _measured_run(runner, "--pue", "1.5", "--region", "FR", "--experiment", "sweep")
    row = _rows(_export(runner).stdout)[0]
    parts = float(row["cpu_energy"]) + float(row["gpu_energy"]) + float(row["ram_energy"])
    assert parts == pytest.approx(float(row["energy_consumed"]), rel=1e-12)
    assert float(row["energy_consumed"]) == pytest.approx(r["facility_energy_j"] / 3.6e6)
    assert float(row["cpu_energy"]) == pytest.approx(r["energy"]["cpu_j"] * 1.5 / 3.6e6)
    assert float(row["cpu_power"]) == pytest.approx(r["energy"]["cpu_j"] / r["duration_s"])
    assert float(row["emissions"]) == pytest.approx(r["carbon"]["emissions_g"] / 1000)
    for name in FLOATS:
        assert "." in row[name] or "e" in row[name], (name, row[name])  # floats, as pandas writes
    assert row["country_iso_code"] == "FRA" and row["country_name"] == "France"
    assert row["pue"] == "1.5" and row["tracking_mode"] == "machine" and row["on_cloud"] == "N"
    # what wattprint knows of the machine: the fake /proc's 4 threads and 16000000 kB
    assert row["cpu_count"] == "4" and row["cpu_model"].startswith("Intel(R) Xeon(R) Gold 6248")
    assert float(row["ram_total_size"]) == pytest.approx(16000000 / 1024 ** 2)
    assert row["water_consumed"] == "0.0" and row["wue"] == "0.0"


def _as_pandas_writes(x):
    """The text a float cell holds: the fewest of 15 to 17 significant digits
    that read back as x, by Python's own formatting (not the C library's),
    and always a point or an exponent."""
    if x == int(x) and abs(x) < 1e15:
        return "%d.0" % x
    for p in (15, 16, 17):
        t = "%.*g" % (p, x)
        if float(t) == x:
            break
    return t if "." in t or "e" in t else t + ".0"


def test_every_float_cell_is_the_shortest_text_that_reads_back(runner):
    for j, pue in ((30, "1.5"), (7.3, "1.13"), (123456.789, "1.0"), (0.001, "2.5"), (1e-7, "1.2")):
        _measured_run(runner, "--pue", pue, "--region", "FR", j=j)
    rows = _rows(_export(runner).stdout)
    assert len(rows) == 5
    cells = [(name, row[name]) for row in rows for name in FLOATS]
    assert [(n, _as_pandas_writes(float(c))) for n, c in cells] == cells
    # not only zeros and whole numbers: the rates and energies need 15 to 17 digits
    assert sum(len(c.split("e")[0].replace("-", "").replace(".", "").lstrip("0")) >= 15
               for _, c in cells) >= 10


def test_experiment_ids_are_stable_uuids(runner):
    _measured_run(runner, "--experiment", "sweep")
    _measured_run(runner, "--experiment", "sweep")
    _measured_run(runner, "--experiment", "other")
    _measured_run(runner)
    ids = [r["experiment_id"] for r in _rows(_export(runner).stdout)]
    assert ids[0] == ids[1] != ids[2]
    assert ids[3] == "5b0fa12a-3dd7-45bb-9766-cc326314d9f1"  # CodeCarbon's default
    for i in ids:
        assert len(i) == 36 and i.count("-") == 4


def test_tracking_mode_process_with_attribution(runner):
    _measured_run(runner, "--attribute", "process")
    assert _rows(_export(runner).stdout)[0]["tracking_mode"] == "process"


def _codecarbon_accepts(path):
    """CodeCarbon's FileOutput: the header as a set, then rows by position."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert sorted(rows[0]) == sorted(HEADER)
    assert all(len(r) == len(rows[0]) for r in rows[1:])
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_append_to_a_codecarbon_file_in_its_order(runner, tmp_path):
    r = _measured_run(runner)
    target = tmp_path / "emissions.csv"
    shutil.copy(os.path.join(DATA, "codecarbon-3.x-emissions.csv"), target)
    before = target.read_text()
    p = _export(runner, "--output", str(target))
    assert "appended 1 run" in p.stderr
    assert target.read_text().startswith(before)  # CodeCarbon's own row untouched
    rows = _codecarbon_accepts(target)
    assert [x["run_id"] for x in rows] == ["0a578547-1d6b-4e2f-be0c-7ad10f2f7c97", r["run_id"]]
    assert float(rows[1]["energy_consumed"]) == pytest.approx(r["facility_energy_j"] / 3.6e6)
    # again: the run is there already
    assert "appended 0 runs" in _export(runner, "--output", str(target)).stderr


def test_append_follows_the_files_column_order(runner, tmp_path):
    r = _measured_run(runner)
    cols = HEADER[:]
    random.Random(7).shuffle(cols)
    target = tmp_path / "shuffled.csv"
    target.write_text(",".join(cols) + "\n")
    _export(runner, "--output", str(target))
    row = _codecarbon_accepts(target)[0]
    assert row["run_id"] == r["run_id"] and row["pue"] == "1.0"


def test_a_file_that_is_not_codecarbons_is_left_alone(runner, tmp_path):
    _measured_run(runner)
    target = tmp_path / "notes.csv"
    target.write_text("name,value\na,1\n")
    p = runner.wp("export", "--format", "codecarbon", "--output", str(target))
    assert p.returncode == 2 and "not a CodeCarbon 3.x emissions.csv" in p.stderr
    assert target.read_text() == "name,value\na,1\n"


def test_round_trip_keeps_it_energy(runner, tmp_path):
    runs = [_measured_run(runner, "--pue", pue, j=j) for pue, j in (("1.0", 10), ("1.4", 20))]
    path = tmp_path / "out.csv"
    _export(runner, "--output", str(path))
    other = tmp_path / "other.db"
    env = runner.env(WATTPRINT_LEDGER=str(other))
    p = runner.wp("import", "--format", "codecarbon", str(path), env=env)
    assert p.returncode == 0 and "2 runs from CodeCarbon added, 0 already here" in p.stderr
    back = {r["run_id"]: r for r in runner.wp_json("ls", env=env)}
    for r in runs:
        b = back[r["run_id"]]
        assert b["energy"]["total_j"] == pytest.approx(r["energy"]["total_j"], rel=1e-9)
        assert b["energy"]["cpu_j"] == pytest.approx(r["energy"]["cpu_j"], rel=1e-9)
        assert b["pue"] == pytest.approx(r["pue"])
    p = runner.wp("import", "--format", "codecarbon", str(path), env=env)
    assert "0 runs from CodeCarbon added, 2 already here" in p.stderr


def test_import_an_older_codecarbon_file(runner):
    path = os.path.join(DATA, "codecarbon-2.4.3-emissions.csv")
    p = runner.wp("import", "--format", "codecarbon", path)
    assert p.returncode == 0, p.stderr
    assert "4 runs from CodeCarbon added" in p.stderr
    runs = runner.wp_json("ls")
    first = [r for r in runs if r["run_id"] == "409f7ac2-203f-4191-9bf4-e3cdf9470de8"][0]
    # 0.0004047892176375 kWh at PUE 1.0, and CodeCarbon's own grams
    assert first["energy"]["total_j"] == pytest.approx(0.0004047892176375 * 3.6e6)
    assert first["carbon"]["emissions_g"] == pytest.approx(3.435810400385386e-05 * 1000)
    assert first["method"] == "estimated"
    assert "CodeCarbon 2.4.3rc1" in first["imported"]
    assert first["machine"]["cpu_model"] == "Apple M1"
    # the row without a run_id gets the same id again: nothing added twice
    p = runner.wp("import", "--format", "codecarbon", path)
    assert "0 runs from CodeCarbon added, 4 already here" in p.stderr


def test_bad_rows_are_named_counted_and_skipped(runner, tmp_path):
    src = open(os.path.join(DATA, "codecarbon-2.4.3-emissions.csv")).read().splitlines()
    bad = [src[0], src[1].replace(",355.46638011932373,", ",soon,")] + src[2:]
    bad.append(src[1].replace("2024-05-31T10:39:13", "yesterday"))
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(bad) + "\n")
    p = runner.wp("import", "--format", "codecarbon", str(path))
    assert p.returncode == 0, p.stderr
    assert "bad.csv:2: duration 'soon' is not a number" in p.stderr
    assert "bad.csv:6: timestamp 'yesterday'" in p.stderr
    assert "3 runs from CodeCarbon added, 0 already here; 2 bad rows skipped" in p.stderr
    assert len(runner.wp_json("ls")) == 3
    only_bad = tmp_path / "only-bad.csv"
    only_bad.write_text("\n".join(bad[:2]) + "\n")
    p = runner.wp("import", "--format", "codecarbon", str(only_bad))
    assert p.returncode == 1 and "every row" in p.stderr and "nothing was imported" in p.stderr


def test_what_excel_and_codecarbon_write_is_read(runner, tmp_path):
    """A byte-order mark (Excel's UTF-8 CSV), run ids CodeCarbon writes as
    "None", and a run's rows repeated at each flush: read, the repeats said,
    the last row of each run kept."""
    src = open(os.path.join(DATA, "codecarbon-2.4.3-emissions.csv")).read().splitlines()
    header, rows = src[0], src[1:]
    run_id_col = header.split(",").index("run_id")

    def with_id(row, rid):
        cells = row.split(",")
        cells[run_id_col] = rid
        return ",".join(cells)
    rid = "7b0f1c7e-0c4a-4b52-9f45-31e7a1a1c0de"
    flushed = [with_id(rows[0], rid), with_id(rows[1], rid)]  # the later row is the run's end
    nones = [with_id(rows[2], "None"), with_id(rows[3], "None")]
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + "\n".join([header] + flushed + nones) + "\n").encode())
    p = runner.wp("import", "--format", "codecarbon", str(path))
    assert p.returncode == 0, p.stderr
    assert "3 runs from CodeCarbon added" in p.stderr and "1 row repeated" in p.stderr, p.stderr
    runs = {r["run_id"]: r for r in runner.wp_json("ls")}
    assert len(runs) == 3 and rid in runs and "None" not in runs
    kept = runs[rid]["duration_s"]
    assert kept == pytest.approx(float(rows[1].split(",")[header.split(",").index("duration")]))


def test_import_refuses_a_file_that_is_not_codecarbons(runner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    p = runner.wp("import", "--format", "codecarbon", str(path))
    assert p.returncode == 1 and "not a CodeCarbon emissions.csv" in p.stderr


def test_an_imported_history_goes_back_as_it_came(runner, tmp_path):
    """Every column of a CodeCarbon 3.x row is kept (water, cpu_power and
    ram_power as written, region, versions), and an export gives the rows
    back cell for cell."""
    import csv as csvmod
    src = os.path.join(DATA, "codecarbon-3.x-emissions.csv")
    p = runner.wp("import", "--format", "codecarbon", src)
    assert p.returncode == 0, p.stderr
    rows = list(csvmod.DictReader(open(src, newline="")))
    shown = runner.wp_json("show", rows[0]["run_id"])
    assert shown["codecarbon"]["water_consumed"] == rows[0]["water_consumed"]
    assert shown["codecarbon"]["cpu_power"] == rows[0]["cpu_power"]
    out = tmp_path / "back.csv"
    p = runner.wp("export", "--format", "codecarbon", "--output", str(out))
    assert p.returncode == 0, p.stderr
    back = {r["run_id"]: r for r in csvmod.DictReader(open(out, newline=""))}
    for r in rows:
        assert {k: back[r["run_id"]][k] for k in r} == r
