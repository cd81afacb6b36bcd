"""The CPU and memory models where no counter can be read, on fake /proc and
/sys trees (bare metal, a VM, SMBIOS memory entries), and a process's own
share of the machine's CPU and DRAM (--attribute process) on the real /proc,
with a second process competing for the CPU."""
import json
import os
import subprocess
import sys

import pytest

import fakehw


def _run(runner, busy, idle, extra=()):
    cmd = ["python3", fakehw.__file__, "procstat", runner.procfs, "--busy", str(busy),
           "--idle", str(idle)]
    # One reading before and one after: the utilisation over the run is exact.
    return runner.run(["--interval", "3600"] + list(extra) + ["--"] + cmd)


def _channel(r, device):
    return [c for c in r["channels"] if c["device"] == device][0]


def _dimms_w(n, u):
    return n * (0.5 + (3.0 - 0.5) * 0.5 * u)


def test_dimms_read_from_smbios(runner):
    fakehw.make_dmi(runner.sysfs, [(16384, 0x1A), (0, 0), (16384, 0x1A), (0, 0),
                                   (16384, 0x1A), (16384, 0x1A)])
    fakehw.make_proc(runner.procfs, mem_kb=64 * 1024 * 1024 - 300000)
    p, r = _run(runner, 200, 800)
    assert p.returncode == 0, p.stderr
    dram = _channel(r, "dram")
    assert "4 DDR4 DIMMs (64 GB) from SMBIOS" in dram["detail"]
    assert dram["energy_j"] == pytest.approx(_dimms_w(4, 0.2) * r["duration_s"], rel=1e-3)


def test_extended_smbios_size_and_ddr5(runner):
    fakehw.make_dmi(runner.sysfs, [(65536, 0x22), (65536, 0x22)])
    p, r = _run(runner, 0, 1000)
    assert "2 DDR5 DIMMs (128 GB) from SMBIOS" in _channel(r, "dram")["detail"]


def test_large_host_is_billed_by_dimms_not_gigabytes(runner):
    # 2 TB on two sockets: 16 modules of 128 GB guessed, not 745 W of "per GB"
    fakehw.make_proc(runner.procfs, sockets=2, threads=64, mem_kb=2 * 1024 ** 3 - 8000000)
    p, r = _run(runner, 1000, 0)
    dram = _channel(r, "dram")
    assert "16 DIMMs guessed" in dram["detail"] and "128 GB modules" in dram["detail"]
    assert dram["mean_power_w"] == pytest.approx(_dimms_w(16, 1.0), rel=1e-3)
    assert dram["mean_power_w"] < 50


def test_virtual_machine_is_billed_its_allocation_share(runner):
    fakehw.make_proc(runner.procfs, model="Intel(R) Xeon(R) Processor", hypervisor=True,
                     threads=2, mem_kb=25 * 1000 * 1000)
    p, r = _run(runner, 1000, 0)
    dram = _channel(r, "dram")
    share = 25e6 * 1024 / 1024 ** 3 / 32  # GiB over a 32 GB host module
    assert "virtual machine" in dram["detail"]
    assert dram["mean_power_w"] == pytest.approx(_dimms_w(share, 1.0), rel=1e-3)


@pytest.mark.parametrize("hypervisor", [True, False])
def test_cpu_bound_job_is_not_billed_mostly_to_memory(runner, hypervisor):
    fakehw.make_proc(runner.procfs, hypervisor=hypervisor, threads=2, mem_kb=25 * 1000 * 1000)
    p, r = _run(runner, 1000, 0)
    assert r["energy"]["dram_j"] < 0.5 * r["energy"]["cpu_j"]


def test_every_estimated_channel_has_a_range(runner):
    p, r = _run(runner, 500, 500)
    for c in r["channels"]:
        lo, hi = c["energy_range_j"]
        assert lo < c["energy_j"] < hi
    lo, hi = r["energy"]["total_range_j"]
    assert lo < r["energy"]["total_j"] < hi
    assert lo == pytest.approx(sum(c["energy_range_j"][0] for c in r["channels"]))
    assert "likely" in p.stderr


def test_reports_show_the_ranges(runner):
    p, r = _run(runner, 500, 500)
    md = runner.wp("report", "last", "--markdown", "-")
    assert md.returncode == 0, md.stderr
    assert "estimated (likely" in md.stdout
    html = runner.wp("report", "last", "--html", "-")
    assert html.stdout.count("likely ") >= 2  # the CPU and the DRAM rows


