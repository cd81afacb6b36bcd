"""Reports from ledgers the tests build: HTML rendered in headless Chromium,
SVG that parses, a model card whose grams are the run's, Markdown with every
assumption."""
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import fakehw

CHROMIUM = shutil.which("chromium")


@pytest.fixture
def ledger(runner):
    fakehw.make_zone(runner.sysfs, "intel-rapl:0", "package-0")
    fakehw.make_zone(runner.sysfs, "intel-rapl:0:0", "dram")
    nvml = os.path.join(str(runner.tmp), "nvml")
    fakehw.make_gpus(nvml, [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-%d" % i,
                             "limit_mw": 700000, "power_mw": 0, "energy_mj": 0}
                            for i in range(2)])
    runner.gpu_env = runner.env(WATTPRINT_NVML_LIBRARY=os.environ["FAKE_NVML"],
                                WATTPRINT_FAKE_NVML_DIR=nvml)
    script = ("import os, sys, time\nsys.path.insert(0, %r)\nimport fakehw\n"
              "for i in range(1, 9):\n"
              "    fakehw.advance(%r, [('intel-rapl:0', 4.0), ('intel-rapl:0:0', 1.0)], 1, 0)\n"
              "    fakehw.gpu_main([%r, '--add', '0:energy_mj=%%d' %% (6000 + 2000 * (i %% 3)),"
              " '--add', '1:energy_mj=5000', '--steps', '1', '--period', '0.06'])\n"
              "    open(os.environ['WATTPRINT_PROGRESS'], 'a').write('done=%%d total=16 "
              "unit=samples\\n' %% i)\n" % (os.path.dirname(fakehw.__file__), runner.sysfs, nvml))
    for exp in ("sweep", "sweep", "other"):
        p, r = runner.run(["--interval", "0.05", "--experiment", exp, "--project", "paper",
                           "--region", "DE", "--pue", "1.2", "--", sys.executable, "-c", script],
                          env=runner.gpu_env)
        assert p.returncode == 0, p.stderr
    runner.last = r
    return runner


def report(r, *args):
    return subprocess.run([r.binary, "report"] + list(args), env=r.env(), capture_output=True,
                          text=True, timeout=60)


def svgs(html):
    return re.findall(r"<svg.*?</svg>", html, re.S)


def test_run_html_is_self_contained_and_its_svg_parses(ledger, tmp_path):
    out = tmp_path / "run.html"
    p = report(ledger, "last", "--html", str(out))
    assert p.returncode == 0, p.stderr
    html = out.read_text()
    assert "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    charts = svgs(html)
    assert len(charts) >= 3  # power over time, breakdown, energy mix
    for svg in charts:
        ET.fromstring(svg)
    assert "Power by component" in html and "gpu0 NVIDIA H100" in html
    assert "nuclear" in html or "coal" in html  # Germany's mix
    for a in ledger.last["assumptions"]:
        assert a.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&quot;") in html


