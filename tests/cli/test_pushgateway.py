"""run --push-gateway against Debian's prometheus-pushgateway, started here
on 127.0.0.1: the run's totals land in its group (job, host, project,
experiment, job id), a later run replaces them, and an unreachable gateway
changes nothing but one line."""
import subprocess
import urllib.request

import pytest

from waits import free_port, wait_for


@pytest.fixture
def gateway(tmp_path):
    port = free_port()
    # Debian's default persists to /var/lib/prometheus: in memory only, the test's own
    p = subprocess.Popen(["prometheus-pushgateway", "--web.listen-address=127.0.0.1:%d" % port,
                          "--persistence.file="],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    wait_for(lambda: urllib.request.urlopen(url + "/-/ready", timeout=2).status == 200,
             what="the push gateway")
    yield url
    p.terminate()
    p.wait(timeout=20)


def series(url, name):
    """{labels text: value} of a metric on the gateway's page."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        page = r.read().decode()
    out = {}
    for line in page.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name):].rsplit(" ", 1)
            out[labels] = float(value)
    return out


def test_a_run_pushes_its_totals_to_its_group(measured, gateway):
    args = ["--push-gateway", gateway, "--project", "llm/v2", "--experiment", "lr",
            "--job", "77"]
    p, r = measured.run(args + ["--"] + measured.advance_cmd("intel-rapl:0=30", steps=2))
    assert p.returncode == 0, p.stderr
    assert "pushed to " + gateway in p.stderr
    got = series(gateway, "wattprint_run_energy_total_joules")
    (labels, value), = got.items()
    for want in ('job="wattprint"', 'instance="%s"' % r["host"], 'project="llm/v2"',
                 'experiment="lr"', 'wattprint_job="77"'):
        assert want in labels, labels
    assert value == pytest.approx(r["energy"]["total_j"])
    assert series(gateway, "wattprint_run_emissions_grams")[labels] == \
        pytest.approx(r["carbon"]["emissions_g"])
    assert series(gateway, "wattprint_run_water_offsite_liters")[labels] == \
        pytest.approx(r["carbon"]["water_offsite_l"])
    p, r2 = measured.run(args + ["--", "sh", "-c", "exit 4"])
    assert p.returncode == 4
    assert series(gateway, "wattprint_run_exit_code")[labels] == 4  # the latest run's


def test_a_gateway_that_refuses_is_named_with_its_answer(measured, gateway):
    """A URL under which the gateway has no API: its 404 is said, the run is kept."""
    p, r = measured.run(["--push-gateway", gateway + "/not-here", "--", "sh", "-c", "exit 2"])
    assert p.returncode == 2 and r["exit_code"] == 2
    assert p.stderr.count("the gateway answered 404") == 1, p.stderr
    assert [x["run_id"] for x in measured.wp_json("ls")] == [r["run_id"]]


def test_an_unreachable_gateway_changes_nothing_but_a_line(measured):
    url = "http://127.0.0.1:%d" % free_port()
    p, r = measured.run(["--push-gateway", url, "--", "sh", "-c", "echo out; exit 3"])
    assert p.returncode == 3 and p.stdout == "out\n" and r["exit_code"] == 3
    assert p.stderr.count("cannot push the run to the gateway") == 1, p.stderr
    assert [x["run_id"] for x in measured.wp_json("ls")] == [r["run_id"]]


@pytest.mark.parametrize("url", ["ftp://x", "http://", "http://h:1/?q=1", "localhost:9091"])
def test_a_bad_gateway_url_is_refused_before_the_command(measured, tmp_path, url):
    marker = tmp_path / "ran"
    p, _ = measured.run(["--push-gateway", url, "--", "touch", str(marker)], json_out=False)
    assert p.returncode == 125 and "--push-gateway" in p.stderr
    assert not marker.exists()
