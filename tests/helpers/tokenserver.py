#!/usr/bin/env python3
"""A stand-in for an inference server's Prometheus page (vLLM's metric names),
for wattprint's --work-url tests. Its token counters move with a fake
powercap zone's energy: generated tokens = energy since its start / J per
token (prompt tokens three times as many), so whatever the timing, the energy
per token between any two moments is known. Modes: ok, garbage (an HTML page),
hang (never answers), status (HTTP 503); reset() restarts the counters at 0 as
a restarted server would; vanish() stops listening.

  tokenserver.py drive ZONE_FILE --url URL --joules J --steps N [--period S]
      [--reset-after K] [--vanish-after K] [--settle N] [--exit CODE]
      waits until the stand-in has been scraped once (wattprint's baseline),
      then adds J joules to ZONE_FILE in N steps; after step K it waits for a
      scrape that saw that step, then resets or removes the stand-in; at the
      end it waits for N more scrapes (the second one after the last step is
      paired with a reading taken after it).
"""
import argparse
import http.server
import json
import socket
import sys
import threading
import time
import urllib.request

PAGE = """# HELP vllm:num_requests_running Number of requests currently running on GPU.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{{model_name="tiny",engine="0"}} 3.0
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{{model_name="tiny",engine="0"}} {prompt}
# HELP vllm:generation_tokens_total Number of generation tokens processed.
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{{model_name="tiny",engine="0"}} {generated}
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_sum{{model_name="tiny",engine="0"}} 1.5
vllm:time_to_first_token_seconds_bucket{{le="0.1",model_name="tiny",engine="0"}} 2.0
vllm:time_to_first_token_seconds_bucket{{le="+Inf",model_name="tiny",engine="0"}} 4.0
vllm:time_to_first_token_seconds_count{{model_name="tiny",engine="0"}} 4.0
"""


def read_uj(path):
    with open(path) as f:
        return int(f.read().strip() or 0)


class StandIn:
    def __init__(self, zone_file, joules_per_token=0.5, offset=1000.0, mode="ok", port=0,
                 padding=0):
        self.zone_file = zone_file
        self.jpt = joules_per_token
        self.offset = offset  # what the server had counted before the test
        self.base_uj = read_uj(zone_file)
        self.mode = mode
        # histogram lines to make the page as large as a busy server's
        self.padding = "".join('vllm:e2e_request_latency_seconds_bucket{le="%d",model_name='
                               '"tiny",engine="%d"} %d.0\n' % (b, b % 4, b)
                               for b in range(padding))
        self.scrapes = 0
        self.cv = threading.Condition()
        self.release = threading.Event()
        self.conns = set()  # open connections: a server that exits closes them all
        self.page_conns = set()  # the connections pages were served on
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections kept alive, as servers keep them

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                with stand_in.cv:
                    stand_in.conns.add(self.connection)

            def finish(self):
                with stand_in.cv:
                    stand_in.conns.discard(self.connection)
                super().finish()

            def do_GET(self):
                stand_in.handle(self)

            def do_POST(self):
                stand_in.control(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/metrics" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def generated(self):
        return self.offset + (read_uj(self.zone_file) - self.base_uj) / 1e6 / self.jpt

    def _send(self, h, code, body, ctype="text/plain; version=0.0.4"):
        data = body.encode()
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def handle(self, h):
        if h.path == "/scrapes":  # under the lock: no page is half-served while it is read
            with self.cv:
                n = self.scrapes
            return self._send(h, 200, json.dumps({"scrapes": n}), "application/json")
        if self.mode == "hang":
            self.release.wait(60)
            return
        if self.mode == "garbage":
            return self._send(h, 200, "<html><body>502 Bad Gateway</body></html>\n", "text/html")
        if self.mode == "status":
            return self._send(h, 503, "starting\n")
        with self.cv:
            g = self.generated()
            page = PAGE.format(generated=repr(g), prompt=repr(3 * g)) + self.padding
            self.scrapes += 1
            self.page_conns.add(h.connection)  # kept: no id is reused
            self.cv.notify_all()
        self._send(h, 200, page)

    def control(self, h):
        if h.path == "/reset":
            self.reset()
        # answered before it vanishes, and its own connection spared: the
        # driver must not see the order of two threads on a loaded machine
        self._send(h, 200, "ok\n")
        if h.path == "/vanish":
            threading.Thread(target=self.vanish, args=(h.connection,), daemon=True).start()

    def reset(self):
        with self.cv:
            self.base_uj = read_uj(self.zone_file)
            self.offset = 0.0

    def vanish(self, spared=None):
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.cv:
            conns = [c for c in self.conns if c is not spared]
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.release.set()
        try:
            self.vanish()
        except OSError:
            pass


def scrapes(url):
    with urllib.request.urlopen(url.rsplit("/", 1)[0] + "/scrapes", timeout=5) as r:
        return json.load(r)["scrapes"]


def wait_scrape_after(url, seen):
    """Until the stand-in has answered a scrape after `seen` of them."""
    while scrapes(url) <= seen:
        time.sleep(0.01)


def post(url, what):
    req = urllib.request.Request(url.rsplit("/", 1)[0] + "/" + what, data=b"", method="POST")
    urllib.request.urlopen(req, timeout=5).read()


def add_uj(path, uj):
    with open(path, "r+") as f:
        cur = int(f.read().strip() or 0)
        text = "%d\n" % (cur + uj)
        f.seek(0)
        f.write(text)
        f.truncate()


def drive(args):
    wait_scrape_after(args.url, 0)
    step = int(round(args.joules * 1e6 / args.steps))
    for k in range(1, args.steps + 1):
        add_uj(args.zone_file, step)
        time.sleep(args.period)
        if k in (args.reset_after, args.vanish_after):
            wait_scrape_after(args.url, scrapes(args.url))
            post(args.url, "reset" if k == args.reset_after else "vanish")
    for _ in range(args.settle):  # scrapes that began after the last step
        wait_scrape_after(args.url, scrapes(args.url))
    sys.exit(args.exit)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("drive")
    d.add_argument("zone_file")
    d.add_argument("--url", required=True)
    d.add_argument("--joules", type=float, required=True)
    d.add_argument("--steps", type=int, default=20)
    d.add_argument("--period", type=float, default=0.05)
    d.add_argument("--reset-after", type=int, default=-1)
    d.add_argument("--vanish-after", type=int, default=-1)
    d.add_argument("--settle", type=int, default=0)
    d.add_argument("--exit", type=int, default=0)
    args = ap.parse_args()
    drive(args)


if __name__ == "__main__":
    main()
