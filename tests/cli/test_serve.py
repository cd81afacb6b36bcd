"""wattprint serve: a real Prometheus server scraping two instances, load,
malformed requests, and the rootless path through the Unix socket."""
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import fakehw
import promtest
from waits import free_port, wait_for


class Node:
    """A wattprint serve instance over its own fake powercap tree."""

    def __init__(self, wattprint, tmp, name, extra=(), zones=()):
        self.sysfs = os.path.join(tmp, name, "sys")
        self.procfs = os.path.join(tmp, name, "proc")
        fakehw.make_zone(self.sysfs, "intel-rapl:0", "package-0")
        fakehw.make_zone(self.sysfs, "intel-rapl:0:0", "dram")
        for zone_id, zone_name in zones:
            fakehw.make_zone(self.sysfs, zone_id, zone_name)
        fakehw.make_proc(self.procfs)
        self.port = free_port()
        env = dict(os.environ, WATTPRINT_SYSFS=self.sysfs, WATTPRINT_PROCFS=self.procfs)
        self.proc = subprocess.Popen([wattprint, "serve", "--listen", "127.0.0.1:%d" % self.port,
                                      "--interval", "0.2"] + list(extra), env=env,
                                     stderr=subprocess.PIPE, text=True)
        # the page has the counters once the baseline reading is taken: energy
        # added before it would be the baseline's
        wait_for(lambda: "wattprint_energy_joules_total{" in self.get("/metrics")[1],
                 what="serve's baseline reading")

    def get(self, path, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request(method, path)
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return r.status, body, r.getheader("Content-Type")

    def stop(self):
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


@pytest.fixture
def node(wattprint, tmp_path):
    n = Node(wattprint, str(tmp_path), "a", ["--region", "FR"])
    yield n
    n.stop()


def test_metrics_format(node):
    fakehw.advance(node.sysfs, [("intel-rapl:0", 42), ("intel-rapl:0:0", 4)], 1, 0)
    wait_for(lambda: 'device="package-0",sensor="rapl",method="measured"} 42.0' in
             node.get("/metrics")[1], what="the sampler's reading")
    status, body, ctype = node.get("/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    assert "# TYPE wattprint_energy_joules_total counter" in body
    assert "# TYPE wattprint_power_watts gauge" in body
    assert ('wattprint_energy_joules_total{component="cpu",device="package-0",sensor="rapl",'
            'method="measured"} 42.000000') in body
    assert 'wattprint_grid_intensity_grams_per_kilowatt_hour{region="FRA"} 56.039' in body
    g = [l for l in body.splitlines() if l.startswith("wattprint_emissions_grams_total")][0]
    assert float(g.split()[-1]) == pytest.approx(46 / 3.6e6 * 56.04, rel=1e-3)
    w = [l for l in body.splitlines() if l.startswith("wattprint_water_offsite_liters_total")][0]
    assert float(w.split()[-1]) == pytest.approx(46 / 3.6e6 * 3.674, rel=1e-3)  # France's plants
    assert node.get("/healthz")[:2] == (200, "ok\n")
    assert node.get("/nope")[0] == 404
    assert node.get("/metrics", "POST")[0] == 405
    assert node.get("/metrics", "HEAD")[0] == 200


def test_counters_stay_monotonic_across_wraps(wattprint, tmp_path):
    n = Node(wattprint, str(tmp_path), "w")
    try:
        with open(os.path.join(n.sysfs, "class/powercap/intel-rapl:0/max_energy_range_uj"),
                  "w") as f:
            f.write("5000000\n")  # 5 J: wraps every few steps below
    finally:
        n.stop()
    # a daemon started on a 5 J counter at up to 50 W
    fakehw.make_zone(n.sysfs, "intel-rapl:0", "package-0", range_uj=5_000_000,
                     max_power_uw=50_000_000)
    n2 = Node(wattprint, str(tmp_path), "w")
    try:
        def energy():
            body = n2.get("/metrics")[1]
            line = [l for l in body.splitlines() if 'device="package-0"' in l and
                    l.startswith("wattprint_energy_joules_total")][0]
            return float(line.split()[-1])

        values = []
        for i in range(6):
            # each 3 J read before the next (a 5 J counter cannot be read
            # across two of them): wait for the daemon's reading, not a time
            fakehw.advance(n2.sysfs, [("intel-rapl:0", 3.0)], 3, 0.03)
            wait_for(lambda: energy() >= 3.0 * (i + 1) - 1e-3, what="reading %d" % i)
            values.append(energy())
        assert values == sorted(values)
        assert values[-1] == pytest.approx(18.0, rel=1e-3)
    finally:
        n2.stop()


def test_no_carbon_metrics_without_a_region(wattprint, tmp_path, monkeypatch):
    monkeypatch.delenv("WATTPRINT_REGION", raising=False)
    n = Node(wattprint, str(tmp_path), "b")
    try:
        body = n.get("/metrics")[1]
        assert "wattprint_energy_joules_total" in body
        assert "wattprint_emissions_grams_total" not in body
    finally:
        n.stop()


def test_two_hundred_concurrent_scrapes(node):
    def scrape(_):
        return node.get("/metrics")[0]
    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        statuses = list(pool.map(scrape, range(200)))
    assert statuses == [200] * 200
    assert node.proc.poll() is None


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET /metrics HTTP/9.9\r\n\r\n",
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"\x00\x01\x02\xff\r\n\r\n",
])
def test_malformed_requests_get_4xx_and_never_crash(node, raw):
    s = socket.create_connection(("127.0.0.1", node.port), timeout=2)
    try:
        s.sendall(raw)
        reply = s.recv(1024)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        reply = b""  # dropped, or left to time out: either way no answer to give
    finally:
        s.close()
    if reply:
        code = int(reply.split()[1])
        # a client error; 505 is the status HTTP has for an unknown version
        assert 400 <= code < 500 or code == 505, reply[:100]
    assert node.get("/healthz")[0] == 200
    assert node.proc.poll() is None


