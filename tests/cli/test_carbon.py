"""Carbon accounting in wattprint run: regions, PUE, refusals, and the live
intensity API against a local server that answers as Electricity Maps does."""
import http.server
import json
import subprocess
import threading
import time

import pytest

import fakehw


def run36(r, *args, env=None):
    """Runs a command that adds exactly 36 J (0.01 Wh): 30 J CPU, 6 J DRAM."""
    return r.run(list(args) + ["--"] + r.advance_cmd("intel-rapl:0=30", "intel-rapl:0:0=6"),
                 env=env)


def test_country_alpha2_and_pue(measured):
    p, r = run36(measured, "--region", "FR", "--pue", "1.5")
    assert p.returncode == 0, p.stderr
    assert r["pue"] == 1.5
    assert r["facility_energy_j"] == pytest.approx(54, rel=1e-3)
    c = r["carbon"]
    assert c["region"] == "FRA" and c["region_name"] == "France"
    assert c["intensity_g_per_kwh"] == pytest.approx(56.04, abs=0.01)
    assert c["emissions_g"] == pytest.approx(54 / 3.6e6 * 56.04, rel=1e-3)
    assert c["assumed"] is False
    assert c["mix"]["nuclear"] > 0.5
    assert "nuclear" in p.stderr and "grid mix" in p.stderr
    assert any(a.startswith("PUE 1.5: --pue") for a in r["assumptions"])


def test_country_alpha3_lowercase(measured):
    p, r = run36(measured, "--region", "ind")
    assert p.returncode == 0, p.stderr
    assert r["carbon"]["region"] == "IND" and r["carbon"]["intensity_g_per_kwh"] > 600


def test_cloud_region_brings_its_providers_pue(measured):
    p, r = run36(measured, "--region", "gcp:europe-west1")
    assert p.returncode == 0, p.stderr
    assert r["pue"] == pytest.approx(1.1)
    assert r["carbon"]["intensity_g_per_kwh"] == 122
    assert r["carbon"]["emissions_g"] == pytest.approx(36 * 1.1 / 3.6e6 * 122, rel=1e-3)


def test_provider_preset_and_intensity_override(measured):
    p, r = run36(measured, "--provider", "onprem", "--intensity", "432.7")
    assert p.returncode == 0, p.stderr
    assert r["pue"] == pytest.approx(1.56)
    assert r["carbon"]["intensity_source"] == "--intensity"
    assert r["carbon"]["emissions_g"] == pytest.approx(36 * 1.56 / 3.6e6 * 432.7, rel=1e-3)


def test_default_is_world_average_and_says_so(measured):
    p, r = run36(measured)
    assert p.returncode == 0, p.stderr
    assert r["pue"] == 1.0
    assert r["carbon"]["assumed"] is True
    assert r["carbon"]["intensity_g_per_kwh"] == 475
    assert "set --region" in p.stderr
    assert any("assumed 1.0" in a for a in r["assumptions"])


def test_environment_default_region(measured):
    p, r = run36(measured, env=measured.env(WATTPRINT_REGION="SE"))
    assert p.returncode == 0, p.stderr
    assert r["carbon"]["region"] == "SWE"


def test_sci_and_equivalents(measured):
    p, r = run36(measured, "--intensity", "500", "--embodied-g", "2")
    sci = r["sci"]
    assert sci["functional_unit"] == "run" and sci["units"] == 1
    assert sci["score_g_per_unit"] == pytest.approx(36 / 3.6e6 * 500 + 2, rel=1e-6)
    assert "embodied" in sci["boundary"]
    eq = r["equivalents"]
    assert eq["car_km_eu"] == pytest.approx(r["carbon"]["emissions_g"] / 175, rel=1e-6)
    assert eq["reactor_1gw_s"] == pytest.approx(36 / 1e9, rel=1e-6)


