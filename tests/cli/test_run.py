"""wattprint run as a wrapper: exit statuses, signals, output, bad input."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import fakehw


def test_json_contract(measured):
    p, r = measured.run(["--", "true"])
    assert p.returncode == 0
    for key in ("run_id", "status", "exit_code", "command", "start", "duration_s", "energy",
                "channels"):
        assert key in r
    for key in ("total_j", "cpu_j", "dram_j", "gpu_j", "psys_j"):
        assert key in r["energy"]
    for key in ("sensor", "component", "device", "energy_j", "mean_power_w", "method"):
        assert key in r["channels"][0]
    assert r["status"] == "completed" and r["exit_code"] == 0
    assert r["command"] == ["true"]
    assert len(r["run_id"]) == 36 and r["run_id"][14] == "7"
    assert r["start"].endswith("Z") and "T" in r["start"]


def test_exit_code_passes_through(measured):
    p, r = measured.run(["--", "sh", "-c", "exit 3"])
    assert p.returncode == 3
    assert r["status"] == "failed" and r["exit_code"] == 3


def test_not_found_is_127_and_not_executable_is_126(measured, tmp_path):
    p, r = measured.run(["--", "no-such-command-wattprint"])
    assert p.returncode == 127
    assert "cannot run 'no-such-command-wattprint'" in p.stderr
    assert r["status"] == "failed"
    script = tmp_path / "noexec.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    os.chmod(script, 0o644)
    p, _ = measured.run(["--", str(script)])
    assert p.returncode == 126


def test_stdout_is_the_commands_alone(measured):
    p, _ = measured.run(["--", "printf", "exactly this\\n"])
    assert p.stdout == "exactly this\n"
    assert "wattprint:" in p.stderr


def test_no_shell_between(measured, tmp_path):
    marker = tmp_path / "marker"
    p, _ = measured.run(["--", "echo", "$(touch %s)" % marker, ";", "true"])
    assert p.stdout == "$(touch %s) ; true\n" % marker
    assert not marker.exists()


def test_child_killed_by_signal_is_128_plus_n(measured):
    p, r = measured.run(["--", "sh", "-c", "kill -KILL $$"])
    assert p.returncode == 128 + 9
    assert r["status"] == "interrupted" and r["signal"] == 9 and r["exit_code"] == 137


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT])
def test_signals_are_forwarded_and_json_written(measured, tmp_path, sig):
    jpath = tmp_path / "sig.json"
    # The child reports the signal it received, then exits 7: wattprint must pass
    # the signal on, wait, keep the child's status, and still write the result.
    # Unbuffered os.write on both sides of the handshake: a signal landing in the
    # middle of the 'ready' write cannot make the handler's write reenter it.
    child = ("import os, signal, time\n"
             "def h(s, f):\n"
             "    os.write(1, b'got %d\\n' % s); os._exit(7)\n"
             "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):\n"
             "    signal.signal(s, h)\n"
             "os.write(1, b'ready\\n')\n"
             "time.sleep(30)\n")
    proc = subprocess.Popen([measured.binary, "run", "--json", str(jpath), "--", sys.executable,
                             "-c", child], env=measured.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert out == "got %d\n" % sig, err
    assert proc.returncode == 7
    import json
    r = json.load(open(jpath))
    assert r["status"] == "interrupted" and r["exit_code"] == 7


def wait_for_child(pid):
    """Until the process pid has a child (a state, not a delay)."""
    path = "/proc/%d/task/%d/children" % (pid, pid)
    for _ in range(1200):
        with open(path) as f:
            if f.read().strip():
                return
        time.sleep(0.05)
    raise AssertionError("no child of %d" % pid)


def test_sigterm_stops_a_plain_command(measured, tmp_path):
    jpath = tmp_path / "t.json"
    proc = subprocess.Popen([measured.binary, "run", "--json", str(jpath), "--", "sleep", "30"],
                            env=measured.env(), stderr=subprocess.PIPE, text=True)
    wait_for_child(proc.pid)  # its handlers are installed before it forks
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 5
    assert proc.returncode == 128 + signal.SIGTERM
    import json
    assert json.load(open(jpath))["status"] == "interrupted"


@pytest.mark.parametrize("args,needle", [
    (["--interval", "abc", "--", "true"], "--interval"),
    (["--interval", "0", "--", "true"], "--interval"),
    (["--interval", "nan", "--", "true"], "--interval"),
    (["--cpu-tdp", "-5", "--", "true"], "--cpu-tdp"),
    (["--cpu-tdp", "", "--", "true"], "--cpu-tdp"),
    (["--bogus", "--", "true"], "unknown option '--bogus'"),
    (["--interval"], "needs a value"),
    ([], "no command given"),
    (["--ledger", "x.db", "--no-ledger", "--", "true"], "contradict"),
    (["--json", "/nonexistent-dir/r.json", "--", "true"], "cannot write in /nonexistent-dir"),
])
def test_bad_input_is_125_before_the_command(measured, tmp_path, args, needle):
    marker = tmp_path / "ran"
    p, _ = measured.run(args + (["touch", str(marker)] if args and args[-1] == "--" else []),
                        json_out=False)
    assert p.returncode == 125, p.stderr
    assert needle in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_bad_sysfs_env_is_125(measured, tmp_path):
    p, _ = measured.run(["--", "true"], env=measured.env(WATTPRINT_SYSFS=str(tmp_path / "nope")),
                        json_out=False)
    assert p.returncode == 125
    assert "WATTPRINT_SYSFS" in p.stderr


def test_ledger_options_are_accepted(measured, tmp_path):
    p, _ = measured.run(["--ledger", str(tmp_path / "l.db"), "--", "true"])
    assert p.returncode == 0, p.stderr
    p, _ = measured.run(["--no-ledger", "--", "true"])
    assert p.returncode == 0, p.stderr


def test_help_and_version(measured):
    p = subprocess.run([measured.binary, "run", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--require-measured" in p.stdout
    p = subprocess.run([measured.binary, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("wattprint ")
    p = subprocess.run([measured.binary, "frobnicate"], capture_output=True, text=True)
    assert p.returncode == 2 and "unknown command" in p.stderr


def test_closed_stderr_does_not_change_the_exit_status(measured):
    proc = subprocess.Popen([measured.binary, "run", "--", "sh", "-c", "sleep 0.3; exit 3"],
                            env=measured.env(), stderr=subprocess.PIPE)
    proc.stderr.close()  # whoever read wattprint's summary has gone
    assert proc.wait(timeout=30) == 3


def test_the_command_does_not_inherit_ignored_sigpipe(measured):
    # wattprint ignores SIGPIPE for itself; the command must get the default back
    p = subprocess.run([measured.binary, "run", "-q", "--", "grep", "SigIgn", "/proc/self/status"],
                       env=measured.env(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    ignored = int(p.stdout.split()[1], 16)
    assert not ignored & (1 << (13 - 1))  # SIGPIPE is signal 13


def test_help_usage_names_every_command(wattprint):
    p = subprocess.run([wattprint, "--help"], capture_output=True, text=True)
    assert p.returncode == 0
    usage = p.stdout.split("\n\n")[0]
    for cmd in ["run", "ls", "show", "summary", "export", "rm", "import", "report", "estimate",
                "serve", "regions", "hardware"]:
        assert re.search(r"\b%s\b" % cmd, usage), cmd
