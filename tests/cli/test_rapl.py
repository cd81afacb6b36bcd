"""wattprint run against fake powercap trees whose counters the measured
command itself advances, so the true energy is known exactly."""
import os
import shutil
import subprocess

import pytest

import fakehw


def channel(result, device):
    found = [c for c in result["channels"] if c["device"] == device]
    assert found, "no channel %s in %s" % (device, result["channels"])
    return found[0]


def test_package_and_dram_exact(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0", energy_uj=123456)
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:1", "dram", energy_uj=42)
    p, r = runner.run(["--interval", "0.05", "--"] +
                      runner.advance_cmd("intel-rapl:0=100", "intel-rapl:0:1=20", steps=20))
    assert p.returncode == 0, p.stderr
    assert r["energy"]["cpu_j"] == pytest.approx(100.0, rel=1e-3)
    assert r["energy"]["dram_j"] == pytest.approx(20.0, rel=1e-3)
    assert r["energy"]["total_j"] == pytest.approx(120.0, rel=1e-3)
    assert r["energy"]["gpu_j"] == 0
    assert r["energy"]["psys_j"] is None
    assert r["method"] == "measured"
    pkg = channel(r, "package-0")
    assert pkg["sensor"] == "rapl" and pkg["component"] == "cpu" and pkg["method"] == "measured"
    assert pkg["mean_power_w"] == pytest.approx(100.0 / r["duration_s"], rel=1e-6)
    assert channel(r, "dram-0")["component"] == "dram"
    assert "package-0" in p.stderr and "measured" in p.stderr


def test_multi_socket(runner):
    for pkg in (0, 1):
        fakehw.make_zone(runner.sysfs, "intel-rapl:%d" % pkg, "package-%d" % pkg)
        fakehw.make_zone(runner.sysfs, "intel-rapl:%d:0" % pkg, "dram")
    p, r = runner.run(["--"] + runner.advance_cmd(
        "intel-rapl:0=30", "intel-rapl:1=50", "intel-rapl:0:0=4", "intel-rapl:1:0=6"))
    assert p.returncode == 0, p.stderr
    assert channel(r, "package-1")["energy_j"] == pytest.approx(50, rel=1e-3)
    assert channel(r, "dram-1")["energy_j"] == pytest.approx(6, rel=1e-3)
    assert r["energy"]["cpu_j"] == pytest.approx(80, rel=1e-3)
    assert r["energy"]["dram_j"] == pytest.approx(10, rel=1e-3)


def test_counter_wrap_and_interval_clamp(runner):
    # A 5 J counter range at up to 50 W: no two wraps fit in 0.05 s, so wattprint
    # must sample at least that often even though 1 s was asked for.
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0", energy_uj=4_000_000,
                     range_uj=5_000_000, max_power_uw=50_000_000)
    p, r = runner.run(["--interval", "1", "--"] +
                      runner.advance_cmd("intel-rapl:0=23", steps=50, period=0.02))
    assert p.returncode == 0, p.stderr
    assert "sampling every 0.05 s instead of 1 s" in p.stderr
    assert r["interval_s"] == pytest.approx(0.05)
    pkg = channel(r, "package-0")
    assert pkg["energy_j"] == pytest.approx(23.0, rel=1e-3)
    assert pkg["wraps"] >= 4