def test_serve_refusals(wattprint):
    for args, needle in ((["--listen", "nowhere"], "--listen"),
                         (["--listen", "127.0.0.1:99999"], "--listen"),
                         (["--listen", "none"], "nothing to serve"),
                         (["--socket-mode", "999"], "--socket-mode"),
                         (["--region", "XX"], "unknown region"),
                         (["--bogus"], "unknown option")):
        p = subprocess.run([wattprint, "serve"] + args, capture_output=True, text=True,
                           timeout=10)
        assert p.returncode == 2, (args, p.stderr)
        assert needle in p.stderr


@pytest.mark.skipif(not shutil.which("prometheus"), reason="needs Debian's prometheus")
def test_prometheus_sums_two_nodes(wattprint, tmp_path):
    a = Node(wattprint, str(tmp_path), "node1")
    b = Node(wattprint, str(tmp_path), "node2")
    prom = promtest.Prometheus(tmp_path, [a.port, b.port])
    query = prom.query
    total = 'sum(wattprint_energy_joules_total{component="cpu"})'
    try:
        wait_for(lambda: query('count(up{job="wattprint"} == 1)') == 2, timeout=60,
                 what="Prometheus to scrape both nodes")
        before = query(total)
        fakehw.advance(a.sysfs, [("intel-rapl:0", 100.0)], 5, 0.05)
        fakehw.advance(b.sysfs, [("intel-rapl:0", 50.0)], 5, 0.05)
        wait_for(lambda: query(total) - before >= 149, timeout=30, what="the new energy")
        time.sleep(2.5)
        assert query(total) - before == pytest.approx(150.0, rel=0.01)
    finally:
        prom.stop()
        a.stop()
        b.stop()


def published_queries():
    """Every PromQL query the project publishes: docs/serve.md's code spans,
    contrib/prometheus.yml's comments and both Grafana dashboards' targets."""
    import re
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    queries = []
    with open(os.path.join(root, "docs", "serve.md")) as f:
        queries += [q for q in re.findall(r"`([^`]*wattprint_[^`]*)`", f.read()) if "(" in q]
    with open(os.path.join(root, "contrib", "prometheus.yml")) as f:
        queries += [l.lstrip("# ").strip() for l in f if l.startswith("#   ") and "wattprint_" in l]
    for name in ("grafana-dashboard.json", "grafana-energy-per-token.json"):
        with open(os.path.join(root, "contrib", name)) as f:
            queries += [t["expr"] for p in json.load(f)["panels"] for t in p.get("targets", [])]
    return queries


