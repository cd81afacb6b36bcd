"""Work from an inference server's metrics page (--work-url): a stand-in whose
token counters move with a fake powercap zone's energy (tests/helpers/
tokenserver.py), so the joules per token are known; resets, an endpoint that
hangs, answers garbage or goes away, several counters, and wattprint serve's
series and hourly ledger records."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

import fakehw
import promtest
import tokenserver
from waits import free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENSERVER = os.path.join(HERE, "..", "helpers", "tokenserver.py")
JPT = 0.5  # the stand-in's joules per generated token


@pytest.fixture
def stand_in(measured):
    s = tokenserver.StandIn(fakehw.zone_file(measured.sysfs, "intel-rapl:0"), JPT)
    yield s
    s.close()


def drive(runner, stand_in, joules=40.0, steps=20, **kw):
    cmd = [sys.executable, TOKENSERVER, "drive", fakehw.zone_file(runner.sysfs, "intel-rapl:0"),
           "--url", stand_in.url, "--joules", str(joules), "--steps", str(steps)]
    for k, v in kw.items():
        cmd += ["--" + k.replace("_", "-"), str(v)]
    return cmd


def run_work(runner, stand_in, work, **kw):
    return runner.run(["--sensors", "rapl", "--no-ledger", "--work-url", stand_in.url] + work +
                      ["--"] + drive(runner, stand_in, **kw))


def test_joules_per_generated_token(measured, stand_in):
    p, r = run_work(measured, stand_in, ["--work-metric", "vllm:generation_tokens_total"])
    assert p.returncode == 0, p.stderr
    w = r["work"]
    assert r["energy"]["total_j"] == pytest.approx(40.0, rel=1e-6)
    assert w["unit"] == "tokens"
    assert w["done"] == pytest.approx(40.0 / JPT, rel=0.01)
    assert w["energy_per_unit_j"] == pytest.approx(JPT, rel=0.10)
    (c,) = w["counters"]
    assert c["metric"] == "vllm:generation_tokens_total" and c["resets"] == 0
    assert w["endpoint"]["url"] == stand_in.url and w["endpoint"]["failed"] == 0
    assert "80 tokens" in p.stderr and "per token" in p.stderr


def test_scrapes_keep_one_connection(measured, stand_in):
    # --interval 1: a scrape a second (the default is one every 5 s)
    p, r = run_work(measured, stand_in, ["--work-from", "vllm", "--interval", "1"], steps=80)
    assert p.returncode == 0, p.stderr
    assert r["work"]["endpoint"]["scrapes"] >= 3
    assert len(stand_in.page_conns) == 1  # the server is asked over one connection


def test_several_counters_from_a_preset(measured, stand_in):
    p, r = run_work(measured, stand_in, ["--work-from", "vllm"])
    assert p.returncode == 0, p.stderr
    gen, prompt = r["work"]["counters"]
    assert (gen["unit"], prompt["unit"]) == ("tokens", "prompt_tokens")
    assert gen["energy_per_unit_j"] == pytest.approx(JPT, rel=0.10)
    assert prompt["done"] == pytest.approx(3 * gen["done"], rel=0.01)
    assert prompt["energy_per_unit_j"] == pytest.approx(JPT / 3, rel=0.10)
    assert "prompt_tokens" in p.stderr


def test_the_ledger_and_report_carry_the_tokens(measured, stand_in):
    p, r = measured.run(["--sensors", "rapl", "--work-url", stand_in.url, "--work-from", "vllm",
                         "--"] + drive(measured, stand_in))
    assert p.returncode == 0, p.stderr
    kept = measured.wp_json("show", "last")
    assert kept["work"]["counters"][1]["unit"] == "prompt_tokens"
    assert kept["work"]["energy_per_unit_j"] == pytest.approx(JPT, rel=0.10)
    md = measured.wp("report", "last").stdout
    assert "| energy per token |" in md and "prompt_tokens |" in md
    html = measured.wp("report", "last", "--html", "-").stdout
    assert "per prompt_token (the same energy)" in html


def test_a_counter_reset_mid_run_is_new_work(measured, stand_in):
    p, r = run_work(measured, stand_in, ["--work-from", "vllm"], reset_after=10)
    assert p.returncode == 0, p.stderr
    gen = r["work"]["counters"][0]
    assert gen["resets"] == 1
    assert r["work"]["done"] == pytest.approx(40.0 / JPT, rel=0.01)


def test_a_server_started_by_the_run_counts_from_zero(measured, tmp_path):
    """Nothing listens when the run starts: what the server counts later is all the run's."""
    zone = fakehw.zone_file(measured.sysfs, "intel-rapl:0")
    port = free_port()
    script = tmp_path / "server.py"
    script.write_text(
        "import sys, time\n"
        "sys.path.insert(0, %r)\n"
        "import tokenserver\n"
        "time.sleep(0.5)\n"  # not listening at the run's first scrape
        "s = tokenserver.StandIn(%r, %r, offset=0.0, port=%d)\n"
        "tokenserver.wait_scrape_after(s.url, 0)\n"
        "for k in range(10):\n"
        "    tokenserver.add_uj(%r, 2000000)\n"
        "tokenserver.wait_scrape_after(s.url, tokenserver.scrapes(s.url))\n"
        % (os.path.dirname(TOKENSERVER), zone, JPT, port, zone))
    p, r = measured.run(["--sensors", "rapl", "--no-ledger", "--work-url",
                         "http://127.0.0.1:%d/metrics" % port, "--work-metric",
                         "vllm:generation_tokens_total", "--", sys.executable, str(script)])
    assert p.returncode == 0, p.stderr
    assert r["work"]["done"] == pytest.approx(20.0 / JPT, rel=0.01)
    assert r["work"]["endpoint"]["failed"] >= 1
    assert p.stderr.count("cannot read the work") == 1


