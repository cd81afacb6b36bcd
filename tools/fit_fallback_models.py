#!/usr/bin/env python3
"""Fits and checks the fallback power models on published measurements.

CPU: the published load profiles in data/cpu_load_profiles.csv (package
power measured by RAPL at load steps on 20 CPUs: CodeCarbon's four, Teads'
AWS bare-metal runs, Boavizta Energizta's other servers; see
tools/import_cpu_profiles.py).

The model: P = TDP x sockets x (a + (b - a) x u^g), u = machine-wide
utilisation. a, b, g minimise the median relative error on the CPUs marked
"fit"; the CPUs marked "holdout" (whole CPUs, chosen by a fixed rule before
any fit) and a leave-one-CPU-out refit test it. "suspect" rows (a second
E3-1240 V2 machine that reads package + core domains) and "superseded" rows
(Teads' first runs, measured again later) are reported, neither fitted nor
scored; see docs/methodology.md.

Memory: the per-DIMM model (src/sensors/power_models.h) against the module
and wall measurements in data/dram_power.csv, idle at no activity and load at
full activity.

usage: tools/fit_fallback_models.py   (Python 3 with numpy; prints the tables
                                       that docs/methodology.md quotes)
"""
import csv
import os
import statistics

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The constants the C model uses (src/sensors/power_models.h), checked below.
SHIPPED = (0.13, 0.97, 0.55)
PREVIOUS = (0.08, 0.60, 0.25)  # fitted on CodeCarbon's four CPUs alone
CCF = (0.74, 3.5)  # per-thread watts, idle and full (Cloud Carbon Footprint)
DIMM = (0.5, 3.0)  # watts per DIMM, idle and busy (src/sensors/power_models.h)
GRID = np.meshgrid(np.arange(0.04, 0.405, 0.01), np.arange(0.40, 1.305, 0.01),
                   np.arange(0.10, 1.505, 0.05), indexing="ij")
GRID = [g.ravel() for g in GRID]


def rows():
    with open(os.path.join(ROOT, "data", "cpu_load_profiles.csv")) as f:
        for r in csv.DictReader(f):
            r["tdp"] = float(r["tdp_w"]) * int(r["sockets"])
            r["u"] = float(r["utilisation"])
            r["w"] = float(r["measured_w"])
            yield r


def model(params, r):
    a, b, g = params
    return r["tdp"] * (a + (b - a) * r["u"] ** g)


def fit(data, grid=GRID, predict=None):
    """The grid point with the least median relative error over data."""
    tdp = np.array([r["tdp"] for r in data])
    u = np.array([r["u"] for r in data])
    w = np.array([r["w"] for r in data])
    a, b, g = (x[:, None] for x in grid[:3])
    est = predict(grid, data) if predict else tdp * (a + (b - a) * u ** g)
    i = int(np.argmin(np.median(np.abs(est - w) / w, axis=1)))
    return tuple(round(float(x[i]), 4) for x in grid)


def freq_grid():
    axes = np.meshgrid(np.arange(0.04, 0.305, 0.02), np.arange(0.40, 1.205, 0.04),
                       np.arange(0.2, 1.25, 0.1), np.arange(0.0, 3.05, 0.5), indexing="ij")
    return [x.ravel() for x in axes]


def freq_model(params, r):
    """The variant tried and not shipped: the dynamic part scaled by the mean
    current frequency over the maximum, as scaling_cur_freq would give (only
    CodeCarbon's profiles record the frequency)."""
    a, b, g, al = params
    phi = min(1.0, float(r["freq_mhz"]) / float(r["max_mhz"]))
    return r["tdp"] * (a + (b - a) * r["u"] ** g * phi ** al)


def freq_predict(grid, data):
    a, b, g, al = (x[:, None] for x in grid)
    tdp = np.array([r["tdp"] for r in data])
    u = np.array([r["u"] for r in data])
    phi = np.array([min(1.0, float(r["freq_mhz"]) / float(r["max_mhz"])) for r in data])
    return tdp * (a + (b - a) * u ** g * phi ** al)


def teads(r):
    """The Teads/Boavizta curve x TDP (Davy 2021), wattprint's first model."""
    xs, ys = [0, 0.1, 0.5, 1.0], [0.12, 0.32, 0.75, 1.02]
    u = min(max(r["u"], 0.0), 1.0)
    for i in range(1, 4):
        if u <= xs[i]:
            return r["tdp"] * (ys[i - 1] + (ys[i] - ys[i - 1]) * (u - xs[i - 1]) / (xs[i] - xs[i - 1]))
    return r["tdp"] * ys[3]


def ccf(r):
    return int(r["threads"]) * (CCF[0] + r["u"] * (CCF[1] - CCF[0]))


def errors(predict, data):
    """{cpu: [relative errors]}"""
    out = {}
    for r in data:
        out.setdefault(r["cpu"], []).append(abs(predict(r) - r["w"]) / r["w"])
    return out


