"""Cloud detection: DMI (a fake tree) first, then local stand-ins for the
AWS, GCP and Azure instance metadata services."""
import http.server
import json
import os
import threading

import pytest

AZURE_TAG = "7783-7084-3265-9085-8269-3286-77"


class Metadata(http.server.BaseHTTPRequestHandler):
    """The three services' paths; mode ok, garbage or hang."""
    mode = "ok"
    seen = []
    release = threading.Event()

    def answer(self):
        Metadata.seen.append((self.command, self.path, dict(self.headers)))
        if Metadata.mode == "hang":
            Metadata.release.wait(30)  # answers only once the test is over
            return 200, b"too late"
        h = self.headers
        aws_ok = h.get("X-aws-ec2-metadata-token") == "tok-1"
        ok = {
            ("PUT", "/latest/api/token"): b"tok-1",
            ("GET", "/latest/meta-data/placement/region"): b"eu-west-3" if aws_ok else None,
            ("GET", "/latest/meta-data/instance-type"): b"p4d.24xlarge" if aws_ok else None,
            ("GET", "/computeMetadata/v1/instance/zone"):
                b"projects/1234/zones/europe-west1-b"
                if h.get("Metadata-Flavor") == "Google" else None,
            ("GET", "/computeMetadata/v1/instance/machine-type"):
                b"projects/1234/machineTypes/a2-highgpu-1g",
            ("GET", "/metadata/instance/compute?api-version=2021-02-01&format=json"):
                json.dumps({"location": "westeurope", "vmSize": "Standard_NC24ads_A100_v4"}
                           ).encode() if h.get("Metadata") == "true" else None,
        }.get((self.command, self.path))
        if ok is None:
            return 404, b""
        if Metadata.mode == "garbage":
            return 200, b"<html>\x00\xff not metadata {"
        return 200, ok

    def reply(self):
        code, body = self.answer()
        try:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_PUT = reply

    def log_message(self, *a):
        pass


@pytest.fixture
def metadata():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    Metadata.seen, Metadata.mode = [], "ok"
    Metadata.release.clear()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    Metadata.release.set()
    srv.shutdown()
    srv.server_close()


def dmi(runner, **fields):
    d = os.path.join(runner.sysfs, "class", "dmi", "id")
    os.makedirs(d, exist_ok=True)
    for k, v in fields.items():
        with open(os.path.join(d, k), "w") as f:
            f.write(v + "\n")


def env_for(runner, url, **extra):
    return runner.env(WATTPRINT_AWS_METADATA_URL=url, WATTPRINT_GCP_METADATA_URL=url,
                      WATTPRINT_AZURE_METADATA_URL=url, **extra)


CLOUDS = [
    (dict(sys_vendor="Amazon EC2", product_name="p4d.24xlarge"), "aws", "eu-west-3",
     "p4d.24xlarge", 1.135),
    (dict(sys_vendor="Google", product_name="Google Compute Engine"), "gcp", "europe-west1",
     "a2-highgpu-1g", 1.1),
    (dict(sys_vendor="Microsoft Corporation", product_name="Virtual Machine",
          chassis_asset_tag=AZURE_TAG), "azure", "westeurope", "Standard_NC24ads_A100_v4", 1.185),
]


@pytest.mark.parametrize("fields,provider,region,itype,pue", CLOUDS)
def test_detected_provider_region_and_instance(measured, metadata, fields, provider, region,
                                               itype, pue):
    dmi(measured, **fields)
    p, r = measured.run(["--", "true"], env=env_for(measured, metadata))
    assert p.returncode == 0, p.stderr
    c = r["cloud"]
    assert c["provider"] == provider and c["region"] == region
    assert c["instance_type"] == itype and c["metadata_error"] is None
    assert r["pue"] == pue and r["pue_source"].startswith("detected %s (DMI " % provider)
    assert r["carbon"]["region"] == "%s:%s" % (provider, region)
    assert r["carbon"]["intensity_source"].startswith("detected region")
    assert "cloud   %s %s, %s (detected" % (provider, region, itype) in p.stderr
    # the provider's published on-site WUE where it has one (GCP publishes none)
    wue = {"aws": 0.15, "azure": 0.27}.get(provider)
    assert r["carbon"]["wue_l_per_kwh"] == wue
    if wue:
        assert r["carbon"]["wue_source"].startswith("detected %s's published" % provider)
    if provider == "aws":  # IMDSv2: a token first, then the token on each request
        assert Metadata.seen[0][:2] == ("PUT", "/latest/api/token")
        assert Metadata.seen[0][2]["X-aws-ec2-metadata-token-ttl-seconds"]


