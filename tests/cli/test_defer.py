"""run --defer-within: the forecast's greenest start, from local stand-ins for
the Electricity Maps forecast and the GB Carbon Intensity API."""
import http.server
import json
import os
import signal
import subprocess
import threading
import time
from datetime import datetime, timezone

import pytest


def _iso(t, ms=True):
    d = datetime.fromtimestamp(t, tz=timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.000Z") if ms else d.strftime("%Y-%m-%dT%H:%MZ")


class Api(http.server.BaseHTTPRequestHandler):
    points = []  # (epoch, g)
    seen = []

    def do_GET(self):
        Api.seen.append((self.path, self.headers.get("auth-token")))
        if "/intensity/" in self.path:
            body = {"data": [{"from": _iso(t, False), "to": _iso(t + 1800, False),
                              "intensity": {"forecast": g, "actual": None, "index": "low"}}
                             for t, g in Api.points]}
        else:
            body = {"zone": "FR", "forecast": [{"carbonIntensity": g, "datetime": _iso(t)}
                                               for t, g in Api.points]}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture
def api():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    Api.seen = []
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _hourly(now, values):
    base = int(now // 3600) * 3600
    return [(base + 3600 * i, g) for i, g in enumerate(values)]


def test_dry_run_chooses_the_greenest_window(runner, api, tmp_path):
    now = time.time()
    Api.points = _hourly(now, [300, 280, 90, 80, 250, 260, 270, 300, 310, 320])
    env = runner.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="tok", WATTPRINT_ELECTRICITYMAPS_URL=api + "/v3")
    out = tmp_path / "defer.json"
    p = subprocess.run([runner.binary, "run", "--region", "FR", "--defer-within", "8h",
                        "--expected-duration", "2h", "--dry-run", "--json", str(out), "--",
                        "touch", str(tmp_path / "ran")], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "ran").exists()  # a dry run runs nothing
    d = json.loads(out.read_text())["defer"]
    assert d["start"] == _iso(Api.points[2][0]).replace(".000", "")  # the 90 and 80 g hours
    assert d["intensity_g_per_kwh"] == pytest.approx(85)
    assert Api.seen[0] == ("/v3/carbon-intensity/forecast?zone=FR", "tok")
    assert "would start at" in p.stderr and "less CO2e" in p.stderr
    assert "nothing runs" in p.stderr and "Ctrl-C" not in p.stderr


@pytest.mark.parametrize("args,deferred,said", [
    ([], False, "under the 10 % asked for (--min-saving): starting now"),
    (["--min-saving", "1"], True, "would start at"),
])
def test_a_small_saving_is_not_waited_for(runner, api, tmp_path, args, deferred, said):
    """A cleaner hour that saves 2.5-5 % (as now falls in the hour) is not
    worth hours of waiting by default (--min-saving 10); asked for 1 %, it is."""
    now = time.time()
    Api.points = _hourly(now, [300, 300, 285, 285, 300, 300, 300, 300, 300, 300])
    env = runner.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="tok", WATTPRINT_ELECTRICITYMAPS_URL=api + "/v3")
    out = tmp_path / "defer.json"
    p = subprocess.run([runner.binary, "run", "--region", "FR", "--defer-within", "8h",
                        "--expected-duration", "2h", "--dry-run", "--json", str(out)] + args +
                       ["--", "true"], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert said in p.stderr, p.stderr
    start = json.loads(out.read_text())["defer"]["start"]
    later = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert (later.timestamp() > now + 60) == deferred


def test_min_saving_values_are_checked(runner):
    for opt, val in (("--min-saving", "101"), ("--min-saving", "-1"), ("--min-saving-g", "x")):
        p = subprocess.run([runner.binary, "run", opt, val, "--", "true"], env=runner.env(),
                           capture_output=True, text=True)
        assert p.returncode == 125 and opt in p.stderr, (opt, p.stderr)


def test_great_britain_needs_no_token(runner, api, tmp_path):
    now = time.time()
    Api.points = [(int(now // 1800) * 1800 + 1800 * i, g) for i, g in enumerate([200, 50, 210])]
    env = runner.env(WATTPRINT_CARBONINTENSITY_UK_URL=api)
    # --min-saving 0: just before the half hour, starting now is almost as clean
    p = subprocess.run([runner.binary, "run", "--region", "GB", "--defer-within", "2h",
                        "--expected-duration", "30m", "--dry-run", "--min-saving", "0", "--",
                        "true"], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["defer"]["intensity_g_per_kwh"] == pytest.approx(50)
    assert Api.seen[0][0].startswith("/intensity/") and Api.seen[0][0].endswith("/fw48h")


def test_a_stale_forecast_is_refused_and_the_command_runs_now(runner, api, tmp_path):
    year_ago = time.time() - 365 * 86400
    Api.points = _hourly(year_ago, [300, 280, 90, 80, 250])  # greener "in two hours", a year ago
    env = runner.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="tok", WATTPRINT_ELECTRICITYMAPS_URL=api + "/v3")
    p, r = runner.run(["--region", "FR", "--defer-within", "8h", "--", "true"], env=env)
    assert p.returncode == 0 and r["status"] == "completed", p.stderr
    assert "before the present: stale, not used" in p.stderr and "running now" in p.stderr
    assert "defer" not in r or not r["defer"]


def test_no_forecast_runs_now_and_says_so(runner, tmp_path):
    env = runner.env()
    env.pop("WATTPRINT_ELECTRICITYMAPS_TOKEN", None)
    p, r = runner.run(["--region", "FR", "--defer-within", "1h", "--", "true"], env=env)
    assert p.returncode == 0 and r["status"] == "completed"
    assert "no forecast" in p.stderr and "running now" in p.stderr


def test_waits_for_the_start_and_a_signal_cancels(runner, api, tmp_path):
    now = time.time()
    Api.points = [(now - 60, 400), (now + 600, 20)]  # greener in ten minutes
    env = runner.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="tok", WATTPRINT_ELECTRICITYMAPS_URL=api + "/v3")
    p = subprocess.Popen([runner.binary, "run", "--region", "FR", "--defer-within", "1h",
                          "--expected-duration", "10m", "--", "touch", str(tmp_path / "ran")],
                         env=env, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()  # the state: it has chosen and is waiting
    assert "starting at" in line
    p.send_signal(signal.SIGINT)
    rest = p.stderr.read()
    assert p.wait() == 128 + signal.SIGINT
    assert "cancelled" in rest and not (tmp_path / "ran").exists()


def test_defer_options_are_checked(runner):
    p = runner.wp("run", "--defer-within", "soon", "--", "true")
    assert p.returncode == 125 and "--defer-within" in p.stderr
    p = runner.wp("run", "--dry-run", "--", "true")
    assert p.returncode == 125 and "needs --defer-within" in p.stderr


def test_a_dip_beyond_the_window_is_not_chosen(runner, api):
    now = time.time()
    Api.points = _hourly(now, [300, 280, 270, 260, 250, 240, 230, 220, 210, 200, 10, 10])
    env = runner.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="tok", WATTPRINT_ELECTRICITYMAPS_URL=api + "/v3")
    # --min-saving 0: late in the hour, 260 saves under 10 % against now's blend
    p = subprocess.run([runner.binary, "run", "--region", "FR", "--defer-within", "3h",
                        "--expected-duration", "1h", "--dry-run", "--min-saving", "0", "--",
                        "true"], env=env, capture_output=True, text=True)
    d = json.loads(p.stdout)["defer"]
    assert d["intensity_g_per_kwh"] == pytest.approx(260)  # the best within 3 h, not the 10s


def test_an_actual_short_deferral_waits_then_runs(runner, api, tmp_path):
    now = time.time()
    Api.points = [(now - 60, 400), (now + 2, 20), (now + 302, 400)]  # five-minute slots
    env = runner.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="tok", WATTPRINT_ELECTRICITYMAPS_URL=api + "/v3")
    stamp = tmp_path / "started"
    p, r = runner.run(["--region", "FR", "--defer-within", "5m", "--expected-duration", "1m",
                       "--", "sh", "-c", "date +%s.%N > " + str(stamp)], env=env)
    assert p.returncode == 0, p.stderr
    started = float(stamp.read_text())
    assert started >= int(now + 2)  # not before the chosen start
    assert r["duration_s"] < 1.5  # the wait is not the command's


def test_an_unreachable_forecast_runs_now(runner, tmp_path):
    import socket
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = runner.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="tok",
                     WATTPRINT_ELECTRICITYMAPS_URL="http://127.0.0.1:%d/v3" % port)
    p, r = runner.run(["--region", "FR", "--defer-within", "8h", "--", "true"], env=env)
    assert p.returncode == 0 and r["status"] == "completed"
    assert "no forecast" in p.stderr and "running now" in p.stderr
