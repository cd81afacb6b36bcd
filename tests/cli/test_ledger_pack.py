"""The SQLite ledger keeps each run's document packed (src/ledger/pack.c):
small, read back whole; a ledger of schema 1 (documents as text) is read
where it cannot be changed, migrated where it can, and imported either way."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile

import pytest

from ledgerdoc import pack, unpack
from test_ledger import record

ROOTLESS = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                              reason="needs root and setpriv to read as another user")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_a_run_is_stored_packed_and_read_back_whole(measured):
    r = record(measured, 5, "--project", "p")
    con = sqlite3.connect(measured.ledger)
    result, doc = con.execute("SELECT result, doc FROM runs").fetchone()
    # the owner's process matters only while the run runs
    assert con.execute("SELECT pid, proc_start, boot_id FROM runs").fetchone() == (None,) * 3
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    con.close()
    # dictionary 1, and the leading {"run_id":"ID" left out: the row holds the id
    assert result == "" and doc[0] == 0x81
    assert r["run_id"].encode() not in doc
    text = unpack(doc, r["run_id"])
    assert len(doc) < len(text) / 4, (len(doc), len(text))  # a dictionary's work, not luck
    stored = json.loads(text)
    shown = measured.wp_json("show", r["run_id"])
    assert stored["run_id"] == shown["run_id"] == r["run_id"]
    assert stored["energy"] == shown["energy"] and stored["project"] == "p"


def test_an_import_keeps_a_runs_owner_only_while_it_runs(measured, tmp_path):
    """A finished run's owner (pid, process start, boot id) is cleared when it
    ends; an import from a ledger that still holds one clears it too."""
    r = record(measured, 2)
    con = sqlite3.connect(measured.ledger)
    con.execute("UPDATE runs SET pid = 7, proc_start = '1', boot_id = 'b'")  # as older ones kept
    con.commit()
    con.close()
    mine = str(tmp_path / "mine.db")
    p = measured.wp("import", measured.ledger, env=measured.env(WATTPRINT_LEDGER=mine))
    assert p.returncode == 0 and "1 run added" in p.stderr, p.stderr
    con = sqlite3.connect(mine)
    assert con.execute("SELECT id, pid, proc_start, boot_id FROM runs").fetchone() == \
        (r["run_id"], None, None, None)
    con.close()


SCHEMA = 5  # this wattprint's
EXPORT_COLUMNS = ("exit_code", "cpu_j", "dram_j", "gpu_j", "psys_j", "pue", "intensity_g_per_kwh",
                  "method", "region", "start_text", "end_text", "command_line")
GPU_COLUMNS = ("gpus", "gpu_model", "shared")


def make_schema_4(path):
    """The ledger at path as schema 4 kept it: no columns of the GPUs'."""
    con = sqlite3.connect(path)
    con.executescript("".join("ALTER TABLE runs DROP COLUMN %s;" % c for c in GPU_COLUMNS) +
                      "PRAGMA user_version = 4;")
    con.close()


def make_schema_3(path):
    """The ledger at path as schema 3 kept it: no columns of the export's own."""
    make_schema_4(path)
    con = sqlite3.connect(path)
    con.executescript("".join("ALTER TABLE runs DROP COLUMN %s;" % c for c in EXPORT_COLUMNS) +
                      "PRAGMA user_version = 3;")
    con.close()


def make_schema_2(path):
    """The ledger at path as schema 2 kept it: no footprint columns."""
    make_schema_3(path)
    con = sqlite3.connect(path)
    con.executescript(
        "DROP INDEX runs_project; DROP INDEX runs_experiment;"
        "ALTER TABLE runs DROP COLUMN water_l; ALTER TABLE runs DROP COLUMN water_offsite_l;"
        "ALTER TABLE runs DROP COLUMN embodied_g;"
        "CREATE INDEX runs_project ON runs(project, start_s, duration_s, device_hours, energy_j,"
        " facility_energy_j, emissions_g);"
        "CREATE INDEX runs_experiment ON runs(experiment, start_s, duration_s, device_hours,"
        " energy_j, facility_energy_j, emissions_g);"
        "PRAGMA user_version = 2;")
    con.close()


def make_schema_1(path):
    """The ledger at path as schema 1 kept it: each document as text in result."""
    make_schema_2(path)
    con = sqlite3.connect(path)
    for rid, doc in con.execute("SELECT id, doc FROM runs").fetchall():
        con.execute("UPDATE runs SET result = ? WHERE id = ?", (unpack(doc, rid), rid))
    con.execute("ALTER TABLE runs DROP COLUMN doc")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()