def test_options_and_files_beat_detection(measured, metadata, tmp_path):
    dmi(measured, sys_vendor="Google")
    p, r = measured.run(["--region", "FR", "--pue", "1.3", "--", "true"],
                        env=env_for(measured, metadata))
    assert r["pue"] == 1.3 and r["carbon"]["region"] == "FRA"
    assert r["cloud"]["region"] == "europe-west1"  # still found and recorded


@pytest.mark.parametrize("mode", ["hang", "garbage"])
def test_a_silent_or_garbled_service_keeps_the_dmi_provider(measured, metadata, mode):
    Metadata.mode = mode
    dmi(measured, sys_vendor="Amazon EC2", product_name="m5.large")
    p, r = measured.run(["--", "true"], env=env_for(measured, metadata))
    assert p.returncode == 0, p.stderr
    c = r["cloud"]
    assert c["provider"] == "aws" and c["region"] is None and c["metadata_error"]
    if mode == "hang":
        assert "time" in c["metadata_error"].lower()
    assert c["instance_type"] == "m5.large"  # what DMI says on Nitro
    assert r["pue"] == 1.135                  # the provider is known without the service
    assert r["carbon"]["assumed"] is True     # the region is not
    assert "metadata service gave no region" in p.stderr


def test_the_command_is_not_delayed_by_a_hanging_service(measured, metadata, tmp_path):
    # The command starts before the service is asked: it runs to its end
    # while the request still hangs.
    Metadata.mode = "hang"
    dmi(measured, sys_vendor="Google")
    marker = tmp_path / "started"
    p, r = measured.run(["--", "touch", str(marker)], env=env_for(measured, metadata))
    assert p.returncode == 0 and marker.exists()
    assert r["cloud"]["metadata_error"]


@pytest.mark.parametrize("fields", [
    {},                                                          # no DMI at all
    dict(sys_vendor="Dell Inc.", product_name="PowerEdge R750"),
    dict(sys_vendor="Microsoft Corporation", product_name="Virtual Machine",
         chassis_asset_tag="0000-0000"),                         # Hyper-V, not Azure
    dict(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)"),
])
def test_not_on_a_cloud_no_request_and_no_message(measured, metadata, fields):
    dmi(measured, **fields)
    p, r = measured.run(["--", "true"], env=env_for(measured, metadata))
    assert p.returncode == 0, p.stderr
    assert Metadata.seen == []
    # (the summary's last line names the ledger, whose path holds this test's name)
    said = p.stderr.replace(measured.ledger, "LEDGER")
    assert r["cloud"] is None and "cloud" not in said and "detect" not in said


def test_no_detect_option_and_config_key(measured, metadata, tmp_path):
    dmi(measured, sys_vendor="Amazon EC2")
    p, r = measured.run(["--no-detect", "--", "true"], env=env_for(measured, metadata))
    assert p.returncode == 0 and r["cloud"] is None and Metadata.seen == []
    cfg = tmp_path / "xdg" / "wattprint"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text("detect = no\n")
    p, r = measured.run(["--", "true"],
                        env=env_for(measured, metadata, XDG_CONFIG_HOME=str(tmp_path / "xdg")))
    assert p.returncode == 0 and r["cloud"] is None and Metadata.seen == []
    assert r["pue"] == 1.0


def test_the_requests_bypass_a_proxy(measured, metadata):
    dmi(measured, sys_vendor="Google")
    p, r = measured.run(["--", "true"],
                        env=env_for(measured, metadata, http_proxy="http://127.0.0.1:9",
                                    HTTP_PROXY="http://127.0.0.1:9"))
    assert r["cloud"]["region"] == "europe-west1"
