"""GPUs through fake NVML and ROCm SMI libraries that implement the real C
ABIs, their state driven by the measured command."""
import os
import re
import subprocess
import sys

import pytest

import fakehw

H100 = {"name": "NVIDIA H100 80GB HBM3", "limit_mw": 700000, "power_mw": 0, "energy_mj": 1000}


def gpu(i, **over):
    g = dict(H100, uuid="GPU-%d1111111-2222-3333-4444-555555555555" % i)
    g.update(over)
    return g


@pytest.fixture
def gpus(runner, tmp_path):
    runner.nvml = str(tmp_path / "nvml")
    runner.rocm = str(tmp_path / "rocm")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:0", "dram")
    fakehw.make_gpus(runner.nvml, [gpu(0), gpu(1)])
    return runner


def env(r, **extra):
    e = r.env(WATTPRINT_NVML_LIBRARY=os.environ["FAKE_NVML"], WATTPRINT_FAKE_NVML_DIR=r.nvml,
              WATTPRINT_ROCM_SMI_LIBRARY="/nonexistent/librocm_smi64.so",
              WATTPRINT_FAKE_ROCM_DIR=r.rocm)
    e.pop("CUDA_VISIBLE_DEVICES", None)
    e.update(extra)
    return e


def gpu_cmd(r, *args):
    return [sys.executable, fakehw.__file__, "gpu", r.nvml] + list(args)


def channels(result, component="gpu"):
    return {c["device"]: c for c in result["channels"] if c["component"] == component}


def test_energy_counters_exact(gpus):
    p, r = gpus.run(["--interval", "0.05", "--"] +
                    gpu_cmd(gpus, "--add", "0:energy_mj=50000", "--add", "1:energy_mj=20000"),
                    env=env(gpus))
    assert p.returncode == 0, p.stderr
    g = channels(r)
    assert set(g) == {"gpu0", "gpu1"}
    assert g["gpu0"]["energy_j"] == pytest.approx(50.0, rel=1e-3)
    assert g["gpu1"]["energy_j"] == pytest.approx(20.0, rel=1e-3)
    assert r["energy"]["gpu_j"] == pytest.approx(70.0, rel=1e-3)
    assert r["energy"]["total_j"] == pytest.approx(r["energy"]["cpu_j"] + r["energy"]["dram_j"]
                                                   + 70.0, rel=1e-9)
    assert g["gpu0"]["name"] == "NVIDIA H100 80GB HBM3"
    assert g["gpu1"]["uuid"].startswith("GPU-1111")
    assert g["gpu0"]["power_limit_w"] == 700
    assert g["gpu0"]["method"] == "measured" and g["gpu0"]["sensor"] == "nvml"
    assert "H100" in p.stderr


def test_power_only_gpu_is_integrated(gpus):
    fakehw.make_gpus(gpus.nvml, [gpu(0, energy_mj=None, power_mw=250000)])
    p, r = gpus.run(["--interval", "0.05", "--"] +
                    gpu_cmd(gpus, "--steps", "1", "--then-sleep", "1.0"), env=env(gpus))
    assert p.returncode == 0, p.stderr
    g = channels(r)["gpu0"]
    assert "integrated" in g["detail"] and g["method"] == "measured"
    assert g["energy_j"] == pytest.approx(250.0 * r["duration_s"], rel=0.05)


def test_short_window_is_not_zero(gpus):
    # The counter does not move during the run; its power does: bridge with power.
    fakehw.make_gpus(gpus.nvml, [gpu(0, power_mw=200000)])
    p, r = gpus.run(["--", "true"], env=env(gpus))
    assert p.returncode == 0, p.stderr
    g = channels(r)["gpu0"]
    assert g["energy_j"] > 0
    assert g["energy_j"] == pytest.approx(200.0 * r["duration_s"], rel=0.05)


@pytest.mark.parametrize("visible,expect", [
    ("1", {"gpu1"}),
    ("GPU-11111111", {"gpu1"}),
    ("1,0", {"gpu0", "gpu1"}),
    ("", set()),
    ("7,0", set()),
])
def test_cuda_visible_devices(gpus, visible, expect):
    p, r = gpus.run(["--", "true"], env=env(gpus, CUDA_VISIBLE_DEVICES=visible))
    assert p.returncode == 0, p.stderr
    assert set(channels(r)) == expect


def test_gpus_option_overrides_visible(gpus):
    p, r = gpus.run(["--gpus", "all", "--", "true"], env=env(gpus, CUDA_VISIBLE_DEVICES="0"))
    assert set(channels(r)) == {"gpu0", "gpu1"}
    p, r = gpus.run(["--gpus", "GPU-0111", "--", "true"], env=env(gpus))
    assert set(channels(r)) == {"gpu0"}
    p, r = gpus.run(["--gpus", "none", "--", "true"], env=env(gpus))
    assert set(channels(r)) == set()


def test_gpu_lost_mid_run(gpus):
    # Advance, hold so a reading sees it all, lose GPU 0, and keep running.
    p, r = gpus.run(["--interval", "0.05", "--"] +
                    gpu_cmd(gpus, "--add", "0:energy_mj=10000", "--add", "1:energy_mj=4000",
                            "--hold", "0.3", "--lose", "0", "--then-sleep", "0.3"),
                    env=env(gpus))
    assert p.returncode == 0, p.stderr
    g = channels(r)
    assert g["gpu0"]["lost"] is True
    assert g["gpu0"]["energy_j"] == pytest.approx(10.0, rel=1e-3)
    assert g["gpu1"]["lost"] is False
    assert g["gpu1"]["energy_j"] == pytest.approx(4.0, rel=1e-3)
    assert "gpu0 stopped reading" in p.stderr


