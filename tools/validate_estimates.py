#!/usr/bin/env python3
"""Checks wattprint's estimates against the published measurements bundled in
data/: training device-hours (data/training_runs.csv) and serving energy per
output token (data/inference_runs.csv). The rows marked "holdout" are not in
any fit; their error is what docs/methodology.md reports.

usage: tools/validate_estimates.py [WATTPRINT] [--all]   (default build/wattprint)
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def estimate(binary, args):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "e.json")
        p = subprocess.run([binary, "estimate", "--json", path] + args, capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError("wattprint estimate %s: %s" % (" ".join(args), p.stderr))
        with open(path) as f:
            return json.load(f)


def training_args(row):
    args = ["--hardware", row["hardware"]]
    if row["flops"]:
        return args + ["--flops", row["flops"]]
    args += ["--params", row["params"], "--tokens", row["tokens"]]
    if row["active_params"]:
        args += ["--active-params", row["active_params"]]
    if row["teacher_params"]:
        args += ["--teacher-params", row["teacher_params"]]
    return args


def training(binary, roles):
    out = []
    for row in csv.DictReader(open(os.path.join(ROOT, "data", "training_runs.csv"))):
        if row["role"] not in roles:
            continue
        r = estimate(binary, training_args(row))
        published = float(row["device_hours"])
        lo, hi = r["device_hours_range"]
        out.append((row["id"], row["hardware"], row["role"], published, r["device_hours"],
                    lo <= published <= hi))
    return out


def inference_args(row):
    args = ["--inference", "--params", row["params"], "--hardware", row["hardware"],
            "--count", row["count"], "--batch", row["batch"], "--precision", row["precision"],
            "--tokens-per-query", row["output_tokens"] or "256", "--queries-per-day", "1",
            "--days", "1"]
    if row["input_tokens"]:
        args += ["--input-tokens", row["input_tokens"]]
    if row["active_params"]:
        args += ["--active-params", row["active_params"]]
    return args


def inference(binary, roles):
    out = []
    for row in csv.DictReader(open(os.path.join(ROOT, "data", "inference_runs.csv"))):
        if row["role"] not in roles:
            continue
        r = estimate(binary, inference_args(row))
        measured = float(row["energy_per_token_j"])
        lo, hi = r["energy_per_output_token_range_j"]
        out.append((row["id"], row["hardware"], row["role"], measured,
                    r["energy_per_output_token_j"], lo <= measured <= hi))
    return out


def table(title, unit, rows):
    print("%s\n\n| run | hardware | role | published %s | estimate | ratio | in range |" %
          (title, unit))
    print("|---|---|---|---:|---:|---:|:-:|")
    for rid, hw, role, pub, est, inside in rows:
        print("| %s | %s | %s | %.4g | %.4g | %.2f | %s |" % (rid, hw, role, pub, est, est / pub,
                                                            "yes" if inside else "no"))
    held = [est / pub for _, _, role, pub, est, _ in rows if role == "holdout"]
    if held:
        errs = [abs(x - 1) for x in held]
        print("\nheld out: %d rows, median |error| %.1f %%, worst ratio %.2f (%.2f to %.2f), "
              "median ratio %.2f, %d of %d inside the printed range\n" %
              (len(held), 100 * statistics.median(errs), max(held, key=lambda x: abs(x - 1)),
               min(held), max(held), statistics.median(held),
               sum(1 for *_, role, _p, _e, i in [(0, 0, r[2], 0, 0, r[5]) for r in rows]
                   if role == "holdout" and i), len(held)))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    binary = args[0] if args else os.path.join(ROOT, "build", "wattprint")
    roles = ("fit", "holdout") if "--all" in sys.argv else ("holdout",)
    table("Training: device-hours from parameters and tokens", "device-hours",
          training(binary, roles))
    table("Serving: energy per output token", "J", inference(binary, roles))


if __name__ == "__main__":
    main()