def test_a_schema_1_ledger_is_migrated_and_its_text_runs_kept(measured):
    old = record(measured, 3)
    make_schema_1(measured.ledger)
    new = record(measured, 4)  # the writer migrates
    con = sqlite3.connect(measured.ledger)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    rows = dict(con.execute("SELECT id, doc IS NULL FROM runs").fetchall())
    con.close()
    assert rows == {old["run_id"]: 1, new["run_id"]: 0}  # the old row is left as it was
    assert {r["run_id"] for r in measured.wp_json("ls")} == {old["run_id"], new["run_id"]}
    assert measured.wp_json("show", old["run_id"])["energy"] == old["energy"]


def test_a_schema_2_ledger_gets_its_footprint_from_the_documents(measured):
    """Schema 3 keeps the water and embodied figures the summaries total in
    columns: a schema-2 ledger's runs get theirs from their documents once."""
    old = record(measured, 3, "--project", "w", "--wue", "2", "--region", "FR")
    make_schema_2(measured.ledger)
    new = record(measured, 4, "--project", "w")  # the writer migrates
    con = sqlite3.connect(measured.ledger)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    con.close()
    w = {s["key"]: s for s in measured.wp_json("summary", "--by", "project")}["w"]
    assert w["runs"] == 2
    assert w["water_l"] == pytest.approx(old["carbon"]["water_l"])  # the old run's alone
    assert new["carbon"]["water_offsite_l"] is None  # a given intensity alone
    assert w["water_offsite_l"] == pytest.approx(old["carbon"]["water_offsite_l"])
    assert w["embodied_emissions_g"] is None  # no GPU: none modelled


@ROOTLESS
@pytest.mark.parametrize("make_old", [make_schema_1, make_schema_2, make_schema_3])
def test_an_older_ledger_another_user_owns_is_read_and_imported_unchanged(measured, make_old):
    theirs = [record(measured, 2, "--job", "j", "--wue", "1")["run_id"] for _ in range(2)]
    make_old(measured.ledger)
    top = tempfile.mkdtemp(prefix="wattprint-v1-")
    try:
        os.chmod(top, 0o777)
        old = os.path.join(top, "old.db")
        shutil.copy(measured.ledger, old)
        os.chmod(old, 0o644)  # root's: read-only to nobody
        before = digest(old)
        binary = os.path.join(top, "wattprint")
        shutil.copy(measured.binary, binary)
        os.chmod(binary, 0o755)
        env = measured.env(WATTPRINT_LEDGER=old)

        def nobody(*args, ledger=old):
            return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   binary] + list(args), env=dict(env, WATTPRINT_LEDGER=ledger),
                                  capture_output=True, text=True, cwd=top)

        p = nobody("ls", "--json")
        assert p.returncode == 0, p.stderr
        assert {r["run_id"] for r in json.loads(p.stdout)} == set(theirs)
        p = nobody("summary", "--by", "job", "--json")  # the footprint through the view
        assert p.returncode == 0, p.stderr
        job = [s for s in json.loads(p.stdout) if s["key"] == "j"][0]
        assert job["runs"] == 2 and job["water_l"] == pytest.approx(2 * 2 / 3.6e6, rel=1e-3)
        mine = os.path.join(top, "mine.db")
        p = nobody("import", old, ledger=mine)
        assert p.returncode == 0 and "2 runs added" in p.stderr, p.stderr
        p = nobody("import", old, ledger=mine)
        assert p.returncode == 0 and "2 already here" in p.stderr, p.stderr
        p = nobody("show", theirs[0], "--json", ledger=mine)
        assert p.returncode == 0 and json.loads(p.stdout)["samples"]["t_s"][0] == 0, p.stderr
        assert json.loads(p.stdout)["samples"]["channels"] == \
            [c["device"] for c in json.loads(p.stdout)["channels"]]
        p = nobody("export", "--format", "csv")  # whole runs, the view lending no columns
        assert p.returncode == 0 and len(csv_rows(p.stdout)) == 2, p.stderr
        q = nobody("export", "--format", "csv", ledger=mine)  # the columns the import filled
        assert q.returncode == 0 and q.stdout == p.stdout, (q.stderr, q.stdout, p.stdout)
        assert digest(old) == before
    finally:
        shutil.rmtree(top)


