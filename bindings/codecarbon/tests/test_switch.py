"""The `codecarbon` package backed by wattprint: CodeCarbon 3.x's import
paths, its trackers' behaviours that scripts rely on, every argument honoured
or named, the output handlers, the configuration files and variables."""
import csv
import json
import logging
import os
import subprocess
import sys
import urllib.request

import pytest

import fakehw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "helpers"))
from waits import free_port, wait_for  # noqa: E402


@pytest.fixture
def node(tmp_path, monkeypatch):
    """A measured package and DRAM (fake powercap), a ledger of the test's own,
    the test's directory as the working one (no configuration file of the
    machine's)."""
    sysfs = str(tmp_path / "sys")
    fakehw.make_zone(sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(sysfs, "intel-rapl:0:0", "dram")
    fakehw.make_proc(str(tmp_path / "proc"))
    monkeypatch.setenv("WATTPRINT_SYSFS", sysfs)
    monkeypatch.setenv("WATTPRINT_PROCFS", str(tmp_path / "proc"))
    monkeypatch.setenv("WATTPRINT_LEDGER", str(tmp_path / "ledger.db"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for k in [k for k in os.environ if k.startswith("CODECARBON_")]:
        monkeypatch.delenv(k)
    return sysfs


def advance(sysfs, joules):
    fakehw.advance(sysfs, [("intel-rapl:0", joules)], 1, 0)


def test_codecarbons_import_paths():
    import codecarbon
    from codecarbon import EmissionsTracker, OfflineEmissionsTracker, OutputMethod, track_emissions  # noqa
    from codecarbon.core.config import get_hierarchical_config  # noqa: F401
    from codecarbon.emissions_tracker import EmissionsTracker as T
    from codecarbon.external.logger import logger, set_logger_level  # noqa: F401
    from codecarbon.output import (BaseOutput, EmissionsData, FileOutput, HTTPOutput,  # noqa
                                   LoggerOutput, PrometheusOutput, TaskEmissionsData)
    from codecarbon.output_methods.emissions_data import EmissionsData as E  # noqa: F401
    assert T is EmissionsTracker and codecarbon.__version__.startswith("3.")
    assert OutputMethod.CSV == "csv" and logger.name == "codecarbon"


def test_what_scripts_rely_on(node, tmp_path, said):
    from codecarbon import EmissionsTracker
    t = EmissionsTracker(project_name="p", experiment_id="e-1", output_dir=str(tmp_path),
                         measure_power_secs=1)
    before = t.get_detected_hardware()  # before start: what this machine has
    assert before["cpu_count"] == os.cpu_count() and before["ram_total_size"] > 0
    assert t.stop_task() is None  # no task: a warning, as CodeCarbon's
    t.start()
    t.start_task("load")
    advance(node, 10)
    task = t.stop_task()
    assert isinstance(t._tasks, dict) and "load" in t._tasks
    assert task.energy_consumed == pytest.approx(10 / 3.6e6, rel=1e-3)
    advance(node, 5)
    kg = t.stop()
    assert t.stop() == kg  # again: the same figure, not None
    hw = t.get_detected_hardware()
    assert {"cpu_count", "cpu_model", "gpu_count", "ram_total_size"} <= set(hw)
    assert "no task is running" in "\n".join(said) and "already stopped" in "\n".join(said)
    row = next(csv.DictReader(open(tmp_path / "emissions.csv", newline="")))
    assert row["project_name"] == "p" and float(row["emissions"]) == pytest.approx(kg, rel=1e-6)


def test_a_shared_gpu_is_one_gpu(node):
    """tracking_mode="process" keeps each GPU's whole beside the process's
    share (not counted): the hardware is one GPU, not two."""
    from codecarbon import EmissionsTracker

    class Meter:
        def json(self):
            gpu = {"component": "gpu", "name": "NVIDIA H100 80GB HBM3"}
            return {"machine": {"cpu_count": 8, "ram_total_gib": 64.0, "cpu_model": "x"},
                    "channels": [dict(gpu, device="gpu0", counted=True),
                                 dict(gpu, device="gpu0-all", counted=False)]}

    t = EmissionsTracker(tracking_mode="process")
    t._meter = Meter()
    hw = t.get_detected_hardware()
    assert hw["gpu_count"] == 1 and hw["gpu_ids"] == ["gpu0"]
    assert hw["gpu_model"] == "NVIDIA H100 80GB HBM3"


def test_forced_figures_and_water_are_honoured(node, tmp_path):
    from codecarbon import EmissionsTracker
    t = EmissionsTracker(output_dir=str(tmp_path), force_carbon_intensity_g_co2e_kwh=500,
                         force_ram_power=2.0, wue=1.8, pue=1.2)
    t.start()
    advance(node, 36)
    kg = t.stop()
    d = t.final_emissions_data
    assert d.cpu_energy == pytest.approx(36 * 1.2 / 3.6e6, rel=1e-3)
    assert d.ram_power == pytest.approx(2.0) and d.ram_energy == pytest.approx(
        2.0 * d.duration * 1.2 / 3.6e6, rel=1e-6)
    assert kg == pytest.approx(d.energy_consumed * 500 / 1000, rel=1e-6)
    assert d.water_consumed == pytest.approx(d.energy_consumed * 1.8)


def test_an_older_file_is_kept_aside_and_the_function_returns(node, tmp_path, said):
    from codecarbon import track_emissions
    (tmp_path / "emissions.csv").write_text("timestamp,project_name,emissions\nold,x,1\n")

    @track_emissions(output_dir=str(tmp_path))
    def train():
        advance(node, 3)
        return "done"

    assert train() == "done"
    assert (tmp_path / "emissions.csv.bak").read_text().startswith("timestamp,project_name,")
    rows = list(csv.reader(open(tmp_path / "emissions.csv", newline="")))
    assert len(rows) == 2 and len(rows[0]) == 38
    assert "kept as" in "\n".join(said)


def test_output_handlers_flush_and_the_logger(node, tmp_path):
    from codecarbon import EmissionsTracker
    from codecarbon.output import BaseOutput

    class Mine(BaseOutput):
        def __init__(self):
            self.seen = []

        def out(self, total, delta):
            self.seen.append((total.emissions, delta.energy_consumed))

    mine, lines = Mine(), []
    log = logging.getLogger("mine")
    log.setLevel(logging.INFO)
    log.addHandler(type("H", (logging.Handler,), {"emit": lambda s, r: lines.append(
        r.getMessage())})())
    t = EmissionsTracker(output_dir=str(tmp_path), output_handlers=[mine], save_to_logger=True,
                         logging_logger=log)
    t.start()
    advance(node, 7)
    mid = t.flush()
    advance(node, 11)
    t.stop()
    assert len(mine.seen) == 2 and mine.seen[0][0] == pytest.approx(mid)
    assert mine.seen[1][1] == pytest.approx(11 / 3.6e6, rel=1e-2)  # the part since the flush
    assert len(lines) == 2 and json.loads(lines[1])["project_name"] == "codecarbon"
    assert len(list(csv.reader(open(tmp_path / "emissions.csv")))) == 3  # a row at each


def test_prometheus_push_and_an_unreachable_endpoint(node, tmp_path, said):
    from codecarbon import EmissionsTracker
    port = free_port()
    gw = subprocess.Popen(["prometheus-pushgateway", "--web.listen-address=127.0.0.1:%d" % port,
                           "--persistence.file="], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        url = "http://127.0.0.1:%d" % port
        wait_for(lambda: urllib.request.urlopen(url + "/-/ready", timeout=2).status == 200,
                 what="the push gateway")
        t = EmissionsTracker(project_name="prom", output_dir=str(tmp_path),
                             save_to_prometheus=True, prometheus_url=url,
                             emissions_endpoint="http://127.0.0.1:%d/api" % free_port())
        t.start()
        advance(node, 9)
        kg = t.stop()
        page = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
        line = [l for l in page.splitlines() if l.startswith("codecarbon_emissions{")][0]
        assert 'project="prom"' in line and float(line.split()[-1]) == pytest.approx(kg)
        assert "\n".join(said).count("not sent to http://127.0.0.1") == 1
    finally:
        gw.terminate()
        gw.wait(timeout=20)


def test_configuration_files_and_variables(node, tmp_path, monkeypatch, said):
    from codecarbon import EmissionsTracker
    (tmp_path / ".codecarbon.config").write_text(
        "[codecarbon]\nproject_name = from-file\nexperiment_id = x-9\n")
    t = EmissionsTracker(output_dir=str(tmp_path))
    assert t._a["project_name"] == "from-file" and t._a["experiment_id"] == "x-9"
    monkeypatch.setenv("CODECARBON_PROJECT_NAME", "from-env")
    assert EmissionsTracker(output_dir=str(tmp_path))._a["project_name"] == "from-env"
    assert EmissionsTracker(output_dir=str(tmp_path),
                            project_name="given")._a["project_name"] == "given"
    EmissionsTracker(output_dir=str(tmp_path), force_mode_cpu_load=True, nonsense=1)
    assert "force_mode_cpu_load= has no effect with wattprint" in "\n".join(said)
    assert "nonsense= is not an argument" in "\n".join(said)


def test_the_distribution_installs_as_codecarbon(tmp_path):
    """pip installs wattprint and wattprint-codecarbon offline into a venv;
    `import codecarbon` there is this package."""
    import shutil
    import venv
    src = tmp_path / "src"
    for name in ("python", "codecarbon"):
        shutil.copytree(os.path.join(ROOT, "bindings", name), src / name,
                        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__",
                                                      "tests", ".pytest_cache"))
    target = tmp_path / "venv"
    venv.create(target, system_site_packages=True, with_pip=True)
    p = subprocess.run([str(target / "bin" / "pip"), "install", "--no-build-isolation",
                        "--no-index", str(src / "python"), str(src / "codecarbon")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([str(target / "bin" / "python"), "-c",
                        "import codecarbon, codecarbon.output; print(codecarbon.__file__, "
                        "codecarbon.__version__)"],
                       capture_output=True, text=True, cwd=str(tmp_path),
                       env=dict(os.environ, PYTHONPATH=""))
    assert p.returncode == 0, p.stderr
    path, version = p.stdout.split()
    assert path.startswith(str(target)) and "wattprint" in version


def test_file_and_http_handlers_deliver(node, tmp_path):
    """FileOutput writes the totals and, at stop, the tasks' rows
    (emissions_base_<experiment>.csv); HTTPOutput POSTs the totals as JSON."""
    import http.server
    import threading
    from codecarbon import EmissionsTracker
    from codecarbon.output import FileOutput, HTTPOutput
    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "mine"
        out.mkdir()
        t = EmissionsTracker(experiment_id="exp", save_to_file=False,
                             output_handlers=[FileOutput("rows.csv", str(out))],
                             emissions_endpoint="http://127.0.0.1:%d/e" % server.server_port)
        t.start()
        t.start_task("a")
        advance(node, 4)
        t.stop_task()
        kg = t.stop()
    finally:
        server.shutdown()
    (row,) = list(csv.DictReader(open(out / "rows.csv", newline="")))
    assert float(row["emissions"]) == pytest.approx(kg)
    (task,) = list(csv.DictReader(open(out / "emissions_base_exp.csv", newline="")))
    assert task["task_name"] == "a" and float(task["energy_consumed"]) > 0
    assert len(got) == 1 and got[0]["emissions"] == pytest.approx(kg)
    assert not (tmp_path / "emissions.csv").exists()  # save_to_file=False
