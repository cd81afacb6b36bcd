"""Work and progress: the WATTPRINT_PROGRESS channel, per-unit energy,
predictions, and the live line."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import fakehw


def sh(script):
    return ["sh", "-c", script]


def test_done_total_unit_from_the_program(measured):
    p, r = measured.run(["--"] + sh(
        'echo "done=1000 total=50000 unit=tokens" >> "$WATTPRINT_PROGRESS";'
        'echo "done=2500" >> "$WATTPRINT_PROGRESS"'))
    assert p.returncode == 0, p.stderr
    w = r["work"]
    assert w["unit"] == "tokens" and w["done"] == 2500 and w["total"] == 50000
    assert w["energy_per_unit_j"] == pytest.approx(r["energy"]["total_j"] / 2500, rel=1e-6)
    assert w["predicted_energy_j"] == pytest.approx(r["energy"]["total_j"] * 20, rel=1e-6)
    assert r["sci"]["functional_unit"] == "tokens" and r["sci"]["units"] == 2500


def test_no_progress_means_no_work_object(measured):
    p, r = measured.run(["--", "true"])
    assert r["work"] is None
    assert r["sci"]["functional_unit"] == "run"


def test_command_line_total_and_unit_win(measured):
    p, r = measured.run(["--total", "400", "--unit", "samples", "--"] + sh(
        'echo "done=100 total=999 unit=tokens" >> "$WATTPRINT_PROGRESS"'))
    w = r["work"]
    assert w["unit"] == "samples" and w["total"] == 400 and w["done"] == 100
    assert w["predicted_energy_j"] == pytest.approx(r["energy"]["total_j"] * 4, rel=1e-6)


def test_prediction_of_a_steady_workload_stopped_half_way(measured):
    # The same steady job (2.5 J and 10 units a step) run whole, and stopped
    # half-way: what the half run predicts must match what the whole run used.
    def job(steps):
        script = ("import os, sys\n"
                  "sys.path.insert(0, %r)\n"
                  "import fakehw\n"
                  "p = os.environ['WATTPRINT_PROGRESS']\n"
                  "for i in range(1, %d):\n"
                  "    fakehw.advance(%r, [('intel-rapl:0', 2.5)], 1, 0.05)\n"
                  "    open(p, 'a').write('done=%%d total=400 unit=samples\\n' %% (10 * i))\n"
                  % (os.path.dirname(fakehw.__file__), steps + 1, measured.sysfs))
        p, r = measured.run(["--interval", "0.05", "--", sys.executable, "-c", script])
        assert p.returncode == 0, p.stderr
        return r

    whole, half = job(40), job(20)
    assert whole["work"]["done"] == 400 and half["work"]["done"] == 200
    w = half["work"]
    assert w["predicted_energy_j"] == pytest.approx(whole["energy"]["total_j"], rel=0.15)
    # time is the machine's, and a loaded one stretches two runs differently:
    # the half run's own pace (steps of 0.05 s) is what its prediction extends
    assert w["predicted_duration_s"] == pytest.approx(2 * half["duration_s"], rel=0.15)
    assert w["predicted_emissions_g"] == pytest.approx(
        w["predicted_energy_j"] / 3.6e6 * half["carbon"]["intensity_g_per_kwh"], rel=1e-6)


def test_malformed_and_oversized_lines_are_ignored_once(measured):
    p, r = measured.run(["--"] + sh(
        'echo "done=5" >> "$WATTPRINT_PROGRESS";'
        'echo "hello world" >> "$WATTPRINT_PROGRESS";'
        'echo "done=-3" >> "$WATTPRINT_PROGRESS";'
        'echo "done=abc" >> "$WATTPRINT_PROGRESS";'
        'head -c 5000 /dev/zero | tr "\\0" x >> "$WATTPRINT_PROGRESS"; echo >> "$WATTPRINT_PROGRESS";'
        'echo "done=7 total=14" >> "$WATTPRINT_PROGRESS"'))
    assert p.returncode == 0
    assert r["work"]["done"] == 7 and r["work"]["total"] == 14
    assert p.stderr.count("ignoring") == 1


def test_bad_progress_options(measured):
    for args in (["--total", "0"], ["--total", "x"], ["--unit", "to kens"],
                 ["--progress", "sometimes"], ["--progress-every", "0"]):
        p, _ = measured.run(args + ["--", "true"], json_out=False)
        assert p.returncode == 125, args
        assert args[0] in p.stderr


def test_writing_after_wattprint_died_does_not_hurt_the_program(measured, tmp_path):
    # States, not delays: the command says it has started (a file renamed into
    # place), wattprint is killed, the command is told to go on, and it says
    # it wrote its second line (renamed into place too, so never read half-made).
    started, go, marker = tmp_path / "started", tmp_path / "go", tmp_path / "marker"
    script = ('echo "done=1" >> "$WATTPRINT_PROGRESS"; touch %s.tmp && mv %s.tmp %s;'
              'while [ ! -e %s ]; do sleep 0.05; done;'
              'echo "done=2" >> "$WATTPRINT_PROGRESS" && echo written > %s.tmp && mv %s.tmp %s'
              % (started, started, started, go, marker, marker, marker))
    proc = subprocess.Popen([measured.binary, "run", "--no-ledger", "--"] + sh(script),
                            env=measured.env(), stderr=subprocess.DEVNULL)
    while not started.exists():
        assert proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # only wattprint: the command lives on
    proc.wait()
    go.touch()
    for _ in range(600):
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.read_text() == "written\n"


def test_plain_progress_lines_without_a_terminal(measured):
    p, r = measured.run(["--progress", "always", "--progress-every", "0.5", "--interval",
                         "0.1", "--"] + sh(
        'for i in 1 2 3 4 5 6; do echo "done=$i total=12" >> "$WATTPRINT_PROGRESS";'
        ' sleep 0.25; done'))
    lines = [l for l in p.stderr.splitlines() if l.startswith("wattprint ") and "|" in l]
    assert 2 <= len(lines) <= 5
    assert "% of 12 steps" in lines[-1] and "whole run:" in lines[-1]
    assert "\x1b" not in p.stderr


@pytest.mark.skipif(not shutil.which("script"), reason="needs script(1) for a pseudo-terminal")
def test_live_line_under_a_pseudo_terminal(measured):
    inner = ("stty rows 24 cols 120; %s run --no-ledger --interval 0.1 -- sh -c "
             "'echo hello; echo done=3 total=6 >> \"$WATTPRINT_PROGRESS\"; sleep 1.2; "
             "echo world'" % measured.binary)
    p = subprocess.run(["script", "-qec", inner, "/dev/null"], env=measured.env(),
                       capture_output=True, text=True, timeout=60)
    out = p.stdout
    assert "\x1b[1;23r" in out                    # a scroll region above the last row
    assert "\x1b[24;1H\x1b[2Kwattprint " in out   # the line drawn on the last row
    assert "50.0% of 6 steps" in out
    assert out.rstrip().count("\x1b[r") == 1       # the screen given back once
    assert out.index("\x1b[r") < out.index("wattprint: sh -c")  # before the summary
    # the command's lines are whole: the status is drawn elsewhere, between them
    assert "hello\n" in out and "world\n" in out


def test_summary_states_the_cost_per_unit_and_the_prediction(measured):
    # 12 J over 12,000 tokens: 1 mJ a token
    p, r = measured.run(["--", "sh", "-c",
                         'echo "done=12000 total=48000 unit=tokens" >> "$WATTPRINT_PROGRESS";'
                         ' exec "$@"', "sh"]
                        + measured.advance_cmd("intel-rapl:0=12", steps=10))
    assert p.returncode == 0, p.stderr
    assert r["energy"]["total_j"] == pytest.approx(12, rel=1e-6)
    line = [l for l in p.stderr.splitlines() if l.startswith("  work ")]
    assert len(line) == 1, p.stderr
    assert line[0].startswith("  work    12,000 tokens: 1 mJ and ")
    assert line[0].endswith(" CO2e per token")
    pred = [l for l in p.stderr.splitlines() if "predicted for all 48,000 tokens: 48 J," in l]
    assert len(pred) == 1 and "CO2e" in pred[0] and "linear in work" in pred[0]


def test_no_work_line_without_reported_work(measured):
    p, r = measured.run(["--", "true"])
    assert " work " not in p.stderr and "predicted" not in p.stderr


@pytest.mark.skipif(not shutil.which("script"), reason="needs script(1) for a pseudo-terminal")
def test_live_line_on_a_terminal_of_unknown_size(measured, tmp_path):
    # A pty whose size is 0x0 (script without a size, a serial console): the
    # line is redrawn in place on the current row instead of a scroll region.
    # The line is drawn every 0.5 s from the first 0.25 s tick; the command
    # lasts 2 s, room for several draws even on a loaded machine.
    inner = ("stty rows 0 cols 0; %s run --no-ledger --interval 0.1 -- sh -c "
             "'echo done=3 total=6 >> \"$WATTPRINT_PROGRESS\"; sleep 2'" % measured.binary)
    p = subprocess.run(["script", "-qec", inner, "/dev/null"], env=measured.env(),
                       capture_output=True, timeout=60)
    out = p.stdout.decode()  # bytes: text mode would turn each \r into \n
    assert "\r\x1b[2Kwattprint " in out, out      # drawn in place
    assert "50.0% of 6 steps" in out
    assert "\x1b[1;" not in out and "\x1b[r" not in out  # no scroll region
    assert "wattprint: sh -c" in out                # then the summary


FLOOD = r'''
import os, sys, time
def watched(fds):
    for f in os.listdir(fds):
        try:
            if os.readlink(os.path.join(fds, f)) == "anon_inode:inotify":
                return True
        except OSError:  # closed since the listing
            pass
    return False
if sys.argv[3:] == ["watched"]:  # wait for the state: wattprint's inotify watch made
    fds = "/proc/%d/fd" % os.getppid()
    deadline = time.monotonic() + 120
    while not watched(fds):
        if time.monotonic() > deadline:
            sys.exit("wattprint never made its inotify watch")
        time.sleep(0.01)
fd = os.open(os.environ["WATTPRINT_PROGRESS"], os.O_WRONLY | os.O_APPEND)
peak = count = 0
mib, per_s = int(sys.argv[1]), int(sys.argv[2])
t0 = time.monotonic()
for k in range(mib):  # mib MiB of cumulative lines at per_s MiB a second at most
    for _ in range(16):
        count += 2730
        os.write(fd, b"done=%d unit=tokens\n" % count * 2730)  # 64 KiB
        peak = max(peak, os.fstat(fd).st_blocks * 512)  # what the file holds on disk now
    ahead = (k + 1) / per_s - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
os.write(fd, b"done=%d unit=tokens\n" % (count + 1))
print(count + 1, peak)
'''


@pytest.mark.parametrize("phase", ["start", "watched"])
def test_a_progress_flood_never_fills_the_disk(measured, phase):
    """A line per token at 256 MiB a second (a watcher that looked once a
    second would let the file hold that much): the file never holds 64 MiB on
    disk, and the last count is kept exactly. From the command's start (the
    file read on a clock) and once wattprint watches it with inotify."""
    p, r = measured.run(["--", sys.executable, "-c", FLOOD, "384", "256", phase], timeout=300)
    assert p.returncode == 0, p.stderr
    last, peak = map(int, p.stdout.split())
    assert peak <= 64 << 20, "the progress file held %d MiB" % (peak >> 20)
    assert r["work"]["done"] == last and r["work"]["unit"] == "tokens"