def csv_rows(text):
    import csv
    import io
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_reads_columns_and_checks_each(measured):
    """The CSV export reads its 23 members from the runs' columns, never a
    document: the same rows as the JSON export gives (start and end too,
    which a run keeps as text only where its times would not write them),
    and a member the schema requires that a row lacks is an error naming the
    run and the member."""
    runs = [record(measured, j, "--project", "p,q", "--pue", "1.25", exit_code=j - 1)
            for j in (1, 2, 3)]
    p = measured.wp("export", "--format", "csv")
    assert p.returncode == 0, p.stderr
    first = p.stdout
    rows = csv_rows(first)
    full = json.loads(measured.wp("export", "--format", "json").stdout)
    assert [r["run_id"] for r in rows] == [r["run_id"] for r in full] == [r["run_id"] for r in runs]
    numbers = {"exit_code": ("exit_code",), "cpu_j": ("energy", "cpu_j"),
               "dram_j": ("energy", "dram_j"), "gpu_j": ("energy", "gpu_j"), "pue": ("pue",),
               "intensity_g_per_kwh": ("carbon", "intensity_g_per_kwh"),
               "energy_j": ("energy", "total_j"), "emissions_g": ("carbon", "emissions_g")}
    for row, run in zip(rows, full):
        for column, path in numbers.items():  # each column where the document has it
            value = run
            for key in path:
                value = value[key]
            assert float(row[column]) == pytest.approx(value, rel=1e-9), column
        assert row["psys_j"] == ""  # none on this machine
        assert row["region"] == run["carbon"]["region"] and row["project"] == "p,q"
        assert (row["start"], row["end"]) == (run["start"], run["end"])
        assert row["command"] == " ".join(run["command"]) and row["method"] == run["method"]
    con = sqlite3.connect(measured.ledger)
    assert con.execute("SELECT count(*) FROM runs WHERE start_text IS NULL").fetchone()[0] == 3
    for rid, column, member in ((runs[0]["run_id"], "cpu_j", "energy.cpu_j"),
                                (runs[1]["run_id"], "method", "method")):
        con.execute("UPDATE runs SET %s = NULL WHERE id = ?" % column, (rid,))
        con.commit()
        p = measured.wp("export", "--format", "csv")
        assert p.returncode == 1 and rid in p.stderr, p.stderr
        assert "%s is missing" % member in p.stderr, p.stderr
        con.execute("UPDATE runs SET %s = ? WHERE id = ?" % column,
                    (runs[0]["energy"]["cpu_j"] if column == "cpu_j" else runs[1]["method"], rid))
        con.commit()
    con.close()
    again = measured.wp("export", "--format", "csv")
    assert again.returncode == 0 and again.stdout == first


def test_a_schema_3_ledger_gets_the_exports_columns_from_its_documents(measured):
    """Schema 4 keeps the export's members in columns: a schema-3 ledger's
    runs get theirs from their documents when it is migrated (the CSV is the
    same as before), one whose document lacks a member keeps it NULL and the
    export names it, one whose packed document is cut short does not stop the
    migration, and a run imported from a schema-3 ledger gets them too."""
    runs = [record(measured, j, "--region", "FR") for j in (1, 2)]
    before = measured.wp("export", "--format", "csv").stdout
    make_schema_3(measured.ledger)
    con = sqlite3.connect(measured.ledger)
    other = os.path.join(os.path.dirname(measured.ledger), "schema3.db")
    con.execute("VACUUM INTO ?", (other,))
    (doc,) = con.execute("SELECT doc FROM runs WHERE id = ?", (runs[1]["run_id"],)).fetchone()
    d = json.loads(unpack(doc, runs[1]["run_id"]))
    del d["energy"]["cpu_j"]
    con.execute("UPDATE runs SET doc = ? WHERE id = ?", (pack(json.dumps(d)), runs[1]["run_id"]))
    con.commit()
    con.close()
    cut = os.path.join(os.path.dirname(measured.ledger), "cut.db")
    shutil.copy(measured.ledger, cut)
    con = sqlite3.connect(cut)
    con.execute("UPDATE runs SET doc = substr(doc, 1, 20) WHERE id = ?", (runs[0]["run_id"],))
    con.commit()
    con.close()
    p = measured.wp("ls", env=measured.env(WATTPRINT_LEDGER=cut))  # migrates
    assert p.returncode == 1 and runs[0]["run_id"] in p.stderr, p.stderr  # its columns NULL
    con = sqlite3.connect(cut)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    con.close()
    p = measured.wp("export", "--format", "csv")  # migrates
    assert p.returncode == 1 and runs[1]["run_id"] in p.stderr, p.stderr
    assert "energy.cpu_j is missing" in p.stderr, p.stderr
    con = sqlite3.connect(measured.ledger)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    assert con.execute("SELECT region, cpu_j IS NULL FROM runs ORDER BY start_s").fetchall() == \
        [("FRA", 0), ("FRA", 1)]
    con.close()
    mine = os.path.join(os.path.dirname(measured.ledger), "mine.db")
    p = measured.wp("import", other, env=measured.env(WATTPRINT_LEDGER=mine))
    assert p.returncode == 0 and "2 runs added" in p.stderr, p.stderr
    p = measured.wp("export", "--format", "csv", env=measured.env(WATTPRINT_LEDGER=mine))
    assert p.returncode == 0 and p.stdout == before, p.stderr


