"""Embodied emissions: the hardware's manufacture per device-hour (BLOOM's
figures, src/account/embodied.c), in runs with GPUs, estimates and the SCI
score; --lifetime-years and --embodied-g; none modelled around a CPU."""
import json
import subprocess

import pytest

from test_gpu import env, gpus  # noqa: F401 (the fixture)

# (150 kg + 2,500 kg / 8) over 6 years at 85 % use, in grams per device-hour
PER_DH = (150 + 2500 / 8) * 1000 / (6 * 8760 * 0.85)


def vol(litres):
    """A volume as the reports write it (wp_fmt_volume)."""
    for below, times, unit in ((1e-6, 1e9, "nL"), (1e-3, 1e6, "\u00b5L"), (1.0, 1e3, "mL")):
        if 0 < abs(litres) < below:
            return "%.3g %s" % (litres * times, unit)
    return "%.3g L" % litres if abs(litres) < 1000 else "%.3g m\u00b3" % (litres / 1e3)


def estimate(wattprint, tmp_path, *args):
    out = tmp_path / "e.json"
    if out.exists():
        out.unlink()
    p = subprocess.run([wattprint, "estimate", "--json", str(out)] + list(args),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p, json.load(open(out))


def test_bloom_carries_its_published_embodied_emissions(wattprint, tmp_path):
    """BLOOM's 1,082,990 A100-hours: Luccioni et al. 2023 give 11.2 t."""
    p, e = estimate(wattprint, tmp_path, "--device-hours", "1082990", "--hardware", "A100-80GB")
    assert e["embodied_emissions_g"] / 1e6 == pytest.approx(11.2, rel=0.01)
    assert e["embodied_lifetime_years"] == 6 and "Luccioni" in e["embodied_source"]
    assert "embodied      11.2 t CO2e" in p.stdout


def test_lifetime_and_a_given_figure(wattprint, tmp_path):
    _, six = estimate(wattprint, tmp_path, "--device-hours", "100", "--hardware", "H100")
    _, three = estimate(wattprint, tmp_path, "--device-hours", "100", "--hardware", "H100",
                        "--lifetime-years", "3")
    assert six["embodied_emissions_g"] == pytest.approx(PER_DH * 100)
    assert three["embodied_emissions_g"] == pytest.approx(2 * six["embodied_emissions_g"])
    _, given = estimate(wattprint, tmp_path, "--device-hours", "100", "--hardware", "H100",
                        "--embodied-g", "5000")
    assert given["embodied_emissions_g"] == 5000 and "given" in given["embodied_source"]
    _, cpu = estimate(wattprint, tmp_path, "--hours", "2", "--hardware", "Intel Xeon Gold 6248")
    assert cpu["embodied_emissions_g"] is None


def test_serving_over_its_device_hours(wattprint, tmp_path):
    _, e = estimate(wattprint, tmp_path, "--inference", "--params", "8e9", "--hardware", "H100",
                    "--batch", "16", "--tokens-per-query", "200", "--queries-per-day", "10000",
                    "--days", "30")
    assert e["embodied_emissions_g"] == pytest.approx(PER_DH * e["inference_device_hours"])


def test_a_gpu_run_carries_its_share_and_the_sci_counts_it(gpus):  # noqa: F811
    p, r = gpus.run(["--", "true"], env=env(gpus))
    assert p.returncode == 0, p.stderr
    n = sum(1 for c in r["channels"] if c["component"] == "gpu" and c["counted"])
    assert n == 2
    want = PER_DH * n * r["duration_s"] / 3600
    assert r["embodied_emissions_g"] == pytest.approx(want, rel=1e-6)
    assert r["embodied_g"] is None  # not given
    assert r["sci"]["embodied_g"] == pytest.approx(want, rel=1e-6)
    assert r["sci"]["embodied_from"].startswith("estimated")
    assert "embodied" in p.stderr and "the GPUs' share" in p.stderr
    shown = gpus.wp_json("show", r["run_id"])
    assert shown["embodied_emissions_g"] == r["embodied_emissions_g"]
    # derived on reading, not stored in each run's document
    assert "Luccioni" in r["embodied_source"] and shown["embodied_source"] == r["embodied_source"]
    p, r = gpus.run(["--embodied-g", "7", "--lifetime-years", "3", "--", "true"], env=env(gpus))
    assert r["embodied_g"] == 7 and r["embodied_emissions_g"] == 7
    assert r["sci"]["embodied_g"] == 7 and r["sci"]["embodied_from"].startswith("given")


def test_a_cpu_run_has_none_modelled(measured):
    p, r = measured.run(["--", "true"])
    assert p.returncode == 0, p.stderr
    assert r["embodied_emissions_g"] is None and r["sci"]["embodied_g"] == 0
    assert r["sci"]["embodied_from"].startswith("none") and "embodied" not in p.stderr


def test_reports_put_the_whole_footprint_side_by_side(gpus):  # noqa: F811
    """Operational, embodied and water in the run and project reports, the
    model card and the SCI, each with its source."""
    e = env(gpus)
    _, a = gpus.run(["--project", "pp", "--wue", "1.5", "--region", "SE", "--", "true"], env=e)
    _, b = gpus.run(["--project", "pp", "--intensity", "100", "--", "true"], env=e)
    md = gpus.wp("report", a["run_id"], "--markdown", "-", env=e).stdout
    assert "| embodied CO2e (manufacture) |" in md and "Luccioni et al. 2023" in md
    assert ("| water on site | %s: the IT energy at a WUE of 1.5 L/kWh (given) |"
            % vol(a["carbon"]["water_l"])) in md
    assert ("| water at the power plants (estimated) | %s: the facility's energy at 6.03 "
            "L/kWh (SWE: WRI 2020 method" % vol(a["carbon"]["water_offsite_l"])) in md
    group = gpus.wp("report", "--project", "pp", "--markdown", "-", env=e).stdout
    assert "embodied CO2e (manufacture; 2 of 2 runs, estimated)" in group
    assert "water on site (1 of 2 runs)" in group
    assert ("| water at the power plants (1 of 2 runs, estimated) | %s |"
            % vol(a["carbon"]["water_offsite_l"])) in group
    card = gpus.wp("report", "--project", "pp", "--model-card", "-", env=e).stdout
    assert "manufacturing the hardware is estimated at" in card and "not in the emissions" in card
    assert "Water consumed at the power plants that supplied the electricity: %s (1 of 2" % (
        vol(a["carbon"]["water_offsite_l"])) in card
    html = gpus.wp("report", "--project", "pp", "--html", "-", env=e).stdout
    assert "embodied CO2e (2 of 2 runs, estimated)" in html
    assert "water at the power plants (1 of 2 runs, estimated)" in html
    sci = gpus.wp("report", b["run_id"], "--sci", env=e).stdout
    assert "(embodied: estimated" in sci
