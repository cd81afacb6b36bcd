#!/usr/bin/env python3
"""Fits the serving model's constants on the rows of data/serving_runs.csv
marked "fit" and writes data/serving_model.csv; prints the error on the rows
marked "holdout" (whole models the fit never saw). The model is the one in
src/estimate/serving.c, written again here so that the fit needs nothing but
Python; tools/validate_estimates.py then checks the C through the CLI.

Fitted on measured power and measured throughput separately (each in log
space), so each constant keeps its physical meaning; energy is their product.

usage: tools/fit_serving.py [--write]   (without --write: print only)
"""
import csv
import math
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# weight bytes per parameter, as src/estimate/serving.c has them
BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1, "int8": 1, "int4": 0.5625,
         "nvfp4": 0.5625, "fp4": 0.5625, "mxfp4": 0.53125}
NAMES = ["bw_hopper", "bw_blackwell", "mfu_hopper", "mfu_blackwell", "step_s_per_layer",
         "power_low", "power_high", "power_batch", "kv_traffic", "hybrid_kv", "lowp_eff"]
START = [0.6, 0.4, 0.4, 0.6, 1e-4, 0.6, 0.85, 40, 1.0, 0.5, 0.7]


def hardware():
    out = {}
    for r in csv.DictReader(open(os.path.join(ROOT, "data", "accelerators.csv"))):
        out[r["name"]] = r
    return out


def shape(active):
    """Layers, width and KV width from the parameter count, as serving.c."""
    layers = max(1, round((active / (12 * 128 * 128)) ** (1 / 3)))
    return layers, 128 * layers, min(128 * layers, 1024)


def peak(hw, precision):
    """The peak the precision's products run at, and whether it is a
    low-precision kernel's (FP8 or FP4 units)."""
    fp8, fp4 = float(hw["peak_fp8_dense_tflops"] or 0), float(hw["peak_fp4_dense_tflops"] or 0)
    if precision == "fp8" and fp8 > 0:
        return fp8 * 1e12, True
    if precision in ("fp4", "nvfp4", "mxfp4") and fp4 > 0:
        return fp4 * 1e12, True
    return float(hw["peak_bf16_or_fp16_dense_tflops"]) * 1e12, False


def predict(row, hw, c):
    """(power of all devices in W, time per output token in s) for a row."""
    gen = "blackwell" if hw["generation"] == "blackwell" else "hopper"
    g, b = float(row["count"]), float(row["batch"])
    n, na = float(row["params"]), float(row["active_params"] or row["params"])
    i, o = float(row["input_tokens"]), float(row["output_tokens"])
    layers, hidden, kv_dim = shape(na)
    kv_bytes = 2 * layers * kv_dim * 2 * c["kv_traffic"]
    if row.get("architecture") == "hybrid":
        kv_bytes *= c["hybrid_kv"]
    pk, lowp = peak(hw, row["precision"])
    pk *= c["lowp_eff"] if lowp else 1.0
    bw = float(hw["memory_bw_gbs"]) * 1e9 * c["bw_" + gen]
    mfu = c["mfu_" + gen]
    ctx = i + o / 2
    usable = 0.9 * g * float(hw["memory_gb"]) * 1e9 - n * BYTES[row["precision"]]
    b = min(b, max(1.0, math.floor(usable / (ctx * 2 * layers * kv_dim * 2 *
                                             (c["hybrid_kv"] if row.get("architecture") == "hybrid"
                                              else 1.0)))))  # paged: what fits
    read = n * (1 - (1 - na / n) ** b) if na < n else n  # the experts a batch touches
    t_mem = (read * BYTES[row["precision"]] + b * ctx * kv_bytes) / (g * bw)
    t_comp = b * (2 * na + 4 * layers * ctx * hidden) / (g * pk * mfu)
    step = c["step_s_per_layer"] * layers + t_mem + t_comp
    prefill = (2 * na * i + 2 * layers * i * i * hidden) / (g * pk * mfu)
    frac = c["power_low"] + (c["power_high"] - c["power_low"]) * (
        1 - math.exp(-(b / g) / c["power_batch"]))
    return g * float(hw["tdp_w"]) * frac, step / b + prefill / o