@pytest.mark.skipif(not CHROMIUM, reason="needs Debian's chromium")
def test_html_renders_in_headless_chromium_without_console_errors(ledger, tmp_path):
    out = tmp_path / "run.html"
    assert report(ledger, "last", "--html", str(out)).returncode == 0
    shot = tmp_path / "shot.png"
    p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--user-data-dir=%s" % (tmp_path / "profile"), "--enable-logging=stderr",
                        "--v=0", "--window-size=1100,1800", "--screenshot=%s" % shot,
                        "file://%s" % out], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20000, p.stderr[-2000:]
    console = [l for l in p.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
    assert console == []


def test_model_card_grams_equal_the_runs_emissions(ledger, tmp_path):
    out = tmp_path / "card.md"
    p = report(ledger, "last", "--model-card", str(out), "--training-type", "fine-tuning")
    assert p.returncode == 0, p.stderr
    card = out.read_text()
    m = re.search(r"^  emissions: ([0-9.e+-]+)$", card, re.M)
    assert float(m.group(1)) == pytest.approx(ledger.last["carbon"]["emissions_g"], rel=1e-5)
    assert 'training_type: "fine-tuning"' in card
    assert 'geographical_location: "Germany"' in card
    assert 'hardware_used: "2 x NVIDIA H100 80GB HBM3"' in card
    assert "## Environmental impact" in card
    assert card.startswith("---\nco2_eq_emissions:\n")


def test_markdown_contains_every_assumption(ledger):
    p = report(ledger, "last")
    assert p.returncode == 0
    for a in ledger.last["assumptions"]:
        assert a in p.stdout
    assert "| energy per sample |" in p.stdout


def test_experiment_report_totals(ledger, tmp_path):
    out = tmp_path / "exp.html"
    p = report(ledger, "--experiment", "sweep", "--html", str(out), "--markdown", "-")
    assert p.returncode == 0, p.stderr
    html = out.read_text()
    assert "<b>2 runs</b>" in html and "device-days" in html
    for svg in svgs(html):
        ET.fromstring(svg)
    assert "2 runs" in p.stdout
    p = report(ledger, "--project", "paper", "--model-card", "-")
    m = re.search(r"^  emissions: ([0-9.e+-]+)$", p.stdout, re.M)
    runs = ledger.wp_json("ls", "--project", "paper")
    assert float(m.group(1)) == pytest.approx(sum(r["carbon"]["emissions_g"] for r in runs),
                                              rel=1e-5)


def test_sci(ledger):
    p = report(ledger, "last", "--sci")
    assert p.returncode == 0
    assert "per samples" not in p.stdout and "boundary:" in p.stdout
    score = float(re.search(r"= ([0-9.e+-]+) gCO2e per sample\n", p.stdout).group(1))
    assert score == pytest.approx(ledger.last["sci"]["score_g_per_unit"], rel=1e-5)


def test_report_refusals(ledger):
    assert report(ledger).returncode == 2
    assert report(ledger, "last", "--experiment", "x").returncode == 2
    p = report(ledger, "--experiment", "nothing-here")
    assert p.returncode == 1 and "no runs" in p.stderr
    p = report(ledger, "ffffffff")
    assert p.returncode == 1 and "no run" in p.stderr
    p = report(ledger, "last", "--html", "/nonexistent/dir/x.html")
    assert p.returncode == 1 and "cannot write" in p.stderr


def test_report_says_what_it_wrote(ledger, tmp_path):
    out = tmp_path / "r.html"
    p = report(ledger, "last", "--html", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert "wattprint report: wrote the HTML report of 1 run to %s (" % out in p.stderr
    assert "%.1f kB)" % (out.stat().st_size / 1000) in p.stderr


def _bar_labels(html):
    """(x, text) of the bar chart's axis labels, in order."""
    import re
    svg = html.split("Energy per run")[1].split("</svg>")[0]
    return [(float(x), t) for x, t in
            re.findall(r'<text x="([0-9.]+)" y="\d+" text-anchor="middle">([^<]*)</text>', svg)
            if t and not t.startswith("runs,")]  # the axis' title is no bar's label


def test_project_reports_stay_legible_and_keep_their_labels(measured):
    """1, 8 and 50 runs: no two bar labels touch (12 px digits are 6.7 px
    wide); runs that differ in PUE are said to; each run keeps its method;
    estimated energy keeps a range."""
    for i in range(50):
        args = ["--project", "p%d" % (1 if i == 0 else 8 if i < 9 else 50)]
        if i % 3 == 0:
            args += ["--pue", "1.56"]
        p, _ = measured.run(args + ["--cpu-tdp", "100", "--", "true"])
        assert p.returncode == 0, p.stderr
    for project, n in (("p1", 1), ("p8", 8), ("p50", 41)):
        html = measured.wp("report", "--project", project, "--html", "-").stdout
        labels = _bar_labels(html)
        assert 0 < len(labels) <= n
        for (x0, t0), (x1, t1) in zip(labels, labels[1:]):
            assert x1 - x0 >= (len(t0) + len(t1)) / 2 * 6.7 + 4, (project, t0, t1)
        assert ("%d run%s</b>" % (n, "" if n == 1 else "s")) in html
        assert "<th>method</th>" in html
        if n > 1:
            assert "These runs differ in PUE (1.56, 1)" in html or \
                "These runs differ in PUE (1, 1.56)" in html
    md = measured.wp("report", "--project", "p8", "--markdown", "-").stdout
    assert "| method |" in md and "These runs differ in PUE" in md
    card = measured.wp("report", "--project", "p8", "--model-card", "-").stdout
    assert "The runs differ in PUE" in card