def test_measured_channels_carry_no_range(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    p, r = runner.run(["--"] + runner.advance_cmd("intel-rapl:0=5"))
    cpu = _channel(r, "package-0")
    assert cpu["method"] == "measured" and "energy_range_j" not in cpu


# --- a process's own share, on the real /proc ---------------------------------

BURNER = """
import sys
sys.stdout.write("burning\\n"); sys.stdout.flush()
while True:
    pass
"""

# Burns for a while, then reports its own CPU time and the machine's busy
# time over the same span, from the same /proc counters wattprint reads.
BURN_AND_REPORT = """
import json, os, sys, time
def busy():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return v[0] + v[1] + v[2] + v[5] + v[6]
b0 = busy()
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    pass
t = os.times()
json.dump({"own": (t.user + t.system) * os.sysconf("SC_CLK_TCK"), "busy": busy() - b0},
          open(sys.argv[1], "w"))
"""


@pytest.fixture
def burner():
    p = subprocess.Popen([sys.executable, "-c", BURNER], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "burning\n"  # it is running before the command starts
    yield p
    p.kill()
    p.wait()


def _real(runner, extra):
    return runner.run(["--attribute", "process", "--sensors", "cpu-model,ram-model"] + extra,
                      env=runner.env(WATTPRINT_PROCFS="/proc"))


def _share(r, device):
    whole = _channel(r, device + "-all")
    assert not whole["counted"] and _channel(r, device)["counted"]
    assert _channel(r, device)["share_of"] == device + "-all"
    return _channel(r, device)["energy_j"] / whole["energy_j"]


def test_sleeping_command_gets_no_cpu_while_another_burns(runner, burner):
    p, r = _real(runner, ["--", "sleep", "1"])
    assert p.returncode == 0, p.stderr
    assert _share(r, "cpu") < 0.1
    assert r["energy"]["cpu_j"] == _channel(r, "cpu")["energy_j"]
    assert "the run's share by CPU time" in _channel(r, "cpu")["detail"]


def test_burning_command_shares_with_another_burner(runner, burner, tmp_path):
    out = tmp_path / "cpu.json"
    # one reading before the command and one as it ends: the share is that of
    # the whole span, which the command measures itself from the same counters
    p, r = _real(runner, ["--interval", "3600", "--", sys.executable, "-c", BURN_AND_REPORT,
                          str(out), "1.5"])
    assert p.returncode == 0, p.stderr
    seen = json.loads(out.read_text())
    expected = seen["own"] / seen["busy"]  # near half on a quiet 2-core machine
    assert expected > 0.1
    assert _share(r, "cpu") == pytest.approx(expected, abs=0.1)


HOLD_MEMORY = """
import sys
block = bytearray(300 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
rss = int(open("/proc/self/statm").read().split()[1]) * 4096
mem = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in open("/proc/meminfo")}
open(sys.argv[1], "w").write("%f" % (rss / (mem["MemTotal"] - mem["MemAvailable"])))
sys.stdin.read()
"""


def test_memory_share_follows_resident_memory(runner, tmp_path):
    out, result = tmp_path / "share", tmp_path / "r.json"
    # The command holds its memory until its stdin closes; it is closed once
    # wattprint has printed two progress lines (each after a reading) since
    # the command said it holds it: a state, whatever the machine's speed.
    cmd = [runner.binary, "run", "--json", str(result), "--no-ledger", "--interval", "0.1",
           "--progress", "always", "--progress-every", "0.5", "--attribute", "process",
           "--sensors", "cpu-model,ram-model", "--", sys.executable, "-c", HOLD_MEMORY, str(out)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=runner.env(WATTPRINT_PROCFS="/proc"))
    lines = 0
    while lines < 2:
        line = p.stderr.readline()
        assert line, "wattprint ended before the command released its memory"
        if line.startswith("wattprint ") and "|" in line and out.exists() and out.read_text():
            lines += 1
    seen = float(out.read_text())
    p.stdin.close()
    rest = p.stderr.read()
    assert p.wait() == 0, rest
    share = _share(json.loads(result.read_text()), "dram")
    assert 0.3 * seen < share < 1.5 * seen