def report(title, errs):
    every = [e for v in errs.values() for e in v]
    medians = {cpu: statistics.median(v) for cpu, v in errs.items()}
    print("%s: median %.1f %% over %d points of %d CPUs, %d CPUs above 40 %%" %
          (title, 100 * statistics.median(every), len(every), len(errs),
           sum(m > 0.40 for m in medians.values())))
    for cpu, v in sorted(errs.items()):
        print("  %-42s median %5.1f %%  worst %5.1f %%  (%d points)" %
              (cpu, 100 * medians[cpu], 100 * max(v), len(v)))


def percentile(values, q):
    values = sorted(values)
    k = (len(values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def leave_one_cpu_out(scored, fitter, predict):
    errs, ratios = {}, []
    for cpu in sorted({r["cpu"] for r in scored}):
        p = fitter([r for r in scored if r["cpu"] != cpu])
        test = [r for r in scored if r["cpu"] == cpu]
        errs.update(errors(lambda r: predict(p, r), test))
        ratios += [r["w"] / predict(p, r) for r in test]
    return errs, ratios


def main():
    data = list(rows())
    scored = [r for r in data if r["role"] in ("fit", "holdout")]
    fitted = fit([r for r in scored if r["role"] == "fit"])
    print("fitted on the fit CPUs: a=%.2f b=%.2f g=%.2f (shipped %s)" % (fitted + (SHIPPED,)))
    held = [r for r in scored if r["role"] == "holdout"]
    report("held-out CPUs, shipped model", errors(lambda r: model(SHIPPED, r), held))
    report("all CPUs, shipped model", errors(lambda r: model(SHIPPED, r), scored))
    loco, ratios = leave_one_cpu_out(scored, fit, model)
    report("leave one CPU out (refitted without it)", loco)
    lo, hi = percentile(ratios, 0.05), percentile(ratios, 0.95)
    print("measured / estimated, leave one CPU out: 5th percentile %.2f, 95th %.2f" % (lo, hi))
    inside = [lo <= r["w"] / model(SHIPPED, r) <= hi for r in held]
    print("the shipped range [%.2f, %.2f] holds %d of %d held-out phases (%.0f %%)" %
          (lo, hi, sum(inside), len(inside), 100.0 * sum(inside) / len(inside)))
    codecarbon = [r for r in scored if r["source"].startswith("CodeCarbon")]
    others = [r for r in scored if not r["source"].startswith("CodeCarbon")]
    for source in ("CodeCarbon", "Teads", "Boavizta"):
        rows_ = [r for r in scored if r["source"].startswith(source)]
        print("by source, %-10s (%d phases): shipped curve median %.1f %%, former curve %.1f %%" %
              (source, len(rows_),
               100 * statistics.median(abs(model(SHIPPED, r) - r["w"]) / r["w"] for r in rows_),
               100 * statistics.median(abs(model(PREVIOUS, r) - r["w"]) / r["w"] for r in rows_)))
    report("previous curve (fitted on CodeCarbon's four) on the other CPUs",
           errors(lambda r: model(PREVIOUS, r), others))

    loco, _ = leave_one_cpu_out(codecarbon, lambda d: fit(d, freq_grid(), freq_predict),
                                freq_model)
    report("frequency variant (not shipped), CodeCarbon's CPUs, leave one CPU out", loco)
    loco, _ = leave_one_cpu_out(codecarbon, fit, model)
    report("shipped form, the same four CPUs, leave one CPU out", loco)

    report("per-thread model (VMs), all CPUs", errors(ccf, scored))
    ratios = [r["w"] / ccf(r) for r in scored]
    print("measured / estimated, per-thread model: 5th percentile %.2f, 95th %.2f" %
          (percentile(ratios, 0.05), percentile(ratios, 0.95)))
    report("Teads curve x TDP, all CPUs", errors(teads, scored))
    report("CodeCarbon's own estimate, its four CPUs",
           errors(lambda r: float(r["codecarbon_w"]), codecarbon))
    for role in ("suspect", "superseded"):
        report("%s rows (not scored), shipped model" % role,
               errors(lambda r: model(SHIPPED, r), [r for r in data if r["role"] == role]))


def ram_check():
    print("memory, per-DIMM model against published measurements:")
    with open(os.path.join(ROOT, "data", "dram_power.csv")) as f:
        for r in csv.DictReader(f):
            est = int(r["dimms"]) * DIMM[0 if r["state"] == "idle" else 1]
            w = float(r["measured_w"])
            print("  %-30s %-7s %5.2f W measured, %5.2f W estimated, %+4.0f %% (%s, %s)" %
                  (r["id"], r["role"], w, est, 100 * (est - w) / w, r["state"], r["boundary"]))


if __name__ == "__main__":
    main()
    ram_check()
