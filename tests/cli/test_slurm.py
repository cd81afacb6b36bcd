"""The SPANK plugin in a real one-node Slurm the tests start themselves (munged,
slurmctld and slurmd on 127.0.0.1, state in a temporary directory, stopped by
pid at the end); slurmd sees a fake powercap tree that the job steps advance."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

import fakehw

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEHW = os.path.join(HERE, "..", "helpers", "fakehw.py")


def _plugin():
    path = os.environ.get("WATTPRINT_SPANK") or os.path.join(HERE, "..", "..", "build",
                                                             "wattprint-spank.so")
    return os.path.abspath(path)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, what, tries=600):
    """Polls a state (not a duration): the daemons' answers."""
    import time
    for _ in range(tries):
        if check():
            return
        time.sleep(0.05)
    pytest.fail("Slurm never reached: " + what)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the Slurm tests start slurmctld and slurmd, which needs root")
    for tool in ("munged", "slurmctld", "slurmd", "srun", "sbatch"):
        assert shutil.which(tool), "%s is not installed (sh scripts/bootstrap.sh check)" % tool
    assert os.path.exists(_plugin()), "the plugin was not built: %s" % _plugin()
    # a directory every user may read: an unprivileged user's srun reads
    # slurm.conf and talks to munged here
    d = tempfile.mkdtemp(prefix="wattprint-slurm-")
    os.chmod(d, 0o755)
    # srun loads the plugin too, as the user who runs it: a copy every user may
    # read (the checkout may lie in root's 0700 home)
    shutil.copy(_plugin(), d + "/wattprint-spank.so")
    os.chmod(d + "/wattprint-spank.so", 0o755)
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool", "sys"):
        os.mkdir(os.path.join(d, sub))
    fakehw.make_zone(d + "/sys", "intel-rapl:0", "package-0")
    fakehw.make_zone(d + "/sys", "intel-rapl:0:0", "dram")  # measured: nothing estimated
    with open(d + "/munge.key", "wb") as f:
        f.write(os.urandom(1024))
    os.chmod(d + "/munge.key", 0o400)
    subprocess.run(["munged", "--force", "--key-file", d + "/munge.key", "--socket",
                    d + "/munge.sock", "--pid-file", d + "/munged.pid", "--log-file",
                    d + "/munged.log", "--seed-file", d + "/munge.seed"], check=True)
    conf = d + "/slurm.conf"
    with open(conf, "w") as f:
        f.write("""ClusterName=wattprint-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={d}/munge.sock
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldPort={p1}
SlurmdPort={p2}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
PlugStackConfig={d}/plugstack.conf
NodeName={host} NodeAddr=127.0.0.1 CPUs=1 RealMemory=100 State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
""".format(host=host, d=d, p1=_free_port(), p2=_free_port()))
    open(d + "/plugstack.conf", "w").close()
    env = dict(os.environ, SLURM_CONF=conf, WATTPRINT_SYSFS=d + "/sys",
               XDG_CONFIG_HOME=d + "/no-config")
    subprocess.run(["slurmctld", "-f", conf], check=True, env=env)
    subprocess.run(["slurmd", "-f", conf], check=True, env=env)
    s = {"dir": d, "env": env, "sys": d + "/sys", "plugin": d + "/wattprint-spank.so"}
    _wait(lambda: subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True,
                                 text=True).stdout.strip() == "idle", "an idle node")
    yield s
    for pidfile in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
        try:
            with open(os.path.join(d, pidfile)) as f:
                os.kill(int(f.read()), 15)
        except (OSError, ValueError):
            pass
    # and whatever this cluster's daemons left (a step daemon still retrying
    # its controller): found by the configuration they inherited
    mark = ("SLURM_CONF=" + conf).encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if mark in f.read().split(b"\0"):
                    os.kill(int(pid), 9)
        except OSError:
            pass
    shutil.rmtree(d, ignore_errors=True)


def _plug(slurm, settings):
    with open(slurm["dir"] + "/plugstack.conf", "w") as f:
        f.write("required %s %s\n" % (slurm["plugin"], settings))