@pytest.mark.parametrize("mode,said", [("garbage", "not a Prometheus text page: line 1"),
                                       ("status", "answered HTTP 503"),
                                       ("hang", "no answer within the timeout")])
def test_an_unreadable_endpoint_is_said_once_and_the_run_goes_on(measured, stand_in, mode, said):
    stand_in.mode = mode
    p, r = measured.run(["--sensors", "rapl", "--no-ledger", "--work-url", stand_in.url,
                         "--work-from", "vllm", "--"] +
                        measured.advance_cmd("intel-rapl:0=10", steps=5, period=0.5,
                                             extra=["--exit", "3"]))
    assert p.returncode == 3, p.stderr
    assert p.stderr.count("cannot read the work") == 1 and said in p.stderr
    assert r["energy"]["total_j"] == pytest.approx(10.0, rel=1e-6)
    w = r["work"]
    assert w["done"] == 0 and w["energy_per_unit_j"] is None
    assert w["endpoint"]["failed"] == w["endpoint"]["scrapes"] >= 1
    assert "never answered with a metrics page" in p.stderr


def test_an_endpoint_that_disappears_keeps_the_work_read(measured, stand_in):
    p, r = run_work(measured, stand_in, ["--work-from", "vllm"], vanish_after=10, exit=4)
    assert p.returncode == 4, p.stderr
    assert p.stderr.count("cannot read the work") == 1
    w = r["work"]
    assert w["done"] == pytest.approx(20.0 / JPT, rel=0.01)  # the first half's tokens
    assert w["endpoint"]["failed"] >= 1
    assert r["energy"]["total_j"] == pytest.approx(40.0, rel=1e-6)


def test_a_metric_not_on_the_page_is_said(measured, stand_in):
    p, r = run_work(measured, stand_in, ["--work-metric", "vllm:no_such_total"], steps=4)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("vllm:no_such_total is not on the page") == 1
    assert r["work"]["done"] == 0


def test_a_gauge_is_refused(measured, stand_in):
    p, r = run_work(measured, stand_in, ["--work-metric", "vllm:num_requests_running"], steps=4)
    assert p.returncode == 0, p.stderr
    assert "is a gauge, not a counter" in p.stderr


