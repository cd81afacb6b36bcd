"""A PostgreSQL server of the tests' own: initdb and pg_ctl (as the postgres
user when the tests run as root), listening only on a Unix socket in its own
directory, trust authentication for its superuser "wattprint"."""
import glob
import os
import shutil
import subprocess
import tempfile


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL's server is not installed (sh scripts/bootstrap.sh check)"
    return os.path.dirname(found[-1])


def _as_user():
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def start():
    """Starts a cluster; returns its directory (the socket's too)."""
    d = tempfile.mkdtemp(prefix="wattprint-pg-")
    if os.geteuid() == 0:
        shutil.chown(d, "postgres")
    subprocess.run(_as_user() + [os.path.join(_bindir(), "initdb"), "-D", d + "/data", "-A",
                                 "trust", "-U", "wattprint", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run(_as_user() + [os.path.join(_bindir(), "pg_ctl"), "-D", d + "/data", "-l",
                                 d + "/log", "-o", "-k %s -c listen_addresses='' -c fsync=off" % d,
                                 "-w", "start"], check=True, capture_output=True)
    return d


def crash(d):
    """Stops the server as a crash or a failover would (no shutdown
    checkpoint, clients cut off)."""
    subprocess.run(_as_user() + [os.path.join(_bindir(), "pg_ctl"), "-D", d + "/data", "-m",
                                 "immediate", "-w", "stop"], check=True, capture_output=True)


def start_again(d):
    """Starts a stopped server (crash recovery keeps what was committed)."""
    subprocess.run(_as_user() + [os.path.join(_bindir(), "pg_ctl"), "-D", d + "/data", "-l",
                                 d + "/log", "-o", "-k %s -c listen_addresses='' -c fsync=off" % d,
                                 "-w", "start"], check=True, capture_output=True)


def stop(d):
    subprocess.run(_as_user() + [os.path.join(_bindir(), "pg_ctl"), "-D", d + "/data", "-m",
                                 "fast", "-w", "stop"], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


_count = [0]


def new_database(d):
    """A new, empty database there, as a ledger URI."""
    _count[0] += 1
    name = "ledger%d" % _count[0]
    subprocess.run(["psql", "-h", d, "-U", "wattprint", "-d", "postgres", "-q", "-c",
                    "CREATE DATABASE %s" % name], check=True, capture_output=True)
    return "postgresql:///%s?host=%s&user=wattprint" % (name, d)
