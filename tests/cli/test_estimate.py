"""Estimated channels where no counter exists: the published models applied to
fake /proc files the measured command advances."""
import os

import pytest

import fakehw


def _run(runner, busy, idle, extra=()):
    cmd = ["python3", fakehw.__file__, "procstat", runner.procfs, "--busy", str(busy),
           "--idle", str(idle), "--then-sleep", "0.3"]
    # One reading before and one after: the utilisation over the run is exact.
    return runner.run(["--interval", "3600"] + list(extra) + ["--"] + cmd)


def _full(threads_per_socket):
    """The full-load share of TDP of docs/methodology.md: it grows with the
    threads a socket runs (counted as at least 8), capped at 1.15."""
    return min(1.15, 0.82 * (max(8, threads_per_socket) / 16) ** 0.75)


def _curve(u, threads_per_socket=4):
    """The fitted package curve of docs/methodology.md, as a fraction of TDP
    (the fake machine has 4 threads on one socket unless told otherwise)."""
    full = _full(threads_per_socket)
    return 0.13 + (full - 0.13) * u ** 0.75


def _dimms_w(n, u):
    return n * (0.5 + (3.0 - 0.5) * 0.5 * u)


def test_known_cpu_uses_tdp_and_fitted_curve(runner):
    p, r = _run(runner, 500, 500)
    assert p.returncode == 0, p.stderr
    cpu = [c for c in r["channels"] if c["component"] == "cpu"][0]
    assert cpu["method"] == "estimated" and cpu["sensor"] == "cpu-model"
    assert "Xeon Gold 6248" in cpu["detail"] and "150 W" in cpu["detail"]
    assert cpu["energy_j"] == pytest.approx(150 * _curve(0.5) * r["duration_s"], rel=1e-3)
    lo, hi = cpu["energy_range_j"]
    assert "0.49 of it at full load" in cpu["detail"]
    assert lo == pytest.approx(0.63 * cpu["energy_j"]) and hi == pytest.approx(1.64 * cpu["energy_j"])
    dram = [c for c in r["channels"] if c["component"] == "dram"][0]
    assert dram["method"] == "estimated"
    # 15.3 GiB installed, no SMBIOS readable: two 8 GB modules guessed
    assert "2 DIMMs guessed" in dram["detail"]
    assert dram["energy_j"] == pytest.approx(_dimms_w(2, 0.5) * r["duration_s"], rel=1e-3)
    assert r["method"] == "estimated"
    assert "estimated by cpu-model" in p.stderr


def test_cpu_tdp_option_overrides(runner):
    p, r = _run(runner, 100, 900, extra=["--cpu-tdp", "65"])
    assert p.returncode == 0, p.stderr
    cpu = [c for c in r["channels"] if c["component"] == "cpu"][0]
    assert cpu["energy_j"] == pytest.approx(65 * _curve(0.1) * r["duration_s"], rel=1e-3)


def test_virtual_machine_uses_per_thread_model(runner):
    fakehw.make_proc(runner.procfs, model="AMD EPYC 7B13 64-Core Processor", hypervisor=True,
                     threads=4)
    p, r = _run(runner, 250, 750)
    assert p.returncode == 0, p.stderr
    cpu = [c for c in r["channels"] if c["component"] == "cpu"][0]
    assert "virtual machine" in cpu["detail"]
    watts = 4 * (0.74 + 0.25 * (3.5 - 0.74))
    assert cpu["energy_j"] == pytest.approx(watts * r["duration_s"], rel=1e-3)


def test_two_sockets_double_the_tdp(runner):
    fakehw.make_proc(runner.procfs, sockets=2, threads=8)
    p, r = _run(runner, 1000, 0)
    cpu = [c for c in r["channels"] if c["component"] == "cpu"][0]
    assert cpu["energy_j"] == pytest.approx(300 * _full(4) * r["duration_s"], rel=1e-3)


def test_a_large_part_draws_more_of_its_tdp(runner):
    """48 threads a socket: the full-load share at its cap, 1.15 of TDP,
    against 0.49 for the fake's 4 (counted as 8)."""
    fakehw.make_proc(runner.procfs, sockets=2, threads=96)
    p, r = _run(runner, 1000, 0)
    assert p.returncode == 0, p.stderr
    cpu = [c for c in r["channels"] if c["component"] == "cpu"][0]
    assert "1.15 of it at full load" in cpu["detail"] and "96 threads" in cpu["detail"]
    assert cpu["energy_j"] == pytest.approx(300 * 1.15 * r["duration_s"], rel=1e-3)


def test_measured_cpu_with_estimated_dram(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    p, r = runner.run(["--"] + runner.advance_cmd("intel-rapl:0=5"))
    assert p.returncode == 0, p.stderr
    methods = {c["component"]: c["method"] for c in r["channels"]}
    assert methods == {"cpu": "measured", "dram": "estimated"}
    assert r["method"] == "estimated"


def test_without_proc_stat_the_cpu_is_not_estimated_and_memory_assumes_typical_activity(runner):
    """No /proc/stat (the models' one shared read cannot open): the CPU model
    says it cannot estimate, and the memory model keeps its typical activity
    (half of the busy figure) instead of failing the run."""
    os.remove(os.path.join(runner.procfs, "stat"))
    p, r = runner.run(["--", "true"])
    assert p.returncode == 0 and "CPU energy cannot be estimated" in p.stderr, p.stderr
    assert not [c for c in r["channels"] if c["component"] == "cpu"]
    dram = [c for c in r["channels"] if c["component"] == "dram"][0]
    assert dram["energy_j"] == pytest.approx(_dimms_w(2, 1.0) * r["duration_s"], rel=1e-3)
