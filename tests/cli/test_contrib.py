"""contrib/ deploys as it stands: the unit, prometheus.yml, the DaemonSet and
the Containerfile agree on the port and the image; the unit passes
systemd-analyze verify and leaves the socket's directory writable; the
Containerfile builds from the packages the bootstrap builds with."""
import os
import re
import shutil
import subprocess

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def read(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def unit_values(key):
    return [l.split("=", 1)[1].strip() for l in read("contrib", "wattprint.service").splitlines()
            if l.startswith(key + "=")]


def test_everything_agrees_on_port_9731():
    (exec_start,) = unit_values("ExecStart")
    listen = re.search(r"--listen (\S+)", exec_start).group(1)
    assert listen.endswith(":9731") and not listen.startswith("127.")  # scraped from elsewhere
    prom = yaml.safe_load(read("contrib", "prometheus.yml"))
    targets = prom["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets and all(t.endswith(":9731") for t in targets)
    ds = yaml.safe_load(read("contrib", "kubernetes-daemonset.yaml"))
    pod = ds["spec"]["template"]
    (c,) = pod["spec"]["containers"]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == "9731"
    assert c["ports"][0]["containerPort"] == 9731 and "0.0.0.0:9731" in c["args"]
    assert c["readinessProbe"]["httpGet"]["port"] == 9731
    cf = read("contrib", "Containerfile")
    assert "EXPOSE 9731" in cf and "-t %s " % c["image"] in cf


def test_the_daemonset_gets_the_counters_and_the_nvidia_library():
    ds = yaml.safe_load(read("contrib", "kubernetes-daemonset.yaml"))
    (c,) = ds["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in c["env"]}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert env["WATTPRINT_SYSFS"] in mounts and env["WATTPRINT_PROCFS"] in mounts
    assert all(m["readOnly"] for m in mounts.values())
    # the NVIDIA container toolkit mounts libnvidia-ml and the devices for these
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all" and "utility" in env["NVIDIA_DRIVER_CAPABILITIES"]


def test_the_containerfile_builds_from_the_bootstrap_packages():
    boot = re.search(r'build_pkgs="([^"]+)"', read("scripts", "bootstrap.sh")).group(1).split()
    cf = read("contrib", "Containerfile")
    build = cf.split("FROM debian:12-slim")[0]
    for pkg in boot:
        if pkg.endswith("-dev"):
            assert pkg in build, pkg


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze")
def test_the_unit_verifies_and_its_socket_can_be_made(wattprint, tmp_path):
    """systemd-analyze verify (offline) on the unit with this build's binary;
    ProtectSystem=strict would make /run read-only, so /run is writable."""
    unit = read("contrib", "wattprint.service").replace("/usr/local/bin/wattprint", wattprint)
    (tmp_path / "wattprint.service").write_text(unit)
    # --man=no: the Documentation= page is the installed man page (test_manpage.py),
    # and a bare root may have no man command to look it up with
    p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        str(tmp_path / "wattprint.service")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    (exec_start,) = unit_values("ExecStart")
    sock = re.search(r"--socket (\S+)", exec_start).group(1)
    if "strict" in unit_values("ProtectSystem"):
        writable = " ".join(unit_values("ReadWritePaths"))
        assert any(sock.startswith(d.rstrip("/") + "/") for d in writable.split()), writable
