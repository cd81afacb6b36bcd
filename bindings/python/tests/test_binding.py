"""The Python binding over libwattprint, on fake powercap trees; and a real
PyTorch training loop measured window by window."""
import json
import os
import shutil
import subprocess
import sys
import time
import venv

import pytest

import fakehw
import wattprint

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@pytest.fixture
def hw(tmp_path, monkeypatch):
    sysfs, procfs = str(tmp_path / "sys"), str(tmp_path / "proc")
    fakehw.make_zone(sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(sysfs, "intel-rapl:0:0", "dram")
    fakehw.make_proc(procfs)
    monkeypatch.setenv("WATTPRINT_SYSFS", sysfs)
    monkeypatch.setenv("WATTPRINT_PROCFS", procfs)
    monkeypatch.setenv("WATTPRINT_LEDGER", str(tmp_path / "ledger.db"))
    monkeypatch.delenv("WATTPRINT_REGION", raising=False)
    return sysfs


def advance(sysfs, cpu, dram=0.0):
    zones = [("intel-rapl:0", cpu)] + ([("intel-rapl:0:0", dram)] if dram else [])
    fakehw.advance(sysfs, zones, 1, 0)


def test_meter_totals(hw):
    with wattprint.Meter(intensity=400, pue=1.5, project="py") as m:
        advance(hw, 30, 6)
    r = m.result
    assert r["energy"]["cpu_j"] == pytest.approx(30, rel=1e-3)
    assert r["energy"]["dram_j"] == pytest.approx(6, rel=1e-3)
    assert r["facility_energy_j"] == pytest.approx(54, rel=1e-3)
    assert r["carbon"]["emissions_g"] == pytest.approx(54 / 3.6e6 * 400, rel=1e-3)
    assert r["status"] == "completed" and r["project"] == "py"
    assert r["command"] == ["python"]


def test_nested_and_overlapping_windows(hw):
    with wattprint.Meter(intensity=100) as m:
        with m.window("outer") as outer:
            with m.window("a") as a:
                advance(hw, 10)
            with m.window("b") as b:
                advance(hw, 20)
        advance(hw, 5)
    assert a.result["energy"]["cpu_j"] == pytest.approx(10, rel=1e-3)
    assert b.result["energy"]["cpu_j"] == pytest.approx(20, rel=1e-3)
    assert outer.result["energy"]["cpu_j"] == pytest.approx(30, rel=1e-3)
    assert m.result["energy"]["cpu_j"] == pytest.approx(35, rel=1e-3)
    assert a.result["name"] == "a" and a.result["duration_s"] >= 0


def test_work(hw):
    with wattprint.Meter(intensity=100) as m:
        with m.window("w") as w:
            advance(hw, 8)
            m.add_work(400, unit="tokens")
        m.add_work(100)
    assert w.result["work"] == {"unit": "tokens", "done": 400}
    assert m.result["work"]["done"] == 500
    assert m.result["work"]["energy_per_unit_j"] == pytest.approx(
        m.result["energy"]["total_j"] / 500)
    assert m.result["sci"]["functional_unit"] == "tokens"


def test_decorator(hw):
    @wattprint.track(intensity=200, experiment="deco")
    def work(j):
        advance(hw, j)
        return "done"

    assert work(12) == "done"
    assert work.last_result["energy"]["cpu_j"] == pytest.approx(12, rel=1e-3)
    assert work.last_result["experiment"] == "deco"
    assert work.last_result["command"] == ["test_decorator.<locals>.work"]


def test_errors_carry_the_c_message(hw):
    with pytest.raises(wattprint.WattprintError) as e:
        wattprint.Meter(region="atlantis")
    assert e.value.name == "ENOENT" and "unknown region 'atlantis'" in str(e.value)
    with pytest.raises(wattprint.WattprintError) as e:
        wattprint.Meter(pue=7)
    assert e.value.name == "EINVAL" and "pue" in str(e.value)
    m = wattprint.Meter(intensity=1).start()
    with pytest.raises(wattprint.WattprintError) as e:
        m.start()
    assert e.value.name == "ESTATE" and "already started" in str(e.value)
    with pytest.raises(wattprint.WattprintError) as e:
        m.add_work(-5)
    assert e.value.name == "EINVAL"
    with pytest.raises(wattprint.WattprintError):
        with m.window("x"):
            with m.window("x"):
                pass
    m.stop()
    m.close()
    with pytest.raises(wattprint.WattprintError) as e:
        m.start()
    assert e.value.name == "ESTATE"


def test_sensors_option(hw):
    with wattprint.Meter(intensity=1, sensors=["ram-model"]) as m:
        advance(hw, 5)
    assert [c["sensor"] for c in m.result["channels"]] == ["ram-model"]
    with pytest.raises(wattprint.WattprintError) as e:
        wattprint.Meter(sensors="rapl,nope")
    assert e.value.name == "EINVAL" and "unknown sensor 'nope'" in str(e.value)


def test_runs_reach_the_cli_ledger(hw, tmp_path):
    with wattprint.Meter(intensity=1, project="shared-ledger", tags={"lr": "0.1"}):
        advance(hw, 3)
    wp = os.environ.get("WATTPRINT_BIN", os.path.join(ROOT, "build", "wattprint"))
    p = subprocess.run([wp, "ls", "--json", "--project", "shared-ledger"], capture_output=True,
                       text=True)
    runs = json.loads(p.stdout)
    assert len(runs) == 1 and runs[0]["tags"] == {"lr": "0.1"}
    assert runs[0]["energy"]["cpu_j"] == pytest.approx(3, rel=1e-3)


def test_library_search_order(monkeypatch):
    monkeypatch.setenv("WATTPRINT_LIBRARY", "/somewhere/libwattprint.so")
    assert wattprint.library_path() == "/somewhere/libwattprint.so"
    monkeypatch.delenv("WATTPRINT_LIBRARY")
    # then beside the package, then the source tree's build directory
    assert wattprint.library_path().endswith("libwattprint.so")


def test_pytorch_training_one_window_per_epoch(tmp_path):
    pytest.importorskip("torch")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "bindings", "python"),
               WATTPRINT_LEDGER=str(tmp_path / "ledger.db"),
               WATTPRINT_SYSFS=str(tmp_path))  # no counters: this machine's own /proc
    p = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "pytorch", "train.py"),
                        "--epochs", "3", "--json"], capture_output=True, text=True, env=env,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    epochs, run = out["epochs"], out["run"]
    assert len(epochs) == 3
    assert all(e["energy_j"] > 0 and e["tokens"] == 60 * 64 * 16 for e in epochs)
    assert sum(e["energy_j"] for e in epochs) == pytest.approx(run["energy"]["total_j"],
                                                               rel=0.01)
    assert run["work"]["done"] == 3 * 60 * 64 * 16