def test_every_published_query_counts_each_joule_once(wattprint, tmp_path):
    """A node with a package, its core and uncore, DRAM and psys: every query
    of docs/ and contrib/ runs in real Prometheus, and the energy ones give
    the package and DRAM's 110 J, not the 340 J of every zone added up."""
    n = Node(wattprint, str(tmp_path), "node1", ["--region", "FR"],
             zones=[("intel-rapl:0:1", "core"), ("intel-rapl:0:2", "uncore"),
                    ("intel-rapl:1", "psys")])
    prom = promtest.Prometheus(tmp_path, [n.port])
    queries = published_queries()
    assert len(queries) >= 12, queries
    try:
        wait_for(lambda: prom.query('count(up{job="wattprint"} == 1)') == 1, timeout=60,
                 what="Prometheus to scrape the node")
        time.sleep(2.5)  # a few samples before the energy, for increase()
        fakehw.advance(n.sysfs, [("intel-rapl:0", 100.0), ("intel-rapl:0:1", 60.0),
                                 ("intel-rapl:0:2", 20.0), ("intel-rapl:0:0", 10.0),
                                 ("intel-rapl:1", 150.0)], 5, 0.05)
        whole = 'sum(wattprint_energy_joules_total)'
        wait_for(lambda: prom.query(whole) == pytest.approx(110.0), timeout=30,
                 what="the new energy in Prometheus")
        assert prom.query("sum(wattprint_overlapping_energy_joules_total)") == \
            pytest.approx(230.0)
        for q in queries:
            v = prom.query(q)  # fails on an error
            if "energy_joules_total" in q and "increase" in q:
                assert v * (3.6e6 if "3.6e6" in q else 1) == pytest.approx(110.0, rel=0.2), q
            elif "energy_joules_total" in q and "rate" not in q:
                assert v * (3.6e6 if "3.6e6" in q else 1) == pytest.approx(110.0), q
    finally:
        prom.stop()
        n.stop()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to test an unprivileged user")
def test_rootless_run_measures_through_the_socket(wattprint):
    top = tempfile.mkdtemp(prefix="wattprint-sock-")
    try:
        os.chmod(top, 0o755)
        sysfs, procfs = os.path.join(top, "sys"), os.path.join(top, "proc")
        fakehw.make_zone(sysfs, "intel-rapl:0", "package-0")
        fakehw.make_proc(procfs)
        energy = os.path.realpath(fakehw.zone_file(sysfs, "intel-rapl:0"))
        os.chmod(energy, 0o400)  # root-only, as since Linux 5.10
        for root, dirs, _ in os.walk(top):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        sock = os.path.join(top, "wattprint.sock")
        binary = os.path.join(top, "wattprint")
        shutil.copy(wattprint, binary)
        os.chmod(binary, 0o755)
        out = os.path.join(top, "out")
        os.mkdir(out)
        os.chmod(out, 0o777)
        env = dict(os.environ, WATTPRINT_SYSFS=sysfs, WATTPRINT_PROCFS=procfs)
        port = free_port()  # to see when the daemon has read what the test added
        daemon = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:%d" % port, "--socket",
                                   sock, "--interval", "0.1"], env=env, stderr=subprocess.PIPE,
                                  text=True)
        wait_for(lambda: os.path.exists(sock), what="the socket")
        assert oct(os.stat(sock).st_mode & 0o777) == "0o666"
        user_env = dict(env, WATTPRINT_SOCKET=sock, WATTPRINT_LEDGER=os.path.join(out, "l.db"))
        # the command says it started, then waits to be told to end: the
        # energy is added between, while it runs
        started, go = os.path.join(out, "started"), os.path.join(out, "go")
        script = ("touch %s; while [ ! -e %s ]; do sleep 0.05; done" % (started, go))
        run = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                binary, "run", "--require-measured", "--json",
                                os.path.join(out, "r.json"), "--", "sh", "-c", script],
                               env=user_env, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: os.path.exists(started), what="the command to start")
        fakehw.advance(sysfs, [("intel-rapl:0", 25.0)], 5, 0.05)  # as root, mid-run

        def daemon_read_it():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/metrics")
            body = c.getresponse().read().decode()
            c.close()
            return 'device="package-0",sensor="rapl",method="measured"} 25.0' in body

        wait_for(daemon_read_it, what="the daemon's reading of the 25 J")
        open(go, "w").close()
        _, err = run.communicate(timeout=30)
        daemon.terminate()
        daemon.wait(timeout=10)
        assert run.returncode == 0, err
        assert "Permission denied" in err and "measuring through wattprint serve" in err
        r = json.load(open(os.path.join(out, "r.json")))
        cpu = [c for c in r["channels"] if c["component"] == "cpu"][0]
        assert cpu["method"] == "measured" and cpu["sensor"] == "serve"
        assert cpu["energy_j"] == pytest.approx(25.0, rel=1e-3)
    finally:
        shutil.rmtree(top)