@pytest.mark.parametrize("args,needle", [
    (["--region", "FRX"], "nearest: FRA"),
    (["--region", "gcp:europe-west99"], "gcp:europe-west"),
    (["--region", "atlantis"], "unknown region 'atlantis'"),
    (["--pue", "0.9"], "--pue"),
    (["--pue", "3.5"], "--pue"),
    (["--pue", "nan"], "--pue"),
    (["--intensity", "-1"], "--intensity"),
    (["--intensity", "inf"], "--intensity"),
    (["--intensity", "NaN"], "--intensity"),
    (["--provider", "acme"], "known: aws"),
    (["--embodied-g", "-3"], "--embodied-g"),
    (["--wue", "-0.1"], "--wue"),
    (["--wue", "21"], "--wue"),
    (["--wue", "nan"], "--wue"),
    (["--offsite-wue", "-1"], "--offsite-wue"),
    (["--offsite-wue", "101"], "--offsite-wue"),
    (["--offsite-wue", "inf"], "--offsite-wue"),
    (["--lifetime-years", "0"], "--lifetime-years"),
    (["--lifetime-years", "nan"], "--lifetime-years"),
])
def test_refusals_are_125_before_the_command(measured, tmp_path, args, needle):
    marker = tmp_path / "ran"
    p, _ = measured.run(args + ["--", "touch", str(marker)], json_out=False)
    assert p.returncode == 125, p.stderr
    assert needle in p.stderr
    assert not marker.exists()


def test_bad_environment_region_is_125(measured):
    p, _ = measured.run(["--", "true"], env=measured.env(WATTPRINT_REGION="XX"), json_out=False)
    assert p.returncode == 125
    assert "WATTPRINT_REGION" in p.stderr


def test_regions_lists_countries_and_clouds(wattprint):
    import subprocess
    p = subprocess.run([wattprint, "regions"], capture_output=True, text=True)
    assert p.returncode == 0
    assert "FRA" in p.stdout and "gcp:europe-west1" in p.stdout and "aws:us-east-1" in p.stdout


class Api(http.server.BaseHTTPRequestHandler):
    mode = "ok"
    seen = []

    def do_GET(self):
        Api.seen.append((self.path, self.headers.get("auth-token")))
        if Api.mode == "slow":
            time.sleep(3)
        hour = time.strftime("%Y-%m-%dT%H:00:00.000Z", time.gmtime())
        body = {"ok": json.dumps({"zone": "FR", "carbonIntensity": 42, "datetime": hour}),
                "stale": json.dumps({"zone": "FR", "carbonIntensity": 42,
                                     "datetime": "2025-11-23T10:00:00.000Z"}),
                "slow": "{}", "malformed": "{\"carbonIntensity\": ",
                "wrongtype": "{\"carbonIntensity\": \"many\"}"}[Api.mode].encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        except BrokenPipeError:
            pass

    def log_message(self, *a):
        pass


@pytest.fixture
def api():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    Api.seen = []
    yield "http://127.0.0.1:%d/v3" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def live_env(r, url):
    return r.env(WATTPRINT_ELECTRICITYMAPS_TOKEN="secret-token", WATTPRINT_ELECTRICITYMAPS_URL=url)


def test_live_intensity(measured, api):
    Api.mode = "ok"
    p, r = run36(measured, "--region", "FR", env=live_env(measured, api))
    assert p.returncode == 0, p.stderr
    assert Api.seen == [("/v3/carbon-intensity/latest?zone=FR", "secret-token")]
    assert r["carbon"]["intensity_g_per_kwh"] == 42
    assert "Electricity Maps live, zone FR" in r["carbon"]["intensity_source"]
    assert r["carbon"]["emissions_g"] == pytest.approx(36 / 3.6e6 * 42, rel=1e-3)


def test_live_cloud_region_uses_its_country(measured, api):
    Api.mode = "ok"
    p, r = run36(measured, "--region", "gcp:europe-west1", env=live_env(measured, api))
    assert Api.seen[0][0].endswith("zone=BE")
    assert r["carbon"]["intensity_g_per_kwh"] == 42