def test_pip_install_offline(tmp_path):
    # from a copy: setuptools writes build/ and *.egg-info beside the sources
    src = tmp_path / "src"
    shutil.copytree(os.path.join(ROOT, "bindings", "python"), src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__",
                                                  ".pytest_cache"))
    target = tmp_path / "venv"
    try:
        venv.create(target, system_site_packages=True, with_pip=True)
    except Exception as e:  # python3-venv missing: bootstrap installs it
        pytest.fail("cannot create a venv: %s" % e)
    pip = target / "bin" / "pip"
    p = subprocess.run([str(pip), "install", "--no-build-isolation", "--no-index", str(src)],
                       capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([str(target / "bin" / "python"), "-c",
                        "import wattprint; print(wattprint.version())"],
                       capture_output=True, text=True, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "0.1.0"


def _busy_ticks():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return v[0] + v[1] + v[2] + v[5] + v[6]


def _shares(r):
    ch = {c["device"]: c for c in r["channels"]}
    assert ch["package-0"]["counted"] and not ch["package-0-all"]["counted"]
    return ch["package-0"]["energy_j"] / ch["package-0-all"]["energy_j"]


def test_attribute_process_counts_this_process_share(hw, monkeypatch):
    monkeypatch.delenv("WATTPRINT_PROCFS")  # the real /proc: this process's own CPU time
    t0, b0 = os.times(), _busy_ticks()
    with wattprint.Meter(intensity=100, attribute="process", sensors="rapl") as m:
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            pass
        advance(hw, 30)
    t1, b1 = os.times(), _busy_ticks()
    own = (t1.user + t1.system - t0.user - t0.system) * os.sysconf("SC_CLK_TCK")
    assert _shares(m.result) == pytest.approx(own / (b1 - b0), abs=0.1)
    assert m.result["energy"]["cpu_j"] == pytest.approx(30 * _shares(m.result))


def test_attribute_process_gives_nothing_while_another_burns(hw, monkeypatch):
    monkeypatch.delenv("WATTPRINT_PROCFS")
    # started through a shell that exits: the burner is not this process's child
    sh = subprocess.Popen(["sh", "-c", "%s -c 'import sys; print(\"burning\", flush=True)\n"
                           "while True: pass' & echo $!" % sys.executable],
                          stdout=subprocess.PIPE, text=True)
    lines = sorted([sh.stdout.readline(), sh.stdout.readline()])  # in either order
    assert lines[1] == "burning\n"
    pid = int(lines[0])
    sh.wait()
    try:
        with wattprint.Meter(intensity=100, attribute="process", sensors="rapl") as m:
            time.sleep(0.5)
            advance(hw, 30)
    finally:
        os.kill(pid, 9)
    assert _shares(m.result) < 0.1


def test_attribute_must_be_process_or_none():
    with pytest.raises(ValueError):
        wattprint.Meter(attribute="gpu")


def test_a_postgresql_ledger_from_python(hw, pg_server):
    """The library records into the same PostgreSQL ledger as the CLI."""
    import pgtest
    uri = pgtest.new_database(pg_server)
    with wattprint.Meter(ledger=uri, project="py-pg", intensity=100) as m:
        advance(hw, 5)
    p = subprocess.run([os.environ.get("WATTPRINT_BIN", "wattprint"), "ls", "--json",
                        "--ledger", uri, "--project", "py-pg"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert [r["run_id"] for r in json.loads(p.stdout)] == [m.result["run_id"]]