def test_the_csv_writes_each_number_as_printf_g10_would(measured):
    """Whole numbers take a shorter path than %.10g; the text must be the
    same: small and large whole numbers, fractions. (A zero's sign is not
    kept by the ledger's REAL columns.)"""
    run = record(measured, 1)
    want = {"exit_code": -1, "pue": 1.0, "energy_j": 12345678901.0, "cpu_j": 999999999.0,
            "dram_j": 0.0, "gpu_j": 1e9, "intensity_g_per_kwh": 475.25, "emissions_g": 0.1}
    con = sqlite3.connect(measured.ledger)
    con.execute("UPDATE runs SET exit_code = -1, pue = 1.0, energy_j = 12345678901.0,"
                " cpu_j = 999999999.0, dram_j = 0.0, gpu_j = 1e9, intensity_g_per_kwh = 475.25,"
                " emissions_g = 0.1 WHERE id = ?", (run["run_id"],))
    con.commit()
    con.close()
    p = measured.wp("export", "--format", "csv")
    assert p.returncode == 0, p.stderr
    row = csv_rows(p.stdout)[0]
    assert {k: row[k] for k in want} == {k: "%.10g" % v for k, v in want.items()}


def test_a_run_whose_gpus_the_migration_could_not_fill_is_named(measured):
    """Schema 5's GPU columns are set by every writer; NULL means the
    migration could not read the run's document: CodeCarbon's export stops
    there and names the run, as the CSV does for the columns of schema 4."""
    runs = [record(measured, j) for j in (1, 2)]
    p = measured.wp("export", "--format", "codecarbon")
    assert p.returncode == 0 and p.stdout.count("\n") == 3, p.stderr
    con = sqlite3.connect(measured.ledger)
    con.execute("UPDATE runs SET gpus = NULL WHERE id = ?", (runs[1]["run_id"],))
    con.commit()
    con.close()
    p = measured.wp("export", "--format", "codecarbon")
    assert p.returncode == 1 and runs[1]["run_id"] in p.stderr, p.stderr
    assert "gpus is missing" in p.stderr, p.stderr


def test_a_document_member_of_the_wrong_type_is_named(measured):
    """CodeCarbon's export takes a few members out of each document with
    SQLite, each checked as the schema says: a boolean that is not one, or a
    text that is a number, stops the export with the run and the member."""
    runs = [record(measured, j) for j in (1, 2)]
    for member, value, path in (("assumed", "yes", "carbon.assumed"),
                                ("region_name", 7, "carbon.region_name")):
        con = sqlite3.connect(measured.ledger)
        rid = runs[1]["run_id"]
        (blob,) = con.execute("SELECT doc FROM runs WHERE id = ?", (rid,)).fetchone()
        d = json.loads(unpack(blob, rid))
        good = d["carbon"][member]
        d["carbon"][member] = value
        con.execute("UPDATE runs SET doc = ? WHERE id = ?", (pack(json.dumps(d)), rid))
        con.commit()
        p = measured.wp("export", "--format", "codecarbon")
        assert p.returncode == 1 and rid in p.stderr, p.stderr
        assert "%s is of the wrong type" % path in p.stderr, p.stderr
        d["carbon"][member] = good
        con.execute("UPDATE runs SET doc = ? WHERE id = ?", (pack(json.dumps(d)), rid))
        con.commit()
        con.close()
    assert measured.wp("export", "--format", "codecarbon").returncode == 0