def _ls(wattprint, ledger, *args):
    p = subprocess.run([wattprint, "ls", "--json", "--ledger", ledger] + list(args),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _advance(slurm, joules):
    return [sys.executable, FAKEHW, "advance", slurm["sys"], "--zone",
            "intel-rapl:0=%g" % joules, "--steps", "2"]


def test_one_srun_step_is_one_run(slurm, wattprint, tmp_path):
    ledger = str(tmp_path / "ledger.db")
    _plug(slurm, "ledger=%s project=cluster" % ledger)
    p = subprocess.run(["srun", "-N1"] + _advance(slurm, 10), env=slurm["env"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    runs = _ls(wattprint, ledger)
    assert len(runs) == 1
    r = runs[0]
    assert r["energy"]["cpu_j"] == pytest.approx(10, rel=1e-3)
    assert r["project"] == "cluster" and r["job"].isdigit()
    assert r["tags"]["slurm_step"] == "0" and r["tags"]["slurm_partition"] == "test"
    assert r["tags"]["slurm_user"] == "root" and r["tags"]["slurm_nodes"]
    assert r["user"] == "root"  # the job's user, though slurmstepd has no $USER
    # the step's line, in the step's own stderr (srun's here), once
    host = socket.gethostname()[:63]
    line = "wattprint: step %s.0 on %s used 10 J (measured)" % (r["job"], host)
    assert p.stderr.count("wattprint: step") == 1 and line in p.stderr, p.stderr
    assert p.stderr.rstrip("\n").endswith("wattprint ls --job %s" % r["job"])


def test_a_step_of_two_tasks_has_one_line_after_both(slurm, wattprint, tmp_path):
    """The node's line waits for its last task: the one that ends later
    (task 1, after task 0 has ended) is still counted in it."""
    ledger = str(tmp_path / "ledger.db")
    _plug(slurm, "ledger=%s" % ledger)
    script = tmp_path / "two.sh"  # task 1 waits for task 0 to have ended (a state: its file)
    script.write_text("#!/bin/sh\nif [ \"$SLURM_LOCALID\" = 0 ]; then touch %s/zero-done; exit 0; fi\n"
                      "while [ ! -e %s/zero-done ]; do sleep 0.05; done\n%s\n"
                      % (tmp_path, tmp_path, " ".join(_advance(slurm, 8))))
    script.chmod(0o755)
    p = subprocess.run(["srun", "-N1", "-n2", "--overcommit", str(script)], env=slurm["env"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("wattprint: step") == 1 and "used 8 J (measured)" in p.stderr, p.stderr
    (r,) = _ls(wattprint, ledger)
    assert r["energy"]["cpu_j"] == pytest.approx(8, rel=1e-3)


def test_quiet_leaves_the_step_without_its_line(slurm, wattprint, tmp_path):
    """quiet: the administrator's (plugstack.conf) or the user's (--wattprint=);
    the step is measured all the same."""
    ledger = str(tmp_path / "ledger.db")
    for plug, user in (("quiet", []), ("", ["--wattprint=quiet"])):
        _plug(slurm, "ledger=%s %s" % (ledger, plug))
        p = subprocess.run(["srun", "-N1"] + user + ["sh", "-c", "echo out >&2; exit 6"],
                           env=slurm["env"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 6 and "out" in p.stderr.splitlines(), p.stderr
        assert "wattprint" not in p.stderr
    assert len(_ls(wattprint, ledger)) == 2


def test_a_batch_jobs_steps_add_up_by_job(slurm, wattprint, tmp_path):
    ledger = str(tmp_path / "ledger.db")
    _plug(slurm, "ledger=%s" % ledger)
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\nsrun %s\nsrun --wattprint=project=p9,experiment=e9 %s\n"
                      "srun --wattprint=no %s\nexit 3\n"
                      % (" ".join(_advance(slurm, 5)), " ".join(_advance(slurm, 7)),
                         " ".join(_advance(slurm, 100))))
    script.chmod(0o755)
    job = subprocess.run(["sbatch", "--parsable", "-o", str(tmp_path / "out"), str(script)],
                         env=slurm["env"], capture_output=True, text=True,
                         check=True).stdout.strip()
    _wait(lambda: not subprocess.run(["squeue", "-h", "-j", job], env=slurm["env"],
                                     capture_output=True, text=True).stdout.strip(),
          "the end of job " + job)
    runs = _ls(wattprint, ledger, "--job", job)
    assert sorted(r["tags"]["slurm_step"] for r in runs) == ["0", "1"]  # the opted-out one: none
    labelled = [r for r in runs if r["tags"]["slurm_step"] == "1"][0]
    assert labelled["project"] == "p9" and labelled["experiment"] == "e9"
    p = subprocess.run([wattprint, "summary", "--json", "--by", "job", "--ledger", ledger],
                       capture_output=True, text=True)
    mine = [s for s in json.loads(p.stdout) if s["key"] == job][0]
    assert mine["runs"] == 2 and mine["energy_j"] == pytest.approx(12, rel=1e-3)
    state = subprocess.run(["scontrol", "show", "job", job], env=slurm["env"],
                           capture_output=True, text=True).stdout
    assert "ExitCode=3:0" in state  # the job's own status
    out = (tmp_path / "out").read_text()  # the job's output: a line for each measured step
    assert out.count("wattprint: step") == 2, out
    assert ("wattprint: step %s.0 " % job) in out and ("wattprint: step %s.1 " % job) in out


def test_an_unwritable_ledger_never_fails_a_job(slurm, wattprint):
    _plug(slurm, "ledger=/proc/wattprint-cannot/ledger.db region=FR")
    p = subprocess.run(["srun", "-N1", "sh", "-c", "echo out; exit 5"], env=slurm["env"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 5 and p.stdout == "out\n"


def test_a_bad_setting_is_logged_and_the_job_runs(slurm):
    _plug(slurm, "colour=blue")
    p = subprocess.run(["srun", "-N1", "true"], env=slurm["env"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0
    log = open(slurm["dir"] + "/slurmd.log").read()
    assert "wattprint: unknown setting 'colour'" in log


def _as_nobody(slurm, args):
    """srun as an ordinary user (nobody), in a directory it may enter."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "srun", "-N1"] + args, env=slurm["env"], cwd="/",
                          capture_output=True, text=True, timeout=60)


def test_an_ordinary_user_labels_a_step_but_never_steers_root(slurm, wattprint, tmp_path):
    ledger = str(tmp_path / "ledger.db")  # root's, in a directory only root may enter
    _plug(slurm, "ledger=%s region=DE pue=1.5" % ledger)
    chosen = os.path.join(slurm["dir"], "user-chosen.db")  # root may write here; nobody may not
    # a server the user runs: root's libpq must never be sent there
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    trap.setblocking(False)
    pg = "postgresql://wattprint@127.0.0.1:%d/wattprint?connect_timeout=1" % trap.getsockname()[1]
    for steer in ("ledger=" + chosen, "ledger=" + pg):
        p = _as_nobody(slurm, ["--wattprint=%s,region=SE,pue=1.0,intensity=1,project=mine,"
                               "experiment=e1,tag=team=a" % steer, "sh", "-c", "echo out; exit 4"])
        assert p.returncode == 4 and p.stdout == "out\n", p.stderr
        for key in ("ledger", "region", "pue", "intensity"):
            assert "wattprint: %s is the cluster's setting, not the job's" % key in p.stderr
    assert not os.path.exists(chosen)
    with pytest.raises(BlockingIOError):
        trap.accept()  # nobody connected
    trap.close()
    runs = _ls(wattprint, ledger)
    assert len(runs) == 2
    for r in runs:
        assert r["user"] == "nobody" and r["tags"]["slurm_user"] == "nobody"
        assert r["carbon"]["region"] == "DEU" and r["pue"] == 1.5
        assert r["project"] == "mine" and r["experiment"] == "e1" and r["tags"]["team"] == "a"


def test_a_user_may_not_forge_slurms_own_tags(slurm, wattprint, tmp_path):
    ledger = str(tmp_path / "ledger.db")
    _plug(slurm, "ledger=%s" % ledger)
    p = _as_nobody(slurm, ["--wattprint=tag=slurm_user=root,colour=blue", "true"])
    assert p.returncode == 0, p.stderr
    assert "slurm_user=root' ignored" in p.stderr and "unknown setting 'colour'" in p.stderr
    (r,) = _ls(wattprint, ledger)
    assert r["tags"]["slurm_user"] == "nobody" and r["user"] == "nobody"