def test_no_library_is_silent_unless_gpus_asked_for(gpus):
    e = env(gpus, WATTPRINT_NVML_LIBRARY="/nonexistent/libnvidia-ml.so.1")
    p, r = gpus.run(["--", "true"], env=e)
    assert p.returncode == 0
    assert channels(r) == {}
    assert "NVML" not in p.stderr and "nvidia" not in p.stderr.lower()
    p, _ = gpus.run(["--gpus", "all", "--", "true"], env=e, json_out=False)
    assert p.returncode == 125
    assert "no GPU could be opened" in p.stderr and "libnvidia-ml.so.1" in p.stderr


def test_init_failure_is_absent(gpus):
    open(os.path.join(gpus.nvml, "init_fails"), "w").close()
    p, r = gpus.run(["--", "true"], env=env(gpus))
    assert p.returncode == 0 and channels(r) == {}


def test_unknown_gpu_in_list_is_125(gpus):
    p, _ = gpus.run(["--gpus", "0,5", "--", "true"], env=env(gpus), json_out=False)
    assert p.returncode == 125
    assert "'5' names no GPU" in p.stderr


def test_rocm_energy_counter(gpus):
    fakehw.make_gpus(gpus.rocm, [{"name": "AMD Instinct MI250X", "unique_id": 3735928559,
                                  "power_cap_uw": 500000000, "energy_count": 1000,
                                  "resolution_uj": 15.3}])
    e = env(gpus, WATTPRINT_ROCM_SMI_LIBRARY=os.environ["FAKE_ROCM"],
            WATTPRINT_NVML_LIBRARY="/nonexistent/libnvidia-ml.so.1")
    cmd = [sys.executable, fakehw.__file__, "gpu", gpus.rocm, "--add", "0:energy_count=2000000"]
    p, r = gpus.run(["--interval", "0.05", "--"] + cmd, env=e)
    assert p.returncode == 0, p.stderr
    g = channels(r)["amdgpu0"]
    assert g["sensor"] == "rocm-smi" and g["name"] == "AMD Instinct MI250X"
    assert g["uuid"] == "GPU-00000000deadbeef"
    assert g["power_limit_w"] == 500
    assert g["energy_j"] == pytest.approx(2000000 * 15.3e-6, rel=1e-3)
    assert r["energy"]["gpu_j"] == pytest.approx(30.6, rel=1e-3)


def test_rocm_missing_is_absent(gpus):
    e = env(gpus, WATTPRINT_NVML_LIBRARY="/nonexistent/x.so")
    p, r = gpus.run(["--", "true"], env=e)
    assert p.returncode == 0 and channels(r) == {}


def test_attribute_process_shares_by_sm_utilisation(gpus):
    # The command (and a child of it) use 30 + 30 of the SM time; a stranger 40.
    script = ("import os, subprocess, sys, time\n"
              "sys.path.insert(0, %r)\n"
              "import fakehw\n"
              "kid = subprocess.Popen(['sleep', '5'])\n"
              "fakehw.gpu_set(%r, 0, 'procs', '%%d 30;%%d 30;99999 40' %% (os.getpid(), kid.pid))\n"
              "fakehw.gpu_main([%r, '--add', '0:energy_mj=10000', '--steps', '5', '--period',"
              " '0.05', '--then-sleep', '0.3'])\n"
              "kid.kill()\n" % (os.path.dirname(fakehw.__file__), gpus.nvml, gpus.nvml))
    # the real process table: the share follows the command's actual process tree
    p, r = gpus.run(["--attribute", "process", "--gpus", "0", "--interval", "0.05", "--",
                     sys.executable, "-c", script], env=env(gpus, WATTPRINT_PROCFS="/proc"))
    assert p.returncode == 0, p.stderr
    g = channels(r)
    assert g["gpu0"]["counted"] is True and g["gpu0-all"]["counted"] is False
    assert g["gpu0-all"]["energy_j"] == pytest.approx(10.0, rel=1e-3)
    assert g["gpu0"]["energy_j"] == pytest.approx(6.0, rel=0.02)
    assert r["energy"]["gpu_j"] == pytest.approx(g["gpu0"]["energy_j"], rel=1e-9)
    assert "SM utilisation" in g["gpu0"]["detail"]
    # one GPU, whose whole (not added) is kept beside the command's share:
    # the report and the model card count it once, as the ledger's columns do
    card = gpus.wp("report", "last", "--model-card", "-", env=env(gpus))
    assert card.returncode == 0, card.stderr
    assert 'hardware_used: "1 x NVIDIA H100 80GB HBM3"' in card.stdout, card.stdout
    hours = float(re.search(r", ([0-9.e+-]+) device-hours\)", card.stdout).group(1))
    assert hours == pytest.approx(r["duration_s"] / 3600, rel=1e-3)
    total = gpus.wp_json("summary", "--by", "project", env=env(gpus))[-1]
    assert total["device_hours"] == pytest.approx(r["duration_s"] / 3600, rel=1e-9)
    shown = gpus.wp("show", r["run_id"], env=env(gpus)).stdout
    assert re.search(r"gpu +gpu0-all .*not added", shown), shown
    assert not re.search(r"gpu +gpu0 .*not added", shown), shown


def test_attribute_needs_the_nvml_call(gpus, tmp_path):
    p, _ = gpus.run(["--attribute", "sometimes", "--", "true"], env=env(gpus), json_out=False)
    assert p.returncode == 125 and "--attribute" in p.stderr
