"""CodeCarbon's output handlers over wattprint (codecarbon.output in the
wattprint-codecarbon distribution): a logger, a Prometheus push gateway, an
HTTP endpoint, a CSV file. Each takes CodeCarbon's EmissionsData; one that
cannot deliver says so once and never fails the tracker."""
import csv
import json
import logging
import os
import urllib.error
import urllib.request

from .compat import BaseOutput, logger

__all__ = ["LoggerOutput", "GoogleCloudLoggerOutput", "PrometheusOutput", "HTTPOutput",
           "CodeCarbonAPIOutput", "FileOutput"]


class LoggerOutput(BaseOutput):
    """Each flush and stop as one JSON line on a logging.Logger."""

    def __init__(self, logger_=None, severity=logging.INFO):
        self.logger = logger_ or logger
        self.severity = severity

    def out(self, total, delta):
        self.logger.log(self.severity, json.dumps(total.values, default=str))


class GoogleCloudLoggerOutput(LoggerOutput):
    """CodeCarbon's Google Cloud logger: any object with log_struct(), else a
    logging.Logger."""

    def out(self, total, delta):
        if hasattr(self.logger, "log_struct"):
            self.logger.log_struct(total.values, severity=logging.getLevelName(self.severity))
        else:
            super().out(total, delta)


class _Sender(BaseOutput):
    """A handler that sends over HTTP: a failure is one warning per handler."""

    def __init__(self):
        self._failed = False

    def _send(self, method, url, body, content_type):
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                r.read()
        except (urllib.error.URLError, OSError, ValueError) as e:
            if not self._failed:
                logger.warning("not sent to %s: %s (the run is in the ledger and the file)",
                               url, getattr(e, "reason", e))
            self._failed = True


class PrometheusOutput(_Sender):
    """The totals pushed to a Prometheus push gateway (job codecarbon), as
    CodeCarbon's gauges: codecarbon_emissions, codecarbon_energy_consumed, ..."""

    NAMES = ("duration", "emissions", "emissions_rate", "cpu_power", "gpu_power", "ram_power",
             "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed")

    def __init__(self, prometheus_url="http://localhost:9091"):
        super().__init__()
        self.url = prometheus_url.rstrip("/")

    def out(self, total, delta):
        lines = []
        for name in self.NAMES:
            lines.append("# TYPE codecarbon_%s gauge\ncodecarbon_%s %.12g" %
                         (name, name, getattr(total, name, 0.0) or 0.0))
        project = (total.project_name or "codecarbon").replace("/", "_")
        self._send("PUT", "%s/metrics/job/codecarbon/project/%s" % (self.url, project),
                   ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")


class HTTPOutput(_Sender):
    """The totals POSTed as JSON to an endpoint (emissions_endpoint)."""

    def __init__(self, endpoint_url):
        super().__init__()
        self.endpoint_url = endpoint_url

    def out(self, total, delta):
        self._send("POST", self.endpoint_url, json.dumps(total.values, default=str).encode(),
                   "application/json")


class CodeCarbonAPIOutput(BaseOutput):
    """CodeCarbon's own dashboard API: nothing is sent (said once)."""

    def __init__(self, *args, **kwargs):
        logger.warning("not sent: wattprint does not send runs to the CodeCarbon API (the run is "
                       "in the ledger; wattprint export --format codecarbon writes the file)")


class FileOutput(BaseOutput):
    """EmissionsData rows in a CSV file (a handler of one's own; the
    tracker's emissions.csv is written by wattprint's exact writer)."""

    def __init__(self, output_file_name="emissions.csv", output_dir=".", on_csv_write="append"):
        self.path = os.path.join(output_dir, output_file_name)
        self.on_csv_write = on_csv_write

    def out(self, total, delta):
        row = total.values
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)

    def task_out(self, data, experiment_name):
        path = os.path.join(os.path.dirname(self.path),
                            "emissions_base_%s.csv" % (experiment_name or "tasks"))
        with open(path, "w", newline="") as f:
            rows = [d.values for d in data]
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
