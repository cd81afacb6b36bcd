"""CodeCarbon's own examples (codecarbon-examples/, unchanged, MIT) against
the `codecarbon` package backed by wattprint, CodeCarbon absent, each in a
network namespace of its own (unshare -n) with loopback only: those that run
for years are interrupted once they have said they started, as a user's
Ctrl-C would; prometheus_call pushes to a gateway started in its namespace."""
import csv
import os
import shutil
import signal
import subprocess
import sys

import pytest

import fakehw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
EXAMPLES = os.path.join(HERE, "codecarbon-examples")
RUNNER = os.path.join(ROOT, "tests", "helpers", "in_netns.py")
FOREVER = "seconds before ending script..."
STARTED = "[setup] tracking"
# example: (interrupt after this line, with a push gateway)
CASES = {"print_hardware": (None, False), "multithread": (None, False),
         "task_inference": (None, False), "task_loop_same_task": (None, False),
         "pue": (None, False), "wue": (None, False), "logging_to_file": (FOREVER, False),
         "prometheus_call": (FOREVER, True), "api_call_demo": (FOREVER, False),
         "api_call_debug": (FOREVER, False), "command_line_tool": (None, False),
         # minutes of full CPU in a pool: interrupted once the tracker says it started
         # and the pool's os.cpu_count() workers are there
         "full_cpu": (STARTED, False), "boamps_output": (STARTED, False)}

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
    reason="needs root, unshare and ip for a network namespace")


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Every example, side by side; {name: its directory}."""
    tmp = tmp_path_factory.mktemp("examples")
    sysfs, procfs = str(tmp / "sys"), str(tmp / "proc")
    fakehw.make_zone(sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(sysfs, "intel-rapl:0:0", "dram")
    fakehw.make_proc(procfs)
    env = dict(os.environ, WATTPRINT_SYSFS=sysfs, WATTPRINT_PROCFS=procfs,
               WATTPRINT_LEDGER=str(tmp / "ledger.db"), HOME=str(tmp),
               PYTHONPATH=os.pathsep.join([os.path.join(HERE, ".."),
                                           os.path.join(ROOT, "bindings", "python")]))
    env.pop("CODECARBON_PROJECT_NAME", None)
    procs = {}
    for name, (line, gateway) in CASES.items():
        d = tmp / name
        d.mkdir()
        shutil.copy(os.path.join(EXAMPLES, name + ".py"), d)
        cmd = ["unshare", "-n", sys.executable, RUNNER] + (["--gateway"] if gateway else []) + \
            (["--interrupt-after", line] if line else []) + \
            (["--children", str(os.cpu_count())] if name == "full_cpu" else []) + \
            [str(d), name + ".py"]
        procs[name] = (d, subprocess.Popen(cmd, env=env))
    for name, (d, p) in procs.items():
        assert p.wait(timeout=240) == 0, name
    return {name: d for name, (d, _) in procs.items()}


def rc(d):
    return int((d / "rc").read_text())


def rows(d):
    with open(d / "emissions.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_no_codecarbon_is_installed_here():
    """The package under test is ours: CodeCarbon itself is absent."""
    import codecarbon
    assert "wattprint" in codecarbon.__version__
    assert os.path.dirname(codecarbon.__file__).startswith(os.path.abspath(os.path.join(HERE,
                                                                                       "..")))


def test_print_hardware(ran):
    d = ran["print_hardware"]
    out = (d / "output").read_text()
    assert rc(d) == 0, out
    assert "- CPU count:" in out and "physical CPU(s)" in out and "- GPU count: 0" in out


def test_runs_to_completion_write_their_rows(ran):
    for name, want in (("multithread", 3), ("task_inference", 1), ("pue", 1), ("wue", 1)):
        d = ran[name]
        assert rc(d) == 0, (name, (d / "output").read_text())
        assert len(rows(d)) == want, name
    pue = rows(ran["pue"])[0]
    assert float(pue["pue"]) == 2
    # force_carbon_intensity_g_co2e_kwh=1: kg = kWh x 1 g / 1000
    assert float(pue["emissions"]) == pytest.approx(float(pue["energy_consumed"]) / 1000,
                                                    rel=1e-3)
    wue = rows(ran["wue"])[0]
    assert float(wue["wue"]) == 1.1
    assert float(wue["water_consumed"]) == pytest.approx(float(wue["energy_consumed"]) * 1.1,
                                                         rel=1e-3)
    assert all(r["project_name"] == "ultra_secret" for r in rows(ran["multithread"]))
    out = (ran["task_inference"] / "output").read_text()
    assert out.count("for task ") == 4  # its _tasks dict, each task's figures


def test_the_task_loop_stops_on_a_task_with_no_energy(ran):
    d = ran["task_loop_same_task"]
    out = (d / "output").read_text()
    assert rc(d) == 0, out
    # the counters do not move here: the first task's energy is 0 and it stops
    assert "energy_consumed is 0.0 in round 1" in out


def test_interrupted_examples_still_record(ran):
    for name in ("logging_to_file", "prometheus_call", "api_call_demo", "api_call_debug",
                 "full_cpu", "boamps_output"):
        d = ran[name]
        assert rc(d) == -signal.SIGINT or rc(d) == 1, (name, rc(d))  # KeyboardInterrupt
        assert len(rows(d)) == 1, name
    assert (ran["logging_to_file"] / "codecarbon.log").read_text()
    pushed = (ran["prometheus_call"] / "pushed.txt").read_text()
    assert any(l.startswith("codecarbon_emissions{") for l in pushed.splitlines()), pushed
    said = (ran["api_call_demo"] / "output").read_text()
    assert "has no effect with wattprint" in said or "not sent" in said, said
    assert "the boamps output has no effect" in (ran["boamps_output"] / "output").read_text()


def test_a_second_stop_gives_the_same_figure(ran):
    """command_line_tool stops twice (its command is missing: said, caught)."""
    d = ran["command_line_tool"]
    out = (d / "output").read_text()
    assert rc(d) == 0, out
    assert "An error occurred" in out and "Emissions: " in out and len(rows(d)) == 1