@pytest.mark.parametrize("mode", ["slow", "malformed", "wrongtype", "stale"])
def test_live_failure_falls_back_to_the_table(measured, api, mode):
    Api.mode = mode
    t0 = time.monotonic()
    p, r = run36(measured, "--region", "FR", env=live_env(measured, api))
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t0 < 10
    assert r["carbon"]["intensity_g_per_kwh"] == pytest.approx(56.04, abs=0.01)
    assert "Electricity Maps failed" in r["carbon"]["intensity_source"]
    assert p.stderr.count("live intensity from Electricity Maps failed") == 1
    if mode == "slow":
        assert "imeout" in p.stderr
    if mode == "stale":  # a year-old "latest" is not this run's grid
        assert "latest value is from 2025-11-23T10:00:00.000Z, over a day ago" in p.stderr


def test_live_unreachable_falls_back(measured):
    p, r = run36(measured, "--region", "FR", env=live_env(measured, "http://127.0.0.1:9/v3"))
    assert p.returncode == 0, p.stderr
    assert r["carbon"]["intensity_g_per_kwh"] == pytest.approx(56.04, abs=0.01)


def test_live_is_not_used_with_intensity_given(measured, api):
    p, r = run36(measured, "--region", "FR", "--intensity", "100", env=live_env(measured, api))
    assert Api.seen == []
    assert r["carbon"]["intensity_g_per_kwh"] == 100


def test_water_from_a_wue(measured, tmp_path):
    """On-site water: IT kWh x WUE (The Green Grid), in the run, its summary,
    the ledger and the CodeCarbon export; none without a WUE."""
    import csv
    p, r = run36(measured, "--wue", "1.8", "--pue", "1.2")
    assert p.returncode == 0, p.stderr
    assert r["carbon"]["wue_l_per_kwh"] == 1.8
    assert r["carbon"]["water_l"] == pytest.approx(36 / 3.6e6 * 1.8, rel=1e-3)  # IT, not facility
    assert "L on site at WUE 1.8 L/kWh" in p.stderr
    assert measured.wp_json("show", r["run_id"])["carbon"]["water_l"] == r["carbon"]["water_l"]
    out = tmp_path / "cc.csv"
    p = measured.wp("export", "--format", "codecarbon", "--output", str(out))
    assert p.returncode == 0, p.stderr
    row = next(csv.DictReader(open(out, newline="")))
    assert float(row["water_consumed"]) == pytest.approx(r["carbon"]["water_l"], rel=1e-6)
    assert float(row["wue"]) == 1.8
    p, r = run36(measured)
    assert r["carbon"]["water_l"] is None and "L on site" not in p.stderr


