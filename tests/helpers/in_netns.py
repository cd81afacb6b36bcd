#!/usr/bin/env python3
"""Runs a Python script as a program would, inside a network namespace of
its own (the caller runs this under `unshare -n`): loopback up, optionally a
Prometheus push gateway on 127.0.0.1:9091 (the default address CodeCarbon
pushes to), the script in DIR, and, when asked, SIGINT to it once it printed
a given line on stdout or stderr and (--children N) N of its child processes
have each run 0.1 s of CPU (its state, not a time) — as a user's Ctrl-C ends an example that would run for years. Writes DIR/output (stdout and
stderr as they came), DIR/rc and, with the gateway, DIR/pushed.txt.

usage: in_netns.py [--gateway] [--interrupt-after LINE [--children N]] DIR SCRIPT
"""
import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request


def gateway_ready():
    for _ in range(200):
        try:
            urllib.request.urlopen("http://127.0.0.1:9091/-/ready", timeout=1).read()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("the push gateway did not start")


def busy_children(pid):
    """How many processes with pid as their parent have run 0.1 s of CPU
    (/proc/N/stat: ppid, then utime and stime in clock ticks)."""
    n, tick = 0, os.sysconf("SC_CLK_TCK")
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            n += int(fields[1]) == pid and int(fields[11]) + int(fields[12]) >= tick // 10
        except (OSError, ValueError, IndexError):
            pass
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", action="store_true")
    ap.add_argument("--interrupt-after")
    ap.add_argument("--children", type=int, default=0,
                    help="before the interrupt, wait until this many of the script's children have "
                         "run 0.1 s of CPU")
    ap.add_argument("dir")
    ap.add_argument("script")
    a = ap.parse_args()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    gw = None
    if a.gateway:
        gw = subprocess.Popen(["prometheus-pushgateway", "--web.listen-address=127.0.0.1:9091",
                               "--persistence.file="], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        gateway_ready()
    out = open(os.path.join(a.dir, "output"), "w")
    p = subprocess.Popen([sys.executable, "-u", a.script], cwd=a.dir, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        out.write(line)
        out.flush()
        if a.interrupt_after and a.interrupt_after in line:
            # a pool's workers at work first (a state: its tasks were handed
            # out, so the pool is whole): SIGINT while the pool is still being
            # made leaves it hung, its handler threads alive
            while a.children and p.poll() is None and busy_children(p.pid) < a.children:
                time.sleep(0.05)
            p.send_signal(signal.SIGINT)
            a.interrupt_after = None
    rc = p.wait()
    with open(os.path.join(a.dir, "rc"), "w") as f:
        f.write("%d\n" % rc)
    if gw:
        with open(os.path.join(a.dir, "pushed.txt"), "w") as f:
            f.write(urllib.request.urlopen("http://127.0.0.1:9091/metrics", timeout=5).read()
                    .decode())
        gw.terminate()
        gw.wait()


if __name__ == "__main__":
    main()
