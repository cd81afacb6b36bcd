"""The whole server at the wall and the training draw: hand-computed cases
against wattprint estimate's JSON, the constants against the cited rows of
data/wall_power.csv, and the scopes that add nothing (a whole-system power,
a TPU's system figure, a CPU)."""
import csv
import math
import os

import pytest

from test_estimator import est

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def wall_rows():
    with open(os.path.join(ROOT, "data", "wall_power.csv")) as f:
        return list(csv.DictReader(f))


def band(v, v_lo, v_hi, mid, lo, hi):
    """v times the factor (mid, lo, hi), the spreads added in log space."""
    down = math.hypot(math.log(v / v_lo) if v_lo else 0, math.log(mid / lo))
    up = math.hypot(math.log(v_hi / v) if v_hi else 0, math.log(hi / mid))
    return v * mid, v * mid * math.exp(-down), v * mid * math.exp(up)


def test_constants_are_the_cited_rows(wattprint, tmp_path):
    """Serving: the host per joule drawn, the two measurements' mean, from the
    lower to the rated bound. Training at a share of a TDP: the host per rated
    watt (Latif's training node) over the draw, from a host as light per
    joule as Elsworth's to the rated bound."""
    rows = wall_rows()
    fit = [float(r["value"]) for r in rows if r["quantity"] == "host_ratio" and r["role"] == "fit"]
    latif = next(float(r["value"]) for r in rows if r["id"].startswith("Latif"))
    elsworth = next(float(r["value"]) for r in rows if r["id"].startswith("Elsworth"))
    bound = [float(r["value"]) for r in rows if r["role"] == "bound"]
    dodge = next(r for r in rows if r["quantity"] == "gpu_w")
    p, r = est(wattprint, tmp_path, "--hardware", "A100-SXM4-40GB", "--hours", "1")
    assert p.returncode == 0, p.stderr
    draw = r["power_draw_fraction"][0]
    assert draw == pytest.approx(float(dodge["value"]) / 400, abs=0.005)
    assert r["server_host_ratio"] == pytest.approx([latif / draw, elsworth, max(bound) / draw])
    p, r = est(wattprint, tmp_path, "--inference", "--params", "8e9", "--hardware",
               "A100-SXM4-40GB", "--batch", "8", "--tokens-per-query", "200", "--queries-per-day", "100",
               "--days", "1")
    assert p.returncode == 0, p.stderr
    mid, lo, hi = r["server_host_ratio"]
    assert mid == pytest.approx(sum(fit) / len(fit), abs=0.005)
    assert lo == pytest.approx(min(fit)) and hi == pytest.approx(max(bound))


def test_training_on_a_tdp_draws_its_average_and_the_server_adds_the_host(wattprint, tmp_path):
    """8 x H100 (700 W) for 10 hours: hours are exact, so the band is the
    draw's and the host ratio's."""
    p, r = est(wattprint, tmp_path, "--hardware", "H100", "--hours", "10", "--count", "8")
    assert p.returncode == 0, p.stderr
    assert r["power_w_per_device"] == pytest.approx(0.70 * 700)
    it = 8 * 10 * 3600 * 0.70 * 700
    assert r["it_energy_j"] == pytest.approx(it)
    assert r["it_energy_range_j"] == pytest.approx([it / 0.70 * 0.55, it / 0.70 * 0.85])
    # the host: 0.51 of the rated 700 W (0.30 to 0.82), over the 0.70 drawn
    mid, lo, hi = band(it, it / 0.70 * 0.55, it / 0.70 * 0.85, 1 + 0.51 / 0.70, 1.43,
                       1 + 0.82 / 0.70)
    assert r["server_it_energy_j"] == pytest.approx(mid)
    assert r["server_it_energy_range_j"] == pytest.approx([lo, hi])
    assert r["server_power_w_per_device"] == pytest.approx(0.70 * 700 + 0.51 * 700)
    assert "at the wall" in p.stdout and "the accelerators" in p.stdout
    assert "0.7 of the 700 W TDP" in p.stdout


def test_a_given_power_is_not_scaled_but_the_server_still_adds_the_host(wattprint, tmp_path):
    p, r = est(wattprint, tmp_path, "--hardware", "H100", "--hours", "2", "--power", "600",
               "--pue", "1.2", "--intensity", "100")
    assert p.returncode == 0, p.stderr
    it = 2 * 3600 * 600
    assert r["it_energy_j"] == pytest.approx(it) and "power_draw_fraction" not in r
    assert r["server_it_energy_j"] == pytest.approx(it * 1.47)
    assert r["server_facility_energy_j"] == pytest.approx(it * 1.47 * 1.2)
    assert r["server_emissions_g"] == pytest.approx(it * 1.47 * 1.2 / 3.6e6 * 100)


@pytest.mark.parametrize("args,scope", [
    (["--hardware", "TPUv4", "--hours", "3"], "already the system's"),
    (["--hours", "3", "--power-total", "2000"], "whole system's power as given"),
])
def test_a_system_figure_is_already_the_whole_server(wattprint, tmp_path, args, scope):
    p, r = est(wattprint, tmp_path, *args)
    assert p.returncode == 0, p.stderr
    assert r["server_it_energy_j"] == pytest.approx(r["it_energy_j"])
    assert scope in r["server_scope"]


def test_a_cpu_has_no_server_figure_and_draws_its_tdp(wattprint, tmp_path):
    p, r = est(wattprint, tmp_path, "--hardware", "Intel Xeon Gold 6248", "--hours", "2")
    assert p.returncode == 0, p.stderr
    assert r["it_energy_j"] == pytest.approx(150 * 2 * 3600)
    assert "server_it_energy_j" not in r
    assert "not modelled" in p.stdout


def test_serving_per_query_at_the_wall(wattprint, tmp_path):
    p, r = est(wattprint, tmp_path, "--inference", "--params", "8e9", "--hardware", "H100",
               "--batch", "32", "--tokens-per-query", "200", "--queries-per-day", "1000",
               "--days", "10")
    assert p.returncode == 0, p.stderr
    q, (qlo, qhi) = r["energy_per_query_j"], r["energy_per_query_range_j"]
    mid, lo, hi = band(q, qlo, qhi, 1.47, 1.43, 1.82)
    assert r["server_energy_per_query_j"] == pytest.approx(mid)
    assert r["server_energy_per_query_range_j"] == pytest.approx([lo, hi])
    assert r["server_it_energy_j"] == pytest.approx(r["inference_it_energy_j"] * 1.47)
    assert r["inference_server_it_energy_j"] == pytest.approx(r["server_it_energy_j"])
    assert "whole server" in p.stdout


def test_goodput_falls_with_the_cluster(wattprint, tmp_path):
    args = ["--params", "70e9", "--tokens", "2e12", "--hardware", "H100"]
    p1, one = est(wattprint, tmp_path, *args)
    p2, big = est(wattprint, tmp_path, *args, "--count", "16384")
    assert p1.returncode == 0 and p2.returncode == 0, p1.stderr + p2.stderr
    assert big["goodput"] == pytest.approx(1 / (1 + 6.78e-6 * 16384))
    assert big["goodput"] == pytest.approx(0.90, abs=0.005)
    assert big["device_hours"] / one["device_hours"] == pytest.approx(one["goodput"] /
                                                                      big["goodput"])