def loss(values, rows, hws):
    c = dict(zip(NAMES, values))
    if min(values) <= 0 or c["power_high"] > 1 or c["power_low"] > c["power_high"]:
        return 1e9
    s = 0.0
    for r in rows:
        p, t = predict(r, hws[r["hardware"]], c)
        s += math.log(p / float(r["power_w"])) ** 2 + math.log(t * float(r["tokens_per_s"])) ** 2
    return s / len(rows)


def nelder_mead(f, x0, iters=6000, tol=1e-9):
    """A plain Nelder-Mead simplex (no dependency for one fit)."""
    n = len(x0)
    pts = [list(x0)] + [[x * (1.25 if i == k else 1) for i, x in enumerate(x0)] for k in range(n)]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = sorted(range(n + 1), key=lambda k: vals[k])
        pts, vals = [pts[k] for k in order], [vals[k] for k in order]
        if vals[-1] - vals[0] < tol:
            break
        centre = [sum(p[i] for p in pts[:-1]) / n for i in range(n)]
        refl = [centre[i] + (centre[i] - pts[-1][i]) for i in range(n)]
        fr = f(refl)
        if fr < vals[0]:
            exp_ = [centre[i] + 2 * (centre[i] - pts[-1][i]) for i in range(n)]
            fe = f(exp_)
            pts[-1], vals[-1] = (exp_, fe) if fe < fr else (refl, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = refl, fr
        else:
            con = [centre[i] + 0.5 * (pts[-1][i] - centre[i]) for i in range(n)]
            fc = f(con)
            if fc < vals[-1]:
                pts[-1], vals[-1] = con, fc
            else:
                for k in range(1, n + 1):
                    pts[k] = [pts[0][i] + 0.5 * (pts[k][i] - pts[0][i]) for i in range(n)]
                    vals[k] = f(pts[k])
    return pts[0]


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    hws = hardware()
    rows = list(csv.DictReader(open(os.path.join(ROOT, "data", "serving_runs.csv"))))
    fit = [r for r in rows if r["role"] == "fit"]
    hold = [r for r in rows if r["role"] == "holdout"]
    best = START
    for _ in range(3):  # restarts: the simplex shrinks early on this surface
        best = nelder_mead(lambda v: loss(v, fit, hws), best)
    c = dict(zip(NAMES, best))

    def ratios(rs):
        out = []
        for r in rs:
            p, t = predict(r, hws[r["hardware"]], c)
            out.append(float(r["energy_per_token_j"]) / (p * t))
        return out
    fr = ratios(fit)
    lo, hi = percentile(fr, 0.1), percentile(fr, 0.9)
    for name, rs in (("fit", fit), ("holdout", hold)):
        rt = ratios(rs)
        err = [abs(1 / x - 1) for x in rt]
        print("%-8s %3d rows: estimate/measured median %.2f, median error %.0f%%, within 2x "
              "%.0f%%, inside the range %.0f%%" % (
                  name, len(rs), statistics.median(1 / x for x in rt),
                  100 * statistics.median(err), 100 * sum(0.5 <= 1 / x <= 2 for x in rt) / len(rt),
                  100 * sum(lo <= x <= hi for x in rt) / len(rt)))
    for k in NAMES:
        print("  %-18s %.4g" % (k, c[k]))
    print("  range              x%.2f to x%.2f (10th-90th percentile, fit rows)" % (lo, hi))
    if "--write" in sys.argv:
        with open(os.path.join(ROOT, "data", "serving_model.csv"), "w") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["name", "value", "source"])
            src = ("fitted by tools/fit_serving.py on the %d rows of data/serving_runs.csv "
                   "marked fit" % len(fit))
            for k in NAMES:
                w.writerow([k, "%.6g" % c[k], src])
            w.writerow(["range_low", "%.4g" % lo, src + ": 10th percentile of measured/model"])
            w.writerow(["range_high", "%.4g" % hi, src + ": 90th percentile of measured/model"])
            w.writerow(["fit_rows", len(fit), src])


if __name__ == "__main__":
    main()
