"""A real Prometheus server of a test's own, scraping wattprint serve
instances on 127.0.0.1 every second, and its query API."""
import json
import subprocess
import urllib.parse
import urllib.request

from waits import free_port


class Prometheus:
    def __init__(self, tmp_path, targets):
        self.port = free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text("global:\n  scrape_interval: 1s\n"
                       "scrape_configs:\n  - job_name: wattprint\n    static_configs:\n"
                       "      - targets: [%s]\n"
                       % ", ".join("'127.0.0.1:%d'" % t for t in targets))
        self.proc = subprocess.Popen(["prometheus", "--config.file", str(cfg),
                                      "--storage.tsdb.path", str(tmp_path / "tsdb"),
                                      "--web.listen-address", "127.0.0.1:%d" % self.port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def query(self, q):
        """The first result's value of an instant query, None if it has none."""
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (self.port, urllib.parse.quote(q))
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        assert body["status"] == "success", (q, body)
        res = body["data"]["result"]
        return float(res[0]["value"][1]) if res else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