def test_other_ranks_measure_only_their_gpus(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    nvml = os.path.join(str(runner.tmp), "nvml")
    fakehw.make_gpus(nvml, [{"name": "GPU", "uuid": "GPU-1", "limit_mw": 300000,
                             "power_mw": 0, "energy_mj": 0}])
    base = runner.env(WATTPRINT_NVML_LIBRARY=os.environ["FAKE_NVML"],
                      WATTPRINT_FAKE_NVML_DIR=nvml)
    p, r = runner.run(["--", "true"], env=dict(base, LOCAL_RANK="1"))
    assert {c["component"] for c in r["channels"]} == {"gpu"}
    p, r = runner.run(["--", "true"], env=dict(base, LOCAL_RANK="0"))
    assert {"cpu", "gpu"} <= {c["component"] for c in r["channels"]}


def test_socket_clients_that_hang_up_do_not_kill_the_daemon(wattprint, tmp_path):
    sock = str(tmp_path / "s.sock")
    n = Node(wattprint, str(tmp_path), "h", ["--socket", sock])
    try:
        wait_for(lambda: os.path.exists(sock), what="the socket")
        for _ in range(50):
            s = socket.socket(socket.AF_UNIX)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.connect(sock)
            s.close()  # before reading the snapshot
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        assert json.loads(data)["version"] == 1
        assert n.proc.poll() is None
    finally:
        n.stop()


def test_a_scrape_is_answered_while_idle_connections_are_held(wattprint, tmp_path):
    import resource
    import socket
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192)
    if want < 2200:
        pytest.skip("needs 2,200 descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    n = Node(wattprint, str(tmp_path), "idle")
    idle = []
    try:
        for _ in range(2000):  # connected, never a byte sent
            s = socket.create_connection(("127.0.0.1", n.port), timeout=5)
            idle.append(s)
        c = http.client.HTTPConnection("127.0.0.1", n.port, timeout=2)
        c.request("GET", "/metrics")  # a fresh scraper, answered at once
        r = c.getresponse()
        assert r.status == 200 and b"wattprint_energy_joules_total" in r.read()
        c.close()
    finally:
        for s in idle:
            s.close()
        n.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_the_socket_is_made_with_its_mode_never_chmod_by_path(wattprint, tmp_path):
    # A chmod by path after bind is the race: a link swapped in between makes
    # root change another file's mode. The socket must be born with its mode.
    sysfs = tmp_path / "sys"
    fakehw.make_zone(str(sysfs), "intel-rapl:0", "package-0")
    sock = tmp_path / "s.sock"
    log = tmp_path / "strace.log"
    env = dict(os.environ, WATTPRINT_SYSFS=str(sysfs), WATTPRINT_PROCFS=str(tmp_path / "proc"))
    d = subprocess.Popen(["strace", "-f", "-o", str(log), "-e", "trace=chmod,fchmodat",
                          wattprint, "serve", "--listen", "none", "--socket", str(sock),
                          "--socket-mode", "0640"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: sock.exists(), what="the socket")
        assert oct(os.stat(sock).st_mode & 0o777) == "0o640"
    finally:
        # the daemon, not strace: strace ends when its tracee does
        with open("/proc/%d/task/%d/children" % (d.pid, d.pid)) as f:
            for pid in f.read().split():
                os.kill(int(pid), signal.SIGTERM)
        d.wait(timeout=20)
    assert str(sock) not in log.read_text()


def test_the_systemd_unit_leaves_room_for_every_connection_serve_takes():
    """serve takes up to 16,384 connections and keeps 64 descriptors for
    itself (server.c); systemd's default soft limit of 1,024 would hold a
    node exporter to 960, and scrapes past them wait."""
    unit = os.path.join(os.path.dirname(__file__), "..", "..", "contrib", "wattprint.service")
    lines = [l.strip() for l in open(unit) if l.strip().startswith("LimitNOFILE=")]
    assert len(lines) == 1
    assert int(lines[0].split("=", 1)[1]) >= 16384 + 64