def test_labels_narrow_the_series(measured, stand_in):
    p, r = run_work(measured, stand_in,
                    ["--work-metric", 'vllm:generation_tokens_total{model_name="tiny"}'])
    assert r["work"]["done"] == pytest.approx(40.0 / JPT, rel=0.01), p.stderr
    p, r = run_work(measured, stand_in,
                    ["--work-metric", 'vllm:generation_tokens_total{model_name="other"}'],
                    steps=4)
    assert r["work"]["done"] == 0 and "is not on the page" in p.stderr


@pytest.mark.parametrize("args,said", [
    (["--work-url", "ftp://x/metrics", "--work-from", "vllm"], "not an http:// or https:// URL"),
    (["--work-url", "http://x/metrics"], "needs the counter to read"),
    (["--work-from", "vllm"], "need --work-url"),
    (["--work-url", "http://x/", "--work-from", "nim"], "is not vllm, tgi, llama.cpp or sglang"),
    (["--work-url", "http://x/", "--work-from", "vllm", "--work-metric", "a"], "drop"),
    (["--work-url", "http://x/", "--work-metric", "a", "--work-unit", "b", "--work-unit", "c"],
     "give one per metric"),
    (["--work-url", "http://x/", "--work-metric", "a", "--work-unit", "to ken"], "is not a unit"),
    (["--work-url", "http://x/", "--work-metric", "9a"], "does not start with a metric name"),
    (["--work-url", "http://x/", "--work-metric", 'a{b=c}'], "is not NAME or NAME{label"),
])
def test_bad_work_options_are_refused_before_the_command(measured, tmp_path, args, said):
    marker = tmp_path / "ran"
    p, _ = measured.run(args + ["--", "touch", str(marker)])
    assert p.returncode == 125 and said in p.stderr, p.stderr
    assert not marker.exists()


# --- wattprint serve ---------------------------------------------------------

