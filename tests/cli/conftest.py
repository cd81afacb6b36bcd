"""Shared fixtures for the CLI tests: the binary under test, fake hardware."""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS = os.path.join(HERE, "..", "helpers")
sys.path.insert(0, HELPERS)
FAKEHW = os.path.join(HELPERS, "fakehw.py")


@pytest.fixture(scope="session", autouse=True)
def no_configuration_files(tmp_path_factory):
    """Every wattprint the tests start reads no configuration file of this
    machine's: its user's and system's files are replaced by absent ones."""
    home = tmp_path_factory.mktemp("config")
    os.environ["XDG_CONFIG_HOME"] = str(home)
    os.environ["WATTPRINT_SYSTEM_CONFIG"] = str(home / "absent-system-config")
    # nor writes in this machine's home: spools, power-limit records
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data"))
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield


@pytest.fixture(scope="session")
def wattprint():
    path = os.environ.get("WATTPRINT_BIN")
    if not path:
        path = os.path.join(HERE, "..", "..", "build", "wattprint")
    assert os.access(path, os.X_OK), "set WATTPRINT_BIN to the wattprint binary: %s" % path
    return os.path.abspath(path)


class Runner:
    def __init__(self, binary, tmp_path):
        self.binary = binary
        self.tmp = tmp_path
        self.sysfs = str(tmp_path / "sys")
        self.procfs = str(tmp_path / "proc")
        self.ledger = str(tmp_path / "ledger.db")
        os.makedirs(self.sysfs, exist_ok=True)

    def env(self, **extra):
        e = dict(os.environ)
        e["WATTPRINT_SYSFS"] = self.sysfs
        e["WATTPRINT_PROCFS"] = self.procfs
        e["WATTPRINT_LEDGER"] = self.ledger
        e.update(extra)
        return e

    def run(self, args, env=None, timeout=60, json_out=True, **kw):
        """Runs wattprint run with args; returns (CompletedProcess, result dict or None)."""
        jpath = str(self.tmp / "result.json")
        if os.path.exists(jpath):
            os.unlink(jpath)
        cmd = [self.binary, "run"]
        if json_out:
            cmd += ["--json", jpath]
        cmd += args
        p = subprocess.run(cmd, env=env or self.env(), capture_output=True, text=True,
                           timeout=timeout, **kw)
        result = None
        if os.path.exists(jpath):
            with open(jpath) as f:
                result = json.load(f)
        return p, result

    def wp(self, *args, env=None, timeout=60):
        """Runs another wattprint subcommand (ls, show, summary, ...)."""
        return subprocess.run([self.binary] + list(args), env=env or self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def wp_json(self, *args, env=None):
        p = self.wp(*args, "--json", env=env)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def advance_cmd(self, *zones, steps=10, period=0.01, extra=()):
        cmd = [sys.executable, FAKEHW, "advance", self.sysfs]
        for z in zones:
            cmd += ["--zone", z]
        return cmd + ["--steps", str(steps), "--period", str(period)] + list(extra)


@pytest.fixture
def runner(wattprint, tmp_path):
    import fakehw
    r = Runner(wattprint, tmp_path)
    fakehw.make_proc(r.procfs)
    return r


@pytest.fixture
def measured(runner):
    """A runner with one package and its DRAM zone, both measured."""
    import fakehw
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:0", "dram")
    return runner


# --- a PostgreSQL server of the tests' own (tests/helpers/pgtest.py) --------

@pytest.fixture(scope="session")
def pg_server():
    import pgtest
    d = pgtest.start()
    yield d
    pgtest.stop(d)


@pytest.fixture
def pg_uri(pg_server):
    """A new, empty database on the tests' server, as a ledger URI."""
    import pgtest
    return pgtest.new_database(pg_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request, measured):
    """The measured runner, its ledger on each backend in turn."""
    if request.param == "postgresql":
        measured.ledger = request.getfixturevalue("pg_uri")
    return measured
