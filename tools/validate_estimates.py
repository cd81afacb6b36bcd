#!/usr/bin/env python3
"""Checks wattprint's estimates against the published measurements bundled in
data/: training device-hours (data/training_runs.csv) and serving energy per
output token (data/serving_runs.csv: ML.ENERGY v3, vLLM, batch 8 to 4,096).
The rows marked "holdout" are not in any fit; their error is what
docs/methodology.md reports. data/inference_runs.csv (ML.ENERGY v1 and
others: batch 1, Hugging Face servers) is in no fit at all: a second check
from another serving stack.

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
    if row["count"]:  # the cluster's size: its goodput
        args += ["--count", row["count"]]
    if row["flops"]:
        return args + ["--flops", row["flops"]]
    args += ["--params", row["params"], "--tokens", row["tokens"]]
    if row["active_params"]:
        args += ["--active-params", row["active_params"]]
    if row["teacher_params"]:
        args += ["--teacher-params", row["teacher_params"]]
    return args


def compare(binary, table_name, roles, args_of, published_key, estimate_key, range_key):
    """(id, hardware, role, published, estimate, published inside the printed range)
    for each row of data/TABLE_NAME whose role is in roles."""
    out = []
    for row in csv.DictReader(open(os.path.join(ROOT, "data", table_name))):
        if row["role"] not in roles:
            continue
        r = estimate(binary, args_of(row))
        published = float(row[published_key])
        lo, hi = r[range_key]
        out.append((row["id"], row["hardware"], row["role"], published, r[estimate_key],
                    lo <= published <= hi))
    return out


def training(binary, roles):
    return compare(binary, "training_runs.csv", roles, training_args, "device_hours",
                   "device_hours", "device_hours_range")


def inference_args(row):
    args = ["--inference", "--params", row["params"], "--hardware", row["hardware"],
            "--count", row["count"], "--batch", row["batch"], "--precision", row["precision"],
            "--tokens-per-query", row["output_tokens"] or "256", "--queries-per-day", "1",
            "--days", "1"]
    if row["input_tokens"]:
        args += ["--input-tokens", row["input_tokens"]]
    if row["active_params"] and row["active_params"] != row["params"]:
        args += ["--active-params", row["active_params"]]
    if row.get("architecture") == "hybrid":
        args += ["--architecture", "hybrid"]
    return args


def serving(binary, roles):
    return compare(binary, "serving_runs.csv", roles, inference_args, "energy_per_token_j",
                   "energy_per_output_token_j", "energy_per_output_token_range_j")


def inference(binary, roles):
    """The batch-1 measurements of other serving stacks: in no fit."""
    return compare(binary, "inference_runs.csv", roles, inference_args, "energy_per_token_j",
                   "energy_per_output_token_j", "energy_per_output_token_range_j")


def wall(binary):
    """The whole server at the wall per accelerator while training against
    published wall measurements (data/wall_power.csv, role holdout): one hour
    on one device, so the energy is the power."""
    out = []
    for row in csv.DictReader(open(os.path.join(ROOT, "data", "wall_power.csv"))):
        if row["role"] != "holdout" or row["quantity"] != "wall_w":
            continue
        r = estimate(binary, ["--hardware", row["hardware"], "--hours", "1"])
        lo, hi = (x / 3600 for x in r["server_it_energy_range_j"])
        published = float(row["value"])
        out.append((row["id"], row["hardware"], row["role"], published,
                    r["server_power_w_per_device"], lo <= published <= hi))
    return out


def summary(rows):
    """Median |error|, median ratio, share within 2x and inside the range."""
    ratios = [est / pub for _, _, _, pub, est, _ in rows]
    return (statistics.median([abs(x - 1) for x in ratios]), statistics.median(ratios),
            sum(0.5 <= x <= 2 for x in ratios) / len(ratios),
            sum(1 for r in rows if r[5]) / len(rows))


def table(title, unit, rows):
    print("%s\n\n| run | hardware | role | published %s | estimate | ratio | in range |" %
          (title, unit))
    print("|---|---|---|---:|---:|---:|:-:|")
    for rid, hw, role, pub, est, inside in rows:
        print("| %s | %s | %s | %.4g | %.4g | %.2f | %s |" % (rid, hw, role, pub, est, est / pub,
                                                            "yes" if inside else "no"))
    held = [est / pub for _, _, role, pub, est, _ in rows if role == "holdout"]
    inside = sum(1 for r in rows if r[2] == "holdout" and r[5])
    if held:
        errs = [abs(x - 1) for x in held]
        print("\nheld out: %d rows, median |error| %.1f %%, worst ratio %.2f (%.2f to %.2f), "
              "median ratio %.2f, %d of %d inside the printed range\n" %
              (len(held), 100 * statistics.median(errs), max(held, key=lambda x: abs(x - 1)),
               min(held), max(held), statistics.median(held), inside, len(held)))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    binary = args[0] if args else os.path.join(ROOT, "build", "wattprint")
    roles = ("fit", "holdout") if "--all" in sys.argv else ("holdout",)
    table("Training: device-hours from parameters and tokens", "device-hours",
          training(binary, roles))
    table("Whole server at the wall while training: W per accelerator", "W", wall(binary))
    rows = serving(binary, roles)
    table("Serving (ML.ENERGY v3, vLLM): energy per output token", "J", rows)
    for lo, hi in ((0, 8), (9, 32), (33, 128), (129, 1e9)):
        part = [r for r, row in zip(rows, [x for x in csv.DictReader(
            open(os.path.join(ROOT, "data", "serving_runs.csv"))) if x["role"] in roles])
            if lo <= float(row["batch"]) <= hi and r[2] == "holdout"]
        if part:
            err, med, _, _ = summary(part)
            print("batch %g-%g: %d held-out rows, median ratio %.2f, median |error| %.0f %%" %
                  (lo, hi if hi < 1e9 else float("inf"), len(part), med, 100 * err))
    print()
    table("Serving, other stacks at batch 1 (in no fit): energy per output token", "J",
          [r[:2] + ("holdout",) + r[3:] for r in inference(binary, ("fit", "holdout"))])


if __name__ == "__main__":
    main()