def metrics(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    body = c.getresponse().read().decode()
    c.close()
    return body


def value(text, series):
    m = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def settle(runner, stand_in, scrapes_seen):
    """Drives 30 J through the stand-in, then waits until wattprint (as
    scrapes_seen reads it) has finished a scrape that began after the last
    step's reading: the state in which the windows are exact."""
    driver = subprocess.run(drive(runner, stand_in, joules=30, steps=30, settle=2), timeout=60)
    assert driver.returncode == 0
    n = tokenserver.scrapes(stand_in.url)
    wait_for(lambda: (scrapes_seen() or 0) >= n, "wattprint to finish scrape %d" % n, timeout=60)


def start_serve(runner, stand_in, *extra):
    port = free_port()
    proc = subprocess.Popen([runner.binary, "serve", "--listen", "127.0.0.1:%d" % port,
                             "--interval", "0.2", "--work-url", stand_in.url,
                             "--work-from", "vllm"] + list(extra),
                            env=runner.env(), stderr=subprocess.PIPE, text=True)
    wait_for(lambda: "wattprint_work_total" in metrics(port), "serve to read the work", timeout=60)
    return proc, port


def test_serve_energy_and_emissions_per_token(measured, stand_in):
    proc, port = start_serve(measured, stand_in, "--intensity", "400", "--pue", "1.5")
    try:
        settle(measured, stand_in, lambda: value(metrics(port), "wattprint_work_scrapes_total"))
        text = metrics(port)
        assert value(text, 'wattprint_work_total{unit="tokens"}') == pytest.approx(30 / JPT,
                                                                                   rel=0.01)
        assert value(text, 'wattprint_work_total{unit="prompt_tokens"}') == pytest.approx(
            3 * 30 / JPT, rel=0.01)
        for window in ("1m", "15m"):
            jpt = value(text, 'wattprint_energy_per_unit_joules{unit="tokens",window="%s"}'
                        % window)
            assert jpt == pytest.approx(JPT, rel=0.10), text
            g = value(text, 'wattprint_emissions_per_unit_grams{unit="tokens",window="%s"}'
                      % window)
            assert g == pytest.approx(jpt * 1.5 * 400 / 3.6e6, rel=1e-6)
        assert "# TYPE wattprint_work_total counter" in text
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_serve_records_each_period_in_the_ledger(measured, stand_in):
    proc, port = start_serve(measured, stand_in, "--ledger", measured.ledger, "--ledger-every",
                             "1s", "--project", "serving")
    try:
        settle(measured, stand_in, lambda: value(metrics(port), "wattprint_work_scrapes_total"))
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    runs = measured.wp_json("ls", "--project", "serving")
    assert len(runs) >= 2
    assert all(r["status"] == "completed" for r in runs)
    assert runs[0]["command"][:2] == ["wattprint", "serve"]
    total = measured.wp_json("summary", "--by", "project", "--project", "serving")[-1]
    assert total["energy_j"] == pytest.approx(30.0, rel=1e-6)
    tokens = sum((r.get("work") or {}).get("done", 0) for r in runs)
    assert tokens == pytest.approx(30 / JPT, rel=0.01)


@pytest.mark.skipif(not shutil.which("prometheus"), reason="needs Debian's prometheus")
def test_prometheus_evaluates_the_dashboards_queries(measured, stand_in, tmp_path):
    """A real Prometheus scrapes serve; every query of contrib's per-token
    dashboard evaluates, and joules per token come out as the stand-in's."""
    proc, port = start_serve(measured, stand_in, "--intensity", "300")
    prom = promtest.Prometheus(tmp_path, [port])
    query = prom.query

    tokens = 'wattprint_work_total{unit="tokens"}'
    try:
        wait_for(lambda: query(tokens) is not None, "Prometheus to scrape serve", timeout=60)
        before = query(tokens)
        settle(measured, stand_in, lambda: query("wattprint_work_scrapes_total"))
        assert query(tokens) - before == pytest.approx(30 / JPT, rel=0.01)
        with open(os.path.join(HERE, "..", "..", "contrib", "grafana-energy-per-token.json")) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
        for e in exprs:
            query(e)  # each is valid PromQL over these series
        per_token = [e for e in exprs if "rate(wattprint_energy_joules_total" in e][0]
        wait_for(lambda: (query(per_token) or 0) > 0, "a rate over two scrapes", timeout=60)
        assert query(per_token) == pytest.approx(JPT, rel=0.10)
        assert query('wattprint_energy_per_unit_joules{unit="tokens",window="15m"}') == \
            pytest.approx(JPT, rel=0.10)
    finally:
        prom.stop()
        proc.terminate()
        proc.communicate(timeout=20)


def test_serve_refuses_a_ledger_it_cannot_write_and_leaves_it(measured, stand_in, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("not a ledger\n")
    p = subprocess.run([measured.binary, "serve", "--listen", "none", "--ledger", str(other)],
                       env=measured.env(), capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "--ledger:" in p.stderr, p.stderr
    assert other.read_text() == "not a ledger\n"
    for args, said in [(["--ledger-every", "1h"], "are for --ledger"),
                       (["--ledger", str(tmp_path / "l.db"), "--ledger-every", "0.5s"],
                        "is not a period"),
                       (["--work-from", "vllm"], "need --work-url")]:
        p = subprocess.run([measured.binary, "serve"] + args, env=measured.env(),
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and said in p.stderr, (args, p.stderr)


def test_the_current_period_is_a_running_row_until_serve_stops(measured, stand_in):
    # a day's period (aligned to UTC midnight): one row, whenever the test runs
    proc, port = start_serve(measured, stand_in, "--ledger", measured.ledger, "--ledger-every",
                             "1d")
    try:
        wait_for(lambda: [r["status"] for r in measured.wp_json("ls")] == ["running"],
                 "the period's running row")
        settle(measured, stand_in, lambda: value(metrics(port), "wattprint_work_scrapes_total"))
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    (run,) = measured.wp_json("ls")
    assert run["status"] == "completed"
    assert run["energy"]["total_j"] == pytest.approx(30.0, rel=1e-6)
    assert run["work"]["done"] == pytest.approx(30 / JPT, rel=0.01)