def test_water_in_an_estimate(wattprint, tmp_path):
    out = tmp_path / "e.json"
    p = subprocess.run([wattprint, "estimate", "--hardware", "H100", "--device-hours", "1000",
                        "--wue", "0.5", "--json", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    e = json.load(open(out))
    assert e["water_l"] == pytest.approx(e["it_energy_j"] / 3.6e6 * 0.5)
    assert "L of water on site" in p.stdout


def test_a_providers_published_wue_is_the_default(measured):
    """Where the provider publishes an on-site WUE (data/providers.csv: AWS,
    Azure), water is reported with it, labelled; --wue overrides; a provider
    that publishes none (GCP) reports no water."""
    p, r = run36(measured, "--provider", "aws")
    assert p.returncode == 0, p.stderr
    c = r["carbon"]
    assert c["wue_l_per_kwh"] == 0.15 and "Amazon Sustainability Report" in c["wue_source"]
    assert c["water_l"] == pytest.approx(36 / 3.6e6 * 0.15, rel=1e-3)
    assert "aws's published on-site WUE" in p.stderr
    p, r = run36(measured, "--region", "azure:westeurope")
    assert r["carbon"]["wue_l_per_kwh"] == 0.27
    p, r = run36(measured, "--provider", "aws", "--wue", "2")
    assert r["carbon"]["wue_l_per_kwh"] == 2 and r["carbon"]["wue_source"] == "given"
    p, r = run36(measured, "--provider", "gcp")
    assert r["carbon"]["water_l"] is None and "L on site" not in p.stderr


def test_water_at_the_power_plants(measured):
    """Off-site water: facility kWh x the water the region's power plants
    consume per kWh (data/electricity_water.csv, Li et al.'s scope 2),
    reported beside the on-site water; a cloud region answers for its
    country, the world average without a region, none for a given intensity
    alone or a country the table lacks; --offsite-wue overrides."""
    p, r = run36(measured, "--region", "FR", "--pue", "1.5", "--wue", "0.5")
    assert p.returncode == 0, p.stderr
    c = r["carbon"]
    assert c["offsite_wue_l_per_kwh"] == 3.674 and c["offsite_wue_source"].startswith("FRA: WRI")
    assert c["water_offsite_l"] == pytest.approx(54 / 3.6e6 * 3.674, rel=1e-3)  # facility kWh
    assert c["water_l"] == pytest.approx(36 / 3.6e6 * 0.5, rel=1e-3)  # IT kWh, apart
    assert "L off site, at the power plants: 3.67 L/kWh (FRA: WRI" in p.stderr
    shown = measured.wp_json("show", r["run_id"])["carbon"]
    assert shown["water_offsite_l"] == c["water_offsite_l"]
    # the table's source is derived on reading, not stored in every run
    import sqlite3
    from ledgerdoc import unpack
    con = sqlite3.connect(measured.ledger)
    (packed,) = con.execute("SELECT doc FROM runs WHERE id = ?", (r["run_id"],)).fetchone()
    stored = json.loads(unpack(packed, r["run_id"]))["carbon"]
    assert "offsite_wue_source" not in stored and shown["offsite_wue_source"].startswith("FRA: WRI")
    # a figure the table no longer holds is not given the table's source
    stored["offsite_wue_l_per_kwh"] = 9.5
    from ledgerdoc import pack
    doc = json.loads(unpack(packed, r["run_id"]))
    doc["carbon"] = stored
    con.execute("UPDATE runs SET doc = ? WHERE id = ?", (pack(json.dumps(doc)), r["run_id"]))
    con.commit()
    con.close()
    assert measured.wp_json("show", r["run_id"])["carbon"]["offsite_wue_source"] == \
        "the bundled table of the wattprint that recorded the run"
    p, r = run36(measured, "--region", "gcp:europe-west1")
    assert r["carbon"]["offsite_wue_l_per_kwh"] == 2.62  # Belgium's
    p, r = run36(measured)
    assert r["carbon"]["offsite_wue_l_per_kwh"] == 3.908
    assert r["carbon"]["offsite_wue_source"].startswith("world average")
    for args in (["--intensity", "100"], ["--region", "KE"]):
        p, r = run36(measured, *args)
        assert p.returncode == 0, p.stderr
        assert r["carbon"]["water_offsite_l"] is None and "offsite_wue_source" not in r["carbon"]
        assert "off site" not in p.stderr
    p, r = run36(measured, "--region", "KE", "--offsite-wue", "2")
    assert r["carbon"]["offsite_wue_source"] == "given"
    assert r["carbon"]["water_offsite_l"] == pytest.approx(36 / 3.6e6 * 2, rel=1e-3)
    assert "(--offsite-wue; estimated)" in p.stderr


def test_water_at_the_power_plants_in_an_estimate(wattprint, tmp_path):
    out = tmp_path / "e.json"
    p = subprocess.run([wattprint, "estimate", "--hardware", "H100", "--device-hours", "1000",
                        "--region", "US", "--pue", "1.2", "--json", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    e = json.load(open(out))
    assert e["water_offsite_l"] == pytest.approx(e["facility_energy_j"] / 3.6e6 * 3.132)
    assert e["server_water_offsite_l"] == pytest.approx(
        e["server_facility_energy_j"] / 3.6e6 * 3.132)
    assert "of water off site, at the power plants: 3.13 L/kWh (USA" in p.stdout
