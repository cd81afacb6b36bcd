"""wattprint tune-power against the fake NVML: its power-to-speed model's
optimum found, and the original limit put back after success, failure, a
signal, and a SIGKILL (by the next wattprint)."""
import os
import signal
import subprocess
import sys

import pytest

import fakehw

LIMIT = 300000  # mW: the GPU's limit before tuning (the range is 80 to 400 W)


@pytest.fixture
def gpu(runner, tmp_path):
    state = str(tmp_path / "nvml")
    fakehw.make_gpus(state, [dict(name="Fake GPU", uuid="GPU-tune-0", limit_mw=LIMIT,
                                  min_limit_mw=80000, max_limit_mw=400000, power_mw=0,
                                  energy_mj=0, settable="")])
    env = runner.env(WATTPRINT_NVML_LIBRARY=os.environ["FAKE_NVML"], WATTPRINT_FAKE_NVML_DIR=state,
                     XDG_STATE_HOME=str(tmp_path / "state"))
    return state, env


def _limit(state):
    return int(open(os.path.join(state, "gpu0", "limit_mw")).read())


def _work(state, *extra):
    return [sys.executable, fakehw.__file__, "gpuwork", state] + list(extra)


def _tune(runner, env, *args):
    return subprocess.run([runner.binary, "tune-power"] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_energy_optimum_is_found_and_the_limit_put_back(runner, gpu):
    state, env = gpu
    # units of 0.12 s and more: scheduling delays on a loaded machine stay a few
    # per cent of a unit, against the 15 % between 240 W's time and the bound
    p = _tune(runner, env, "--work", "3", "--max-slowdown", "60%", "--",
              *_work(state, "--unit-s", "0.12"))
    assert p.returncode == 0, p.stderr
    # limits 400, 320, 240, 160, 80 W; energy per unit ~ L / sqrt(L - 60): least at 160
    # (from the energy counter, exact); time per unit 1, 1.14, 1.37, 1.84, 4.1 x
    assert "energy-optimal: 160 W" in p.stdout
    assert "within 60 % of the fastest: 240 W" in p.stdout
    assert _limit(state) == LIMIT and "the limit is 300 W (as it was)" in p.stdout


def test_apply_sets_the_chosen_limit(runner, gpu):
    state, env = gpu
    p = _tune(runner, env, "--work", "5", "--apply", "energy", "--", *_work(state, "--unit-s", "0.05"))
    assert p.returncode == 0, p.stderr
    assert _limit(state) == 160000 and "the limit is 160 W (applied)" in p.stdout


def test_a_failing_command_leaves_the_limit_as_it_was(runner, gpu):
    state, env = gpu
    p = _tune(runner, env, "--", "false")
    assert p.returncode == 1 and _limit(state) == LIMIT


def test_a_command_that_reports_no_work_is_said_once(runner, gpu):
    """No progress reports: said after the first limit (every limit would
    end alike), not five silent runs and an empty table."""
    state, env = gpu
    p = _tune(runner, env, "--", "true")
    assert p.returncode == 1 and _limit(state) == LIMIT
    assert "reported no work" in p.stderr and "WATTPRINT_PROGRESS" in p.stderr
    p = _tune(runner, env, "--work", "50", "--", *_work(state, "--unit-s", "0.01", "--units", "3"))
    assert p.returncode == 1 and "after reporting 3 units, before the 50" in p.stderr, p.stderr


def test_without_permission_nothing_changes(runner, gpu):
    state, env = gpu
    os.unlink(os.path.join(state, "gpu0", "settable"))
    p = _tune(runner, env, "--work", "2", "--", *_work(state))
    assert p.returncode == 1 and "needs root" in p.stderr and _limit(state) == LIMIT


def test_a_killed_tuning_is_put_back_by_the_next_wattprint(runner, gpu):
    state, env = gpu
    p = subprocess.Popen([runner.binary, "tune-power", "--work", "1000", "--"] + _work(state),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    while _limit(state) == LIMIT:  # the state: it has changed the limit
        assert p.poll() is None
    os.killpg(p.pid, signal.SIGKILL)  # wattprint (and, in its own group, the command)
    p.wait()
    subprocess.run(["pkill", "-9", "-f", "gpuwork " + state])
    assert _limit(state) != LIMIT  # a SIGKILL cannot be caught
    q = _tune(runner, env, "--", "false")
    assert "put back GPU 0's limit of 300 W" in q.stderr
    assert _limit(state) == LIMIT


def test_a_signal_puts_the_limit_back(runner, gpu):
    state, env = gpu
    p = subprocess.Popen([runner.binary, "tune-power", "--work", "1000", "--"] + _work(state),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while _limit(state) == LIMIT:
        assert p.poll() is None
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGINT and _limit(state) == LIMIT
    assert "the limit is back at 300 W" in err


def test_a_gpu_that_is_not_there(runner, gpu):
    state, env = gpu
    p = _tune(runner, env, "--gpu", "5", "--", "true")
    assert p.returncode == 1 and "NVML has no GPU 5" in p.stderr and _limit(state) == LIMIT


def test_bad_tune_options(runner, gpu):
    state, env = gpu
    for args in (["--limits", "1"], ["--max-slowdown", "lots"], ["--apply", "both"], []):
        p = _tune(runner, env, *args, "--", "true") if args else _tune(runner, env, "true")
        assert p.returncode == 125, (args, p.stderr)
    assert _limit(state) == LIMIT


def _start_tuning(runner, env, state):
    p = subprocess.Popen([runner.binary, "tune-power", "--work", "1000", "--"] + _work(state),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    while _limit(state) == LIMIT:  # the state: it has changed the limit
        assert p.poll() is None
    return p


def test_one_tuning_per_gpu(runner, gpu):
    state, env = gpu
    p = _start_tuning(runner, env, state)
    try:
        during = _limit(state)
        q = _tune(runner, env, "--work", "2", "--", *_work(state))
        assert q.returncode == 1 and "another wattprint tune-power is tuning this GPU" in q.stderr
        assert _limit(state) == during  # the second neither tuned nor "put back"
        r = subprocess.run([runner.binary, "run", "--no-ledger", "-q", "--", "true"], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0 and "put back" not in r.stderr  # nor does a run meanwhile
        assert _limit(state) == during
    finally:
        os.killpg(p.pid, signal.SIGINT)
        p.wait()
    assert _limit(state) == LIMIT


def test_a_recorded_original_outside_the_range_is_not_believed(runner, gpu, tmp_path):
    state, env = gpu
    record = tmp_path / "state" / "wattprint" / "power-limit-GPU-tune-0"
    record.parent.mkdir(parents=True)
    record.write_text("5000\n")  # 5 W: no H100 or fake allows it (80 to 400 W)
    p = _tune(runner, env, "--work", "2", "--", *_work(state, "--unit-s", "0.01"))
    assert p.returncode == 0, p.stderr
    assert "5 W, is outside its range (80 to 400 W): not believed; the current 300 W" in p.stderr
    assert _limit(state) == LIMIT and "the limit is 300 W (as it was)" in p.stdout
    assert not record.exists()


@pytest.mark.parametrize("next_command", ["run", "serve"])
def test_a_killed_tuning_is_put_back_by_the_next_run_or_serve(runner, gpu, next_command, tmp_path):
    state, env = gpu
    p = _start_tuning(runner, env, state)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    subprocess.run(["pkill", "-9", "-f", "gpuwork " + state])
    left = _limit(state)
    assert left != LIMIT
    if next_command == "run":
        q = subprocess.run([runner.binary, "run", "--no-ledger", "-q", "--", "true"], env=env,
                           capture_output=True, text=True)
    else:  # serve puts it back before it serves; a port already taken then ends it
        import socket
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            q = subprocess.run([runner.binary, "serve", "--listen",
                                "127.0.0.1:%d" % taken.getsockname()[1], "--socket",
                                str(tmp_path / "s.sock")], env=env, capture_output=True,
                               text=True, timeout=30)
        assert q.returncode != 0
    assert "put back GPU 0's power limit of 300 W, which a killed wattprint tune-power had " \
           "left at %d W" % (left // 1000) in q.stderr, q.stderr
    assert _limit(state) == LIMIT