def test_mmio_duplicate_is_not_counted_twice(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(runner.sysfs, "intel-rapl-mmio:0", "package-0")
    p, r = runner.run(["--"] + runner.advance_cmd("intel-rapl:0=50", "intel-rapl-mmio:0=50"))
    assert p.returncode == 0, p.stderr
    assert r["energy"]["cpu_j"] == pytest.approx(50, rel=1e-3)
    assert [c["device"] for c in r["channels"] if c["component"] == "cpu"] == ["package-0"]


def test_mmio_alone_is_used(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl-mmio:0", "package-0")
    p, r = runner.run(["--"] + runner.advance_cmd("intel-rapl-mmio:0=7"))
    assert p.returncode == 0, p.stderr
    assert r["energy"]["cpu_j"] == pytest.approx(7, rel=1e-3)


def test_psys_reported_apart_and_core_inside_package(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:0", "core")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:1", "uncore")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:2", "dram")
    fakehw.make_zone(runner.sysfs, "intel-rapl:1", "psys")
    p, r = runner.run(["--"] + runner.advance_cmd(
        "intel-rapl:0=50", "intel-rapl:0:0=30", "intel-rapl:0:1=5", "intel-rapl:0:2=8",
        "intel-rapl:1=80"))
    assert p.returncode == 0, p.stderr
    e = r["energy"]
    assert e["cpu_j"] == pytest.approx(50, rel=1e-3)
    assert e["dram_j"] == pytest.approx(8, rel=1e-3)
    assert e["total_j"] == pytest.approx(58, rel=1e-3)
    assert e["psys_j"] == pytest.approx(80, rel=1e-3)
    core = channel(r, "core-0")
    assert core["counted"] is False and core["part_of"] == "package-0"
    assert core["energy_j"] == pytest.approx(30, rel=1e-3)
    assert channel(r, "uncore-0")["counted"] is False
    assert channel(r, "psys")["counted"] is False


def test_counter_failing_mid_run_keeps_energy(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:0", "dram")
    # Held long enough after advancing that a reading sees all 10 J, then broken:
    # energy after the last good reading cannot be known, energy before it is kept.
    cmd = runner.advance_cmd("intel-rapl:0=10", "intel-rapl:0:0=2", steps=5, extra=[
        "--hold", "0.3", "--break-zone", "intel-rapl:0", "--then-sleep", "0.3"])
    p, r = runner.run(["--interval", "0.05", "--"] + cmd)
    assert p.returncode == 0, p.stderr
    pkg = channel(r, "package-0")
    assert pkg["lost"] is True
    assert pkg["energy_j"] == pytest.approx(10, rel=1e-3)
    assert channel(r, "dram-0")["lost"] is False
    assert "stopped reading" in p.stderr


def _unprivileged_copy(runner):
    """The binary, copied where an unprivileged user can run it."""
    d = runner.tmp / "bin"
    d.mkdir()
    dst = d / "wattprint"
    shutil.copy(runner.binary, dst)
    for path in (runner.tmp, d):
        os.chmod(path, 0o755)
    return str(dst)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to test an unprivileged user")
def test_permission_denied_falls_back_then_require_measured_refuses(wattprint):
    # Under a world-readable directory: pytest's own temporary root is private to root.
    import pathlib
    import tempfile
    from conftest import Runner
    top = tempfile.mkdtemp(prefix="wattprint-perm-")
    os.chmod(top, 0o755)
    runner = Runner(wattprint, pathlib.Path(top))
    fakehw.make_proc(runner.procfs)
    try:
        _permission_denied(runner)
    finally:
        shutil.rmtree(top)


def _permission_denied(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    energy = fakehw.zone_file(runner.sysfs, "intel-rapl:0")
    os.chmod(os.path.realpath(energy), 0o400)  # as since Linux 5.10
    for root, dirs, files in os.walk(runner.tmp):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    os.chmod(runner.tmp, 0o755)
    binary = _unprivileged_copy(runner)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    json_path = runner.tmp / "out"
    json_path.mkdir(mode=0o777)
    os.chmod(json_path, 0o777)
    p = subprocess.run(nobody + [binary, "run", "--json", str(json_path / "r.json"), "--", "true"],
                       env=runner.env(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "/class/powercap/intel-rapl:0/energy_uj" in p.stderr
    assert "Permission denied" in p.stderr and "CVE-2020-8694" in p.stderr
    assert p.stderr.count("cannot read the RAPL counter") == 1
    import json
    r = json.load(open(json_path / "r.json"))
    assert r["method"] == "estimated"
    assert all(c["method"] == "estimated" for c in r["channels"])

    p = subprocess.run(nobody + [binary, "run", "--require-measured", "--", "true"],
                       env=runner.env(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 125
    assert "--require-measured" in p.stderr


def test_perf_pmu_that_cannot_be_opened_falls_back(runner):
    # No powercap; a perf "power" PMU described in sysfs whose events the
    # kernel will not open (an unknown PMU type): estimates, no crash.
    pmu = os.path.join(runner.sysfs, "bus/event_source/devices/power")
    os.makedirs(os.path.join(pmu, "events"))
    for name, text in (("type", "4294900\n"), ("cpumask", "0\n"),
                       ("events/energy-pkg", "event=0x02\n"),
                       ("events/energy-pkg.scale", "2.3283064365386962890625e-10\n"),
                       ("events/energy-pkg.unit", "Joules\n")):
        with open(os.path.join(pmu, name), "w") as f:
            f.write(text)
    p, r = runner.run(["--", "true"])
    assert p.returncode == 0, p.stderr
    assert {c["sensor"] for c in r["channels"]} == {"cpu-model", "ram-model"}
    p, _ = runner.run(["--require-measured", "--", "true"], json_out=False)
    assert p.returncode == 125


def test_sensors_option_chooses_the_backends(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    p, r = runner.run(["--sensors", "cpu-model,ram-model", "--", "true"])
    assert p.returncode == 0, p.stderr
    assert {c["sensor"] for c in r["channels"]} == {"cpu-model", "ram-model"}
    p, r = runner.run(["--sensors", "rapl", "--", "true"])
    assert {c["sensor"] for c in r["channels"]} == {"rapl"}
    p, _ = runner.run(["--sensors", "rapl,bogus", "--", "true"], json_out=False)
    assert p.returncode == 125 and "unknown sensor 'bogus'" in p.stderr
